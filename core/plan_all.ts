/**
 * Planning a whole set of objects at once, as `kubemirror plan` does: every source, every mirror whose
 * source is gone, sorted as docs/CONTRACT.md §7 describes the plan document.
 *
 * @example
 * ```ts
 * import { planAll } from "./plan_all.ts";
 * import { DEFAULT_CONFIG } from "./config.ts";
 * import { kindPolicy } from "./mirrorable.ts";
 * import assert from "node:assert/strict";
 * const doc = planAll({ objects: [], namespaces: [], config: DEFAULT_CONFIG, time: { now: "2026-01-01T00:00:00Z" },
 *   kindPolicy: (gk) => kindPolicy(gk, undefined) });
 * assert.deepEqual(doc, { actions: [], errors: [], warnings: [] });
 * ```
 * @module
 */
import type { LinkScope } from "./cluster_link.ts";
import type { MirrorConfig } from "./config.ts";
import { ANNOTATION_PULL_FROM, FINALIZER, LABEL_ENABLED } from "./markers.ts";
import { mirrorSourceOf } from "./ownership.ts";
import { type GroupKind, groupKindOf, kindLabel, objectGroupKindKey } from "./group_kind.ts";
import { type PlanAction, type PlanError, type PlanWarning, sortActions } from "./plan.ts";
import { planKey } from "./plan_key.ts";
import { isPullingObject, parsePullFrom } from "./pull.ts";
import type { RenderClock } from "./render.ts";
import { isEnabledSource } from "./source_spec.ts";
import { type KubeObject, type NamespaceInfo, type SourceRef, sourceRef } from "./types.ts";

/** Everything a whole plan needs. */
export interface PlanInput {
  /** Every object but namespaces: sources, mirrors and anything else in target namespaces. */
  objects: readonly KubeObject[];
  namespaces: readonly NamespaceInfo[];
  config: MirrorConfig;
  time: RenderClock;
  /** Why a kind may not be mirrored, or undefined when it may (the kind policy of mirrorable.ts). */
  kindPolicy: (gk: GroupKind) => string | undefined;
  /** Write verbs the controller's identity lacks on a kind, and the resource as RBAC names it (§2). */
  missingRights?: (gk: GroupKind) => { verbs: readonly string[]; resource: string } | undefined;
  /**
   * The links (§10) and the sources read through each: the upstream's labelled objects. Absent: the links
   * are not known (manifests, or a reader who may not read them), and mirrors of links are not planned.
   */
  links?: readonly { link: LinkScope; sources: readonly KubeObject[]; unreadableKinds?: readonly string[] }[];
}

/** The plan document (docs/CONTRACT.md §7). */
export interface PlanDocument {
  actions: PlanAction[];
  errors: PlanError[];
  /** Notes for sources that are planned all the same (no targets, an odd transform-strict value). */
  warnings: PlanWarning[];
}

const key = (gk: string, ns: string, name: string, cluster = "") => `${cluster}|${gk}|${ns}|${name}`;

/**
 * Plans every key in `objects`: each source (enabled, named by a mirror, or still holding our finalizer)
 * and each set of mirrors whose source is missing, all through {@link planKey}.
 */
export function planAll(input: PlanInput): PlanDocument {
  const byKind = new Map<string, KubeObject[]>();
  // Labelled objects by namespace/name, of every kind: what a pulling object may name (§9).
  const labelled = new Map<string, KubeObject[]>();
  for (const o of input.objects) {
    const gk = objectGroupKindKey(o);
    const list = byKind.get(gk) ?? [];
    list.push(o);
    byKind.set(gk, list);
    if (o.metadata?.labels?.[LABEL_ENABLED] === "true") {
      const at = `${o.metadata?.namespace}/${o.metadata?.name}`;
      labelled.set(at, [...(labelled.get(at) ?? []), o]);
    }
  }
  const pullInputs = (o: KubeObject | undefined) => {
    if (!o || !isPullingObject(o)) return {};
    const from = parsePullFrom(o.metadata?.annotations?.[ANNOTATION_PULL_FROM]);
    const named = from ? labelled.get(`${from.namespace}/${from.name}`) ?? [] : [];
    const gk = objectGroupKindKey(o);
    return {
      pulled: named.find((n) => objectGroupKindKey(n) === gk),
      pulledElsewhere: named.filter((n) => objectGroupKindKey(n) !== gk).map((n) =>
        kindLabel(groupKindOf(n))
      ),
    };
  };
  const actions: PlanAction[] = [];
  const errors: PlanError[] = [];
  const warnings: PlanWarning[] = [];
  // Link sources (§10) by kind; their keys carry the cluster.
  const linkSources = new Map<string, { link: LinkScope; source: KubeObject }[]>();
  for (const l of input.links ?? []) {
    for (const source of l.sources) {
      const gk = objectGroupKindKey(source);
      linkSources.set(gk, [...(linkSources.get(gk) ?? []), { link: l.link, source }]);
      if (!byKind.has(gk)) byKind.set(gk, []);
    }
  }
  // A kind the link may not read is planned as the controller plans it: as down, its mirrors kept.
  const linkOf = (cluster: string, gk: string) => {
    const l = (input.links ?? []).find((l) => l.link.cluster === cluster);
    return l && (l.unreadableKinds ?? []).includes(gk) ? { ...l.link, up: false } : l?.link;
  };
  for (const [gk, objects] of byKind) {
    const fromLinks = linkSources.get(gk) ?? [];
    const first = objects[0] ?? fromLinks[0].source;
    const denied = input.kindPolicy(groupKindOf(first));
    // Every key: a non-mirror object that is a source (or was), every link source, and every source a
    // mirror names.
    const keys = new Map<string, SourceRef>();
    const present = new Map<string, KubeObject>();
    for (const o of objects) {
      const ns = o.metadata?.namespace ?? "";
      const name = o.metadata?.name ?? "";
      const owner = mirrorSourceOf(o);
      if (owner) {
        keys.set(key(gk, owner.namespace, name, owner.cluster), {
          apiVersion: o.apiVersion ?? "",
          kind: o.kind ?? "",
          namespace: owner.namespace,
          name,
          ...(owner.cluster ? { cluster: owner.cluster } : {}),
        });
        continue;
      }
      present.set(key(gk, ns, name), o);
      if (isEnabledSource(o) || isPullingObject(o) || (o.metadata?.finalizers ?? []).includes(FINALIZER)) {
        keys.set(key(gk, ns, name), sourceRef(o));
      }
    }
    for (const { link, source } of fromLinks) {
      const ref = { ...sourceRef(source), cluster: link.cluster };
      keys.set(key(gk, ref.namespace, ref.name, link.cluster), ref);
      present.set(key(gk, ref.namespace, ref.name, link.cluster), source);
    }
    const sources = objects.filter((o) => !mirrorSourceOf(o) && isEnabledSource(o));
    for (const [k, ref] of keys) {
      const source = present.get(k);
      const name = ref.name;
      if (ref.cluster && input.links === undefined) continue;
      const link = ref.cluster ? linkOf(ref.cluster, gk) : undefined;
      const plan = planKey({
        ref: source && !ref.cluster ? sourceRef(source) : ref,
        source,
        observed: objects.filter((o) => o.metadata?.name === name),
        peers: sources.filter((p) => p !== source && p.metadata?.name === name),
        linkPeers: fromLinks.filter((p) => p.source !== source && p.source.metadata?.name === name),
        namespaces: input.namespaces,
        config: input.config,
        time: input.time,
        kindDenied: denied,
        missingRights: input.missingRights?.(groupKindOf(first)),
        ...(link ? { link } : {}),
        ...(ref.cluster ? {} : pullInputs(source)),
      });
      actions.push(...plan.actions);
      errors.push(...plan.errors);
      warnings.push(...plan.warnings);
    }
  }
  // Code-point order, as sortActions uses: the runtime's locale never changes the document.
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  const bySource = (a: { source: SourceRef }, b: { source: SourceRef }) =>
    cmp(a.source.namespace, b.source.namespace) || cmp(a.source.name, b.source.name) ||
    cmp(a.source.kind, b.source.kind);
  errors.sort((a, b) => bySource(a, b) || cmp(a.namespace ?? "", b.namespace ?? ""));
  warnings.sort((a, b) => bySource(a, b) || cmp(a.key, b.key));
  return { actions: sortActions(actions), errors, warnings };
}

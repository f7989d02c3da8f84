/**
 * Planning a whole set of objects at once, as `kubemirror plan` does: every source, every mirror whose
 * source is gone, sorted as the contract's plan document (section 7).
 *
 * @example
 * ```ts
 * import { planAll } from "./plan_all.ts";
 * import { DEFAULT_CONFIG } from "./config.ts";
 * import { denyReason } from "./mirrorable.ts";
 * const doc = planAll({ objects: [], namespaces: [], config: DEFAULT_CONFIG, time: { now: "2026-01-01T00:00:00Z" },
 *   kindAllowed: (group, kind) => denyReason(group, kind, false) });
 * // doc → { actions: [], errors: [] }
 * ```
 * @module
 */
import type { MirrorConfig } from "./config.ts";
import { FINALIZER } from "./keys.ts";
import { mirrorSourceOf } from "./ownership.ts";
import { groupKind, type PlanAction, type PlanError, planOrphans, planSource, sortActions } from "./plan.ts";
import type { RenderClock } from "./render.ts";
import { isEnabledSource } from "./source_spec.ts";
import { groupOf, type KubeObject, type NamespaceInfo, sourceRef } from "./types.ts";

/** Everything a whole plan needs. */
export interface PlanInput {
  /** Every object but namespaces: sources, mirrors and anything else in target namespaces. */
  objects: readonly KubeObject[];
  namespaces: readonly NamespaceInfo[];
  config: MirrorConfig;
  time: RenderClock;
  /** Why a kind may not be mirrored, or undefined when it may. */
  kindAllowed: (group: string, kind: string) => string | undefined;
}

/** The contract's plan document. */
export interface PlanDocument {
  actions: PlanAction[];
  errors: PlanError[];
}

const key = (gk: string, ns: string, name: string) => `${gk}|${ns}|${name}`;

/** Plans every source in `objects`, and deletes for mirrors whose source is missing. */
export function planAll(input: PlanInput): PlanDocument {
  const byKind = new Map<string, KubeObject[]>();
  for (const o of input.objects) {
    const gk = groupKind(o);
    const list = byKind.get(gk) ?? [];
    list.push(o);
    byKind.set(gk, list);
  }
  const actions: PlanAction[] = [];
  const errors: PlanError[] = [];
  for (const [gk, objects] of byKind) {
    const present = new Map<string, KubeObject>();
    const named = new Set<string>();
    for (const o of objects) {
      present.set(key(gk, o.metadata?.namespace ?? "", o.metadata?.name ?? ""), o);
      const owner = mirrorSourceOf(o);
      if (owner) named.add(key(gk, owner.namespace, o.metadata?.name ?? ""));
    }
    const sources = objects.filter((o) => {
      if (mirrorSourceOf(o)) return false;
      const k = key(gk, o.metadata?.namespace ?? "", o.metadata?.name ?? "");
      return isEnabledSource(o) || named.has(k) || (o.metadata?.finalizers ?? []).includes(FINALIZER);
    });
    const first = objects[0];
    const denied = input.kindAllowed(groupOf(first.apiVersion ?? ""), first.kind ?? "");
    for (const source of sources) {
      const ref = sourceRef(source);
      if (denied) {
        if (isEnabledSource(source)) errors.push({ source: ref, message: denied });
        actions.push(...planOrphans(ref, objects, denied));
        continue;
      }
      const peers = sources.filter((p) => p !== source && p.metadata?.name === ref.name);
      const plan = planSource(source, {
        namespaces: input.namespaces,
        observed: objects,
        peers,
        config: input.config,
        time: input.time,
      });
      actions.push(...plan.actions);
      errors.push(...plan.errors);
    }
    const orphanSources = new Set<string>();
    for (const o of objects) {
      const owner = mirrorSourceOf(o);
      if (!owner) continue;
      const k = key(gk, owner.namespace, o.metadata?.name ?? "");
      const src = present.get(k);
      if (src && !mirrorSourceOf(src)) continue;
      if (orphanSources.has(k)) continue;
      orphanSources.add(k);
      const ref = {
        apiVersion: o.apiVersion ?? "",
        kind: o.kind ?? "",
        namespace: owner.namespace,
        name: o.metadata?.name ?? "",
      };
      actions.push(...planOrphans(ref, objects, "the source no longer exists"));
    }
  }
  errors.sort((a, b) =>
    a.source.namespace.localeCompare(b.source.namespace) || a.source.name.localeCompare(b.source.name) ||
    a.source.kind.localeCompare(b.source.kind) || (a.namespace ?? "").localeCompare(b.namespace ?? "")
  );
  return { actions: sortActions(actions), errors };
}

/**
 * The per-namespace half of a plan (docs/CONTRACT.md §4): where a valid source goes (its resolution) and
 * what sits at its name there → one action per namespace. Shared by the full plan ({@link planSource})
 * and the plan of the namespaces that changed ({@link planNamespaces}), so that the two never decide a
 * namespace differently.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planTargets } from "./plan_targets.ts";
 * import { DEFAULT_CONFIG } from "./config.ts";
 * import { prepareSource } from "./render.ts";
 * const source = { apiVersion: "v1", kind: "ConfigMap", data: { a: "1" }, metadata: { name: "cfg", namespace: "default" } };
 * const prepared = prepareSource(source, { strict: false }, DEFAULT_CONFIG);
 * const { actions } = planTargets({ ref: { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "cfg" },
 *   resolution: { targets: ["app1"], pending: [], skipped: [] }, atTarget: new Map(), claims: [], prepared,
 *   config: DEFAULT_CONFIG, time: { now: "2026-01-01T00:00:00Z" } });
 * assert.equal(actions[0].action, "create");
 * ```
 * @module
 */
import type { MirrorConfig } from "./config.ts";
import { driftOf, needsRecreate } from "./drift.ts";
import { ANNOTATION_SOURCE_CONTENT_HASH } from "./markers.ts";
import { adoptsFor, isMirrorOf, type MirrorOwner, mirrorSourceOf, ownerName } from "./ownership.ts";
import type { PlanAction, PlanError } from "./plan.ts";
import type { PlanMemo } from "./plan_memo.ts";
import { type PreparedSource, type RenderClock, renderPrepared } from "./render.ts";
import type { Resolution } from "./targets.ts";
import type { KubeObject, SourceRef } from "./types.ts";

/** Another valid source of the same kind and name, coming first, and the namespaces it targets. */
export interface Claim {
  owner: MirrorOwner;
  targets: Set<string>;
}

/** What {@link planTargets} decides on. */
export interface TargetsInput {
  ref: SourceRef;
  resolution: Resolution;
  /**
   * The objects of the source's kind at its name, by namespace: in every namespace the resolution names,
   * and wherever a mirror of the source may be. A mirror in a namespace the resolution does not target
   * is deleted.
   */
  atTarget: ReadonlyMap<string, KubeObject>;
  /** Sources that come first for the same name ({@link Claim}). */
  claims: readonly Claim[];
  prepared: PreparedSource;
  /** The mirrors an earlier plan found in sync ({@link knownInSync}). */
  known?: ReadonlyMap<string, string>;
  config: MirrorConfig;
  time: RenderClock;
}

/** The actions (sorted by namespace), the errors (in namespace order) and the mirrors found in sync. */
export interface TargetsPlan {
  actions: PlanAction[];
  errors: PlanError[];
  inSync: Map<string, string>;
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** One action per namespace of the resolution, and a delete for each mirror of the source elsewhere. */
export function planTargets(t: TargetsInput): TargetsPlan {
  const { ref, resolution, prepared } = t;
  const name = ref.name;
  const left = new Map(t.atTarget);
  const pending = new Set(resolution.pending);
  const actions: PlanAction[] = [];
  const errors: PlanError[] = [];
  const inSync = new Map<string, string>();
  for (const ns of resolution.targets) {
    const observed = left.get(ns);
    const rv = observed?.metadata?.resourceVersion;
    const decided = decideTarget({
      ref,
      namespace: ns,
      observed,
      pending: pending.has(ns),
      rival: t.claims.find((c) => c.targets.has(ns))?.owner,
      render: () => renderPrepared(prepared, ns, t.config, t.time),
      hash: prepared.hash,
      knownInSync: rv !== undefined && t.known?.get(ns) === rv,
    });
    left.delete(ns);
    actions.push(decided.action);
    errors.push(...decided.errors);
    if (decided.action.action === "unchanged" && decided.errors.length === 0 && rv !== undefined) {
      inSync.set(ns, rv);
    }
  }
  // Namespaces left out: a skip each, and a delete where our mirror is still there.
  const skippedReason = new Map(resolution.skipped.map((s) => [s.namespace, s.reason]));
  for (const s of resolution.skipped) {
    const observed = left.get(s.namespace);
    if (observed && isMirrorOf(observed, ref)) continue;
    actions.push({
      action: "skip",
      source: ref,
      target: { namespace: s.namespace, name },
      code: s.code,
      reason: s.reason,
    });
  }
  for (const [ns, observed] of left) {
    if (!isMirrorOf(observed, ref)) continue;
    actions.push({
      action: "delete",
      source: ref,
      target: { namespace: ns, name },
      reason: skippedReason.get(ns) ?? `namespace "${ns}" is no longer a target`,
      observedResourceVersion: observed.metadata?.resourceVersion,
    });
  }
  actions.sort((a, b) => cmp(a.target.namespace, b.target.namespace));
  return { actions, errors, inSync };
}

/**
 * The mirrors an earlier plan found in sync (with no transform failure) that render the same now. Without
 * a transform, a mirror's render depends on the prepared source's content hash and its namespace's name.
 * A transform also reads the source's labels and annotations, some of which the hash leaves out, and the
 * flags' limits: its mirrors are known only while the very source (uid, resourceVersion; or the same but for
 * the controller's own `sync-status`, which templates do not see: `rebaseMemo`) and flags are.
 */
export function knownInSync(
  memo: PlanMemo | undefined,
  prepared: PreparedSource,
  config: MirrorConfig,
): ReadonlyMap<string, string> | undefined {
  if (!memo || memo.prepared.hash !== prepared.hash) return undefined;
  if (prepared.spec.transform && (memo.prepared !== prepared || memo.config !== config)) return undefined;
  return memo.inSync;
}

/** One target namespace of a valid source, as {@link decideTarget} sees it. */
interface TargetInput {
  ref: SourceRef;
  namespace: string;
  /** The object of the source's kind at the source's name in that namespace, if any. */
  observed?: KubeObject;
  /** The namespace is named but does not exist yet. */
  pending: boolean;
  /** Another valid source, coming first, that claims the same name there (no mirror exists yet). */
  rival?: MirrorOwner;
  /** The desired mirror, rendered only when the decision needs it (the costly step). */
  render: () => ReturnType<typeof renderPrepared>;
  /** The prepared source's content hash (the same for every target). */
  hash: string;
  /** An earlier plan found this very mirror (same resourceVersion) in sync, and it would render the same. */
  knownInSync: boolean;
}

/** What to do in one target namespace, and what is wrong there: the per-target ladder of §4. */
function decideTarget(t: TargetInput): { action: PlanAction; errors: PlanError[] } {
  const { ref, namespace: ns, observed } = t;
  const name = ref.name;
  const target = { namespace: ns, name };
  const step = (a: Omit<PlanAction, "source" | "target">, errors: PlanError[] = []) => ({
    action: { source: ref, target, ...a },
    errors,
  });
  const error = (kind: PlanError["kind"], message: string): PlanError => ({
    source: ref,
    kind,
    namespace: ns,
    message,
  });
  if (t.pending) {
    return step({ action: "skip", code: "pending", reason: `namespace "${ns}" does not exist yet` });
  }
  const ours = observed !== undefined && isMirrorOf(observed, ref);
  if (observed && !ours && !adoptsFor(observed, ref)) {
    const owner = mirrorSourceOf(observed);
    const reason = owner
      ? `${ns}/${name} is a mirror of ${ownerName(owner)}`
      : ref.cluster
      ? `${ns}/${name} exists and is not a mirror of cluster "${ref.cluster}"; it is left alone`
      : `${ns}/${name} exists and is not managed by KubeMirror; annotate it ` +
        `kubemirror.raczylo.com/adopt=${ref.namespace}/${name} to let this source take it over`;
    return step({ action: "conflict", reason }, [error("conflict", `conflict in ${ns}: ${reason}`)]);
  }
  if (!observed && t.rival !== undefined) {
    const reason = `${ns}/${name} is also claimed by ${ownerName(t.rival)}, which comes first`;
    return step({ action: "conflict", reason }, [error("conflict", `conflict in ${ns}: ${reason}`)]);
  }
  if (observed?.metadata?.deletionTimestamp) {
    return step({ action: "skip", code: "deleting", reason: `${ns}/${name} is being deleted` });
  }
  if (
    ours && t.knownInSync && observed.metadata?.annotations?.[ANNOTATION_SOURCE_CONTENT_HASH] === t.hash
  ) {
    return step({ action: "unchanged" });
  }
  const rendered = t.render();
  const errors = rendered.failures.map((f) => error("transform", `transform in ${ns}: ${f.message}`));
  if (rendered.blocked) {
    if (rendered.failures.length === 0) {
      errors.push(error("transform", `transform in ${ns}: ${rendered.blocked}`));
    }
    return step({ action: "skip", code: "blocked", reason: rendered.blocked }, errors);
  }
  if (!observed) return step({ action: "create", object: rendered.object }, errors);
  const observedResourceVersion = observed.metadata?.resourceVersion;
  const recreate = needsRecreate(rendered.object, observed) || undefined;
  if (!ours) {
    const reason = "adopted: the object's owner consented with kubemirror.raczylo.com/adopt";
    return step(
      { action: "update", reason, object: rendered.object, recreate, observedResourceVersion },
      errors,
    );
  }
  const observedHash = observed.metadata?.annotations?.[ANNOTATION_SOURCE_CONTENT_HASH];
  if (observedHash !== rendered.hash) {
    const reason = "the source changed";
    return step(
      { action: "update", reason, object: rendered.object, recreate, observedResourceVersion },
      errors,
    );
  }
  const drift = driftOf(rendered.object, observed);
  if (drift === undefined) return step({ action: "unchanged" }, errors);
  return step({
    action: "update",
    reason: `the mirror was edited (${drift}); reverting`,
    object: rendered.object,
    recreate,
    drift,
    observedResourceVersion,
  }, errors);
}

/**
 * A source planned again for the namespaces that changed since its last plan only: a namespace created,
 * relabelled or deleted, a mirror edited or written. The rest of the last plan is carried over as it was,
 * so a new namespace costs the same under a source with ten targets or ten thousand. The plan is the one
 * {@link planSource} would make (fast-check properties hold them to it); where a change may reach past the
 * namespaces named (a target cap, another source claiming the same name, a source or flags that are not
 * the last plan's), there is no such plan and the source is planned in full.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planSource } from "./plan.ts";
 * import { planBase, planNamespaces } from "./plan_namespaces.ts";
 * import { DEFAULT_CONFIG } from "./config.ts";
 * const source = { apiVersion: "v1", kind: "ConfigMap", data: { a: "1" }, metadata: { name: "cfg", namespace: "default",
 *   uid: "u1", resourceVersion: "7", labels: { "kubemirror.raczylo.com/enabled": "true" },
 *   annotations: { "kubemirror.raczylo.com/sync": "true", "kubemirror.raczylo.com/target-namespaces": "app-*" } } };
 * const ctx = { config: DEFAULT_CONFIG, time: { now: "2026-01-01T00:00:00Z" } };
 * const app = (name: string) => ({ name, labels: {}, phase: "Active" as const });
 * const last = planSource(source, { ...ctx, namespaces: [app("app-1")], observed: [] });
 * const written = last.actions[0].object!;
 * const mirror = { ...written, metadata: { ...written.metadata, resourceVersion: "1" } };
 * // app-2 is created: it is looked at, and app-1 where the last plan wrote; nothing else.
 * const plan = planNamespaces(source, { ...ctx, namespaces: [app("app-1"), app("app-2")], observed: [mirror] },
 *   planBase(last), new Set(["app-2"]));
 * assert.deepEqual(plan?.actions.map((a) => `${a.action} ${a.target.namespace}`), ["unchanged app-1", "create app-2"]);
 * ```
 * @module
 */
import { objectGroupKindKey } from "./group_kind.ts";
import type { PlanAction, PlanContext, PlanError, SourcePlan } from "./plan.ts";
import { parseAndPrepare, type PlanMemo } from "./plan_memo.ts";
import { knownInSync, planTargets } from "./plan_targets.ts";
import { isEnabledSource } from "./source_spec.ts";
import { resolveTargets } from "./targets.ts";
import { type KubeObject, type SourceRef, sourceRef } from "./types.ts";

/**
 * What a plan leaves for the next {@link planNamespaces} of the same source: its actions, those that
 * found a mirror unchanged kept as their namespaces only (most of a plan, and all alike), the others
 * without the desired objects of their writes (whose namespaces are always planned again).
 */
export interface PlanBase {
  source: SourceRef;
  direction?: "pull";
  /** The namespaces where the plan found the source's mirror unchanged, in order. */
  unchanged: readonly string[];
  /** The plan's other actions, in namespace order. */
  actions: readonly PlanAction[];
  errors: readonly PlanError[];
  memo?: PlanMemo;
}

/**
 * `kept` (in namespace order) without the namespaces in `replan`, and `fresh` (in namespace order, all in
 * `replan`) among them: one pass, however long the plan.
 */
function merge<T>(
  kept: readonly T[],
  fresh: readonly T[],
  replan: ReadonlySet<string>,
  ns: (t: T) => string,
): T[] {
  const out: T[] = [];
  let i = 0;
  for (const k of kept) {
    const at = ns(k);
    if (replan.has(at)) continue;
    while (i < fresh.length && ns(fresh[i]) < at) out.push(fresh[i++]);
    out.push(k);
  }
  while (i < fresh.length) out.push(fresh[i++]);
  return out;
}

/**
 * The namespaces to plan again: those that changed, those where the last plan wrote (what came of its
 * writes is in the caches now), and those where it met an object it does not own (a conflict: objects
 * that are not the source's mirrors wake other sources, or none, when they change or go).
 */
export function namespacesToReplan(last: PlanBase, changed: Iterable<string>): Set<string> {
  const replan = new Set(changed);
  for (const a of last.actions) {
    if (a.action === "conflict" || isWrite(a)) replan.add(a.target.namespace);
  }
  return replan;
}

/** What `plan` leaves for the next {@link planNamespaces} of the same source. */
export function planBase(plan: SourcePlan): PlanBase {
  const unchanged: string[] = [];
  const actions: PlanAction[] = [];
  for (const a of plan.actions) {
    if (a.action === "unchanged") unchanged.push(a.target.namespace);
    else if (a.object === undefined && a.patch === undefined) actions.push(a);
    else {
      const { object: _object, patch: _patch, ...rest } = a;
      actions.push(rest);
    }
  }
  return {
    source: plan.source,
    ...(plan.direction ? { direction: plan.direction } : {}),
    unchanged,
    actions,
    errors: plan.errors,
    ...(plan.memo ? { memo: plan.memo } : {}),
  };
}

/** The actions of `last`, in namespace order: those of its unchanged mirrors made again. */
function actionsOf(last: PlanBase, ref: SourceRef): PlanAction[] {
  const out: PlanAction[] = [];
  const others = last.actions;
  let j = 0;
  for (const ns of last.unchanged) {
    while (j < others.length && others[j].target.namespace < ns) out.push(others[j++]);
    out.push({ action: "unchanged", source: ref, target: { namespace: ns, name: ref.name } });
  }
  while (j < others.length) out.push(others[j++]);
  return out;
}

const isWrite = (a: PlanAction) => a.action === "create" || a.action === "update" || a.action === "delete";

/** Whether an action stands for a target namespace (not one left out, and not a mirror to delete). */
function isTarget(a: PlanAction): boolean {
  return a.action !== "delete" && !(a.action === "skip" && (a.code === "excluded" || a.code === "truncated"));
}

/**
 * Plans `source` again for the namespaces in `changed` (and where `last` wrote or met a conflict,
 * {@link namespacesToReplan}), carrying the rest of `last` over. `last` must be the plan of the same
 * source ({@link planBase}), made with the same flags when the cluster differed from now only in
 * those namespaces: their labels, phase or existence, and the objects at the source's name there. `ctx.namespaces` and
 * `ctx.observed` need cover only the namespaces planned again (others are ignored). Undefined when the
 * change may reach other namespaces, or `last` is not such a plan: then plan in full.
 */
export function planNamespaces(
  source: KubeObject,
  ctx: PlanContext,
  last: PlanBase,
  changed: ReadonlySet<string>,
): SourcePlan | undefined {
  const memo = last.memo;
  // Only a local source that pushed; no other source of the same name, whose claims span every namespace.
  if (!memo || ctx.link || last.direction || last.source.cluster !== undefined) return undefined;
  if ((ctx.peers?.length ?? 0) > 0 || (ctx.linkPeers?.length ?? 0) > 0) return undefined;
  if (!isEnabledSource(source) || source.metadata?.deletionTimestamp) return undefined;
  // The very source and flags of the last plan: anything else may change every mirror.
  const parsed = parseAndPrepare(source, ctx.config, undefined, memo);
  if (!parsed.ok || parsed.prepared !== memo.prepared) return undefined;
  if (last.errors.some((e) => e.namespace === undefined)) return undefined;
  if (last.actions.some((a) => a.action === "skip" && a.code === "truncated")) return undefined;
  const ref = sourceRef(source);
  const replan = namespacesToReplan(last, changed);
  const spec = parsed.spec;
  // Resolved without the cap, which alone depends on every namespace; the count is checked below.
  const here = ctx.namespaces.filter((n) => replan.has(n.name));
  const r = resolveTargets(
    { ...spec.targets, maxTargets: undefined },
    ref.namespace,
    here,
    { ...ctx.config, maxTargets: Infinity },
  );
  const resolution = {
    targets: r.targets.filter((n) => replan.has(n)),
    pending: r.pending.filter((n) => replan.has(n)),
    skipped: r.skipped.filter((s) => replan.has(s.namespace)),
  };
  const limit = Math.max(0, Math.min(ctx.config.maxTargets, spec.targets.maxTargets ?? Infinity));
  let targets = resolution.targets.length;
  for (const ns of last.unchanged) if (!replan.has(ns)) targets++;
  for (const a of last.actions) if (!replan.has(a.target.namespace) && isTarget(a)) targets++;
  // Past the cap, which namespaces are cut depends on all of them.
  if (targets > limit) return undefined;
  const gk = objectGroupKindKey(source);
  const atTarget = new Map<string, KubeObject>();
  for (const o of ctx.observed) {
    const ns = o.metadata?.namespace ?? "";
    if (replan.has(ns) && objectGroupKindKey(o) === gk && o.metadata?.name === ref.name) atTarget.set(ns, o);
  }
  const prepared = parsed.prepared;
  const part = planTargets({
    ref,
    resolution,
    atTarget,
    claims: [],
    prepared,
    known: knownInSync(memo, prepared, ctx.config),
    config: ctx.config,
    time: ctx.time,
  });
  // Both in namespace order, as the full plan lists them (errors too, each namespace's in its order).
  const actions = merge(actionsOf(last, ref), part.actions, replan, (a) => a.target.namespace);
  const errors = merge(last.errors, part.errors, replan, (e) => e.namespace ?? "");
  const inSync = new Map(memo.inSync);
  for (const ns of replan) inSync.delete(ns);
  for (const [ns, rv] of part.inSync) inSync.set(ns, rv);
  const next: PlanMemo = { ...memo, inSync };
  return {
    source: ref,
    actions,
    errors,
    warnings: parsed.warnings.map((w) => ({ source: ref, ...w })),
    memo: next,
  };
}

/**
 * The plan (docs/CONTRACT.md §4): desired mirrors against observed objects → create, update, delete,
 * unchanged, conflict or skip, one action per source and target namespace. Plans are data; the shell
 * carries them out. An object whose markers do not name the source is never updated or deleted unless
 * its owner annotated it `adopt` for that source.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { planSource } from "./plan.ts";
 * import { DEFAULT_CONFIG } from "./config.ts";
 * const source = { apiVersion: "v1", kind: "ConfigMap", data: { a: "1" }, metadata: { name: "cfg", namespace: "default",
 *   labels: { "kubemirror.raczylo.com/enabled": "true" },
 *   annotations: { "kubemirror.raczylo.com/sync": "true", "kubemirror.raczylo.com/target-namespaces": "app1" } } };
 * const plan = planSource(source, { namespaces: [{ name: "app1", labels: {}, phase: "Active" }], observed: [],
 *   config: DEFAULT_CONFIG, time: { now: "2026-01-01T00:00:00Z" } });
 * assert.equal(plan.actions[0].action, "create");
 * assert.equal(plan.actions[0].target.namespace, "app1");
 * ```
 * @module
 */
import type { MirrorConfig } from "./config.ts";
import { objectGroupKindKey } from "./group_kind.ts";
import { type LinkScope, namesCluster } from "./cluster_link.ts";
import { ANNOTATION_TARGET_CLUSTERS, DEFAULT_CLUSTER_NAME } from "./markers.ts";
import { isMirrorOf, type MirrorOwner } from "./ownership.ts";
import { parseAndPrepare, type PlanMemo, sourceConfig } from "./plan_memo.ts";
import { type Claim, knownInSync, planTargets } from "./plan_targets.ts";
import type { RenderClock } from "./render.ts";
import { isEnabledSource, parseSource, type SourceError } from "./source_spec.ts";
import { resolveTargets } from "./targets.ts";
import {
  type JsonObject,
  type KubeObject,
  type NamespaceInfo,
  type SourceRef,
  sourceRef,
  type TargetRef,
} from "./types.ts";

/** The kinds of action. */
export type ActionKind = "create" | "update" | "delete" | "unchanged" | "conflict" | "skip" | "pull";

/** One step of a plan. */
export interface PlanAction {
  action: ActionKind;
  source: SourceRef;
  target: TargetRef;
  /** Why, for conflict, skip, delete and update. */
  reason?: string;
  /** For skip: why, as a code. */
  code?: SkipCode;
  /** The full desired mirror, for create and update. */
  object?: KubeObject;
  /** For update: delete the observed object and create the desired one (immutable content changed). */
  recreate?: boolean;
  /**
   * For an update that reverts an edit of the mirror (the source did not change): the first path found
   * edited. The shell backs off per mirror when the same mirror keeps being edited.
   */
  drift?: string;
  /** For update, delete and pull: the observed object's resourceVersion, for optimistic concurrency. */
  observedResourceVersion?: string;
  /** `pull` when the target asked for the copy (§9); absent for pushed mirrors. */
  direction?: "pull";
  /** For pull: the merge patch of the pulling object (its content and the pull's annotations only). */
  patch?: JsonObject;
}

/**
 * What kind of problem a {@link PlanError} is: an `invalid` annotation (a typo: existing mirrors are
 * kept), a source that is `forbidden` to mirror (its mirrors are removed), a `conflict` with an object
 * that is not ours, a `transform` rule that failed, or a kind the controller's identity may read but not
 * write (`unwritable`: nothing is written or deleted until it may), or a pull that is `refused` (its §9
 * reason in {@link PlanError.reason}). Metrics and Event reasons are chosen
 * from this, never from the message.
 */
export type PlanErrorKind = "invalid" | "forbidden" | "conflict" | "transform" | "unwritable" | "refused";

/** Why a target namespace is skipped: it does not exist yet, the rules exclude it, it is past the cap,
 * its object is being deleted, or the transformation did not let the mirror be written. */
export type SkipCode = "pending" | "excluded" | "truncated" | "deleting" | "blocked" | "refused";

/** Something wrong with a source, for its Event and `sync-status`. */
export interface PlanError {
  source: SourceRef;
  kind: PlanErrorKind;
  message: string;
  /** The label or annotation at fault. */
  key?: string;
  /** The target namespace the error is about, when it is about one. */
  namespace?: string;
  /** The Event reason when the kind alone does not say it (a refused pull: `SourceNotFound`, …). */
  reason?: string;
}

/** Something the source's author should know that does not stop the source (an Event, not an error). */
export interface PlanWarning {
  source: SourceRef;
  /** The annotation it is about. */
  key: string;
  /** The Event reason. */
  reason: string;
  message: string;
}

/** The plan of one key: a source and its mirrors, or an object that pulls (`direction: "pull"`). */
export interface SourcePlan {
  source: SourceRef;
  actions: PlanAction[];
  errors: PlanError[];
  warnings: PlanWarning[];
  direction?: "pull";
  /** For a pulling object: its `sync-status` once the plan is carried out (`pulled`, `error:<Reason>`). */
  pullStatus?: string;
  /** What the next plan of the same source may reuse ({@link PlanContext.memo}); set for a valid source. */
  memo?: PlanMemo;
}

/** What planning one source needs besides the source. */
export interface PlanContext {
  namespaces: readonly NamespaceInfo[];
  /**
   * Observed objects of the source's kind: at least every mirror of this source and any object at the
   * source's name in a target namespace. Objects of other kinds are ignored.
   */
  observed: readonly KubeObject[];
  /** Other sources of the same kind and name, for two sources claiming one name. */
  peers?: readonly KubeObject[];
  /** Sources of the same kind and name read through links (§10); local sources come before them. */
  linkPeers?: readonly LinkPeer[];
  config: MirrorConfig;
  time: RenderClock;
  /** When the source was read through a link (§10): the link. Absent for a local source. */
  link?: LinkScope;
  /**
   * What an earlier plan of this source left ({@link SourcePlan.memo}). It never changes a plan: it
   * spares parsing and hashing a source that kept its uid and resourceVersion, and rendering every
   * target again when one namespace changed.
   */
  memo?: PlanMemo;
}

/** A source read through a link, as a peer of another source of the same name. */
export interface LinkPeer {
  link: LinkScope;
  source: KubeObject;
}

/**
 * The reason for deleting the mirrors of a source that is gone or no longer enabled. The two read the
 * same: the controller's label-filtered cache cannot tell them apart, and `kubemirror plan` must say
 * what the controller does.
 */
export const SOURCE_GONE = "the source was deleted or is no longer enabled for mirroring";

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Deletes for every observed mirror of `ref`; used when the source is gone, disabled or not allowed. */
export function planOrphans(ref: SourceRef, observed: readonly KubeObject[], reason: string): PlanAction[] {
  const gk = objectGroupKindKey(ref);
  return observed
    .filter((o) => objectGroupKindKey(o) === gk && o.metadata?.name === ref.name && isMirrorOf(o, ref))
    .map((o): PlanAction => ({
      action: "delete",
      source: ref,
      target: { namespace: o.metadata?.namespace ?? "", name: o.metadata?.name ?? "" },
      reason,
      observedResourceVersion: o.metadata?.resourceVersion,
    }))
    .sort((a, b) => cmp(a.target.namespace, b.target.namespace));
}

/**
 * Plans one source, present in the cluster (or, with `ctx.link`, in the link's upstream), whether enabled
 * or not.
 */
export function planSource(source: KubeObject, ctx: PlanContext): SourcePlan {
  const ref = ctx.link ? { ...sourceRef(source), cluster: ctx.link.cluster } : sourceRef(source);
  if (!isEnabledSource(source)) {
    return { source: ref, actions: planOrphans(ref, ctx.observed, SOURCE_GONE), errors: [], warnings: [] };
  }
  if (source.metadata?.deletionTimestamp) {
    return {
      source: ref,
      actions: planOrphans(ref, ctx.observed, "the source is being deleted"),
      errors: [],
      warnings: [],
    };
  }
  const parsed = parseAndPrepare(source, ctx.config, ctx.link, ctx.memo);
  if (!parsed.ok) {
    const errors = parsed.errors.map((e: SourceError): PlanError => ({
      source: ref,
      kind: e.key === undefined ? "forbidden" : "invalid",
      message: e.message,
      key: e.key,
    }));
    // A source that may never be mirrored loses its mirrors; a typo in an annotation does not delete anything.
    const forbidden = parsed.errors.some((e) => e.key === undefined);
    const actions = forbidden ? planOrphans(ref, ctx.observed, parsed.errors[0].message) : [];
    return { source: ref, actions, errors, warnings: [] };
  }
  const spec = parsed.spec;
  const cluster = ctx.config.clusterName ?? DEFAULT_CLUSTER_NAME;
  if (!namesCluster(spec.clusters, cluster, ctx.link !== undefined)) {
    // Not for this cluster (§10): nothing here, and what was mirrored before goes.
    const reason = spec.clusters === undefined
      ? `the source names no cluster (${ANNOTATION_TARGET_CLUSTERS}): it is for its own cluster only`
      : `${ANNOTATION_TARGET_CLUSTERS} does not name this cluster ("${cluster}")`;
    return { source: ref, actions: planOrphans(ref, ctx.observed, reason), errors: [], warnings: [] };
  }
  const warnings = parsed.warnings.map((w): PlanWarning => ({ source: ref, ...w }));
  const gk = objectGroupKindKey(source);
  const atTarget = new Map<string, KubeObject>();
  for (const o of ctx.observed) {
    if (objectGroupKindKey(o) === gk && o.metadata?.name === ref.name) {
      atTarget.set(o.metadata?.namespace ?? "", o);
    }
  }
  const prepared = parsed.prepared;
  const { actions, errors, inSync } = planTargets({
    ref,
    resolution: resolveTargets(spec.targets, ref.namespace, ctx.namespaces, ctx.config, ctx.link),
    atTarget,
    claims: peerClaims(source, ctx),
    prepared,
    known: knownInSync(ctx.memo, prepared, ctx.config),
    config: ctx.config,
    time: ctx.time,
  });
  const memo: PlanMemo = {
    uid: source.metadata?.uid,
    resourceVersion: source.metadata?.resourceVersion,
    config: ctx.config,
    cluster: ctx.link?.cluster,
    spec,
    warnings: parsed.warnings,
    prepared,
    inSync,
  };
  return { source: ref, actions, errors, warnings, memo };
}

/** The order in which sources claim a name: local sources first, then links by cluster; then by namespace. */
const claimOrder = (o: MirrorOwner) => `${o.cluster ?? ""}\u0000${o.namespace}`;

/**
 * Peers of the same kind and name that come before this source and are valid, enabled sources for this
 * cluster: where no mirror exists yet, the first of them gets the name and the others a conflict.
 */
function peerClaims(source: KubeObject, ctx: PlanContext): Claim[] {
  const me = { ...sourceRef(source), cluster: ctx.link?.cluster };
  const gk = objectGroupKindKey(source);
  const claims: Claim[] = [];
  const candidates = [
    ...(ctx.peers ?? []).map((source) => ({ source, link: undefined as LinkScope | undefined })),
    ...(ctx.linkPeers ?? []),
  ];
  for (const { source: peer, link } of candidates) {
    const p = { ...sourceRef(peer), cluster: link?.cluster };
    if (objectGroupKindKey(peer) !== gk || p.name !== me.name || claimOrder(p) >= claimOrder(me)) continue;
    if (peer.metadata?.deletionTimestamp || !isEnabledSource(peer)) continue;
    const parsed = parseSource(peer, sourceConfig(ctx.config, link));
    if (!parsed.ok) continue;
    if (
      !namesCluster(parsed.spec.clusters, ctx.config.clusterName ?? DEFAULT_CLUSTER_NAME, link !== undefined)
    ) {
      continue;
    }
    const r = resolveTargets(parsed.spec.targets, p.namespace, ctx.namespaces, ctx.config, link);
    claims.push({
      owner: p.cluster ? p : { namespace: p.namespace, name: p.name },
      targets: new Set(r.targets),
    });
  }
  return claims.sort((a, b) => cmp(claimOrder(a.owner), claimOrder(b.owner)));
}

/** Sorts actions by source (namespace, name, kind), then target namespace. */
export function sortActions(actions: PlanAction[]): PlanAction[] {
  return actions.sort((a, b) =>
    cmp(a.source.namespace, b.source.namespace) || cmp(a.source.name, b.source.name) ||
    cmp(a.source.kind, b.source.kind) || cmp(a.target.namespace, b.target.namespace)
  );
}

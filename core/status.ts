/**
 * What the controller writes back on a source after a reconcile: the finalizer, the `sync-status`
 * annotation, and the Events a user must act on. A pure decision over the source as cached, its plan,
 * and what came of the writes; Event reasons come from typed codes, never from message text.
 *
 * @example
 * ```ts
 * import { decideSourceStatus } from "./status.ts";
 * import assert from "node:assert/strict";
 * const status = decideSourceStatus({
 *   source: { metadata: { name: "cfg", namespace: "default", labels: { "kubemirror.raczylo.com/enabled": "true" },
 *     annotations: { "kubemirror.raczylo.com/sync": "true" } } },
 *   plan: { actions: [], errors: [], warnings: [] },
 *   outcome: { written: 0, deferred: 0, failures: [], pending: false, notes: [] },
 * });
 * assert.deepEqual(status, { finalizer: "add", syncStatus: "reconciled:0,errors:0", events: [] });
 * ```
 * @module
 */
import { ANNOTATION_SYNC_STATUS, FINALIZER } from "./markers.ts";
import type { PlanAction, PlanError, PlanErrorKind, PlanWarning } from "./plan.ts";
import { isEnabledSource } from "./source_spec.ts";
import type { KubeObject } from "./types.ts";

/** One Event to record on the source. */
export interface SourceEvent {
  reason: string;
  message: string;
  /** Warning unless said (a link that resumed is Normal). */
  type?: "Warning" | "Normal";
}

/** What came of carrying out a plan. */
export interface ExecutionOutcome {
  /** Creates and updates that went through. */
  written: number;
  /** Reverts put off (a fight with another writer); the mirror exists and counts as reconciled. */
  deferred: number;
  /** Writes that failed, each as `action namespace/name: message`. */
  failures: string[];
  /** True when a retry is pending (a stale cache, a failed write): nothing final is written yet. */
  pending: boolean;
  /** More Events the shell learnt while writing (a fight with another writer, named). */
  notes: SourceEvent[];
}

/** The input of {@link decideSourceStatus}. */
export interface StatusInput {
  /** The key's object as it reads now: for a pulling object, as its own pull left it when that was written. */
  source: KubeObject;
  plan: {
    actions: readonly PlanAction[];
    errors: readonly PlanError[];
    warnings: readonly PlanWarning[];
    direction?: "pull";
    pullStatus?: string;
  };
  outcome: ExecutionOutcome;
}

/** What to write on the source: `syncStatus` undefined leaves it, null removes it. */
export interface SourceStatus {
  finalizer: "add" | "remove" | "keep";
  syncStatus: string | null | undefined;
  events: SourceEvent[];
}

/** The Event reason for each kind of plan error. */
export const ERROR_REASONS: Readonly<Record<PlanErrorKind, string>> = {
  conflict: "Conflict",
  transform: "TransformFailed",
  invalid: "InvalidSource",
  forbidden: "InvalidSource",
  unwritable: "Forbidden",
  refused: "PullRefused",
};

/** The `error_type` label of `kubemirror_sync_errors_total` for each kind of plan error. */
export const ERROR_TYPES: Readonly<Record<PlanErrorKind, string>> = {
  conflict: "conflict",
  transform: "transform",
  invalid: "invalid",
  forbidden: "forbidden",
  unwritable: "forbidden",
  refused: "refused",
};

/** Decides the finalizer, `sync-status` and Events of a source (or a pulling object) after a reconcile. */
export function decideSourceStatus(input: StatusInput): SourceStatus {
  const { source, plan, outcome } = input;
  if (plan.direction === "pull") return decidePullStatus(input);
  const deleting = Boolean(source.metadata?.deletionTimestamp);
  const enabled = isEnabledSource(source) && !deleting;
  // A kind the controller may not write: nothing can be written on the source either, only Events.
  const unwritable = plan.errors.some((e) => e.kind === "unwritable");
  const hasFinalizer = (source.metadata?.finalizers ?? []).includes(FINALIZER);
  const current = source.metadata?.annotations?.[ANNOTATION_SYNC_STATUS];

  // The finalizer goes only once every delete went through: a pending retry keeps it.
  const finalizer = unwritable
    ? "keep"
    : enabled && !hasFinalizer
    ? "add"
    : !enabled && hasFinalizer && !outcome.pending
    ? "remove"
    : "keep";

  let syncStatus: string | null | undefined;
  if (enabled && !outcome.pending && !unwritable) {
    const reconciled = outcome.written + outcome.deferred +
      plan.actions.filter((a) => a.action === "unchanged").length;
    const status = `reconciled:${reconciled},errors:${plan.errors.length + outcome.failures.length}`;
    if (status !== current) syncStatus = status;
  }
  if (!enabled && !deleting && current !== undefined) syncStatus = null;

  const events: SourceEvent[] = [];
  if (enabled) {
    events.push(...errorEvents(plan.errors));
    for (const f of outcome.failures) events.push({ reason: "WriteFailed", message: f });
    for (const w of plan.warnings) events.push({ reason: w.reason, message: `${w.key}: ${w.message}` });
    events.push(...outcome.notes);
    const cut = plan.actions.filter((a) => a.action === "skip" && a.code === "truncated");
    if (cut.length > 0) {
      events.push({
        reason: "TargetsTruncated",
        message: `${cut.length} target namespace(s) left out (${cut[0].reason}): ${
          cut.map((a) => a.target.namespace).join(", ")
        }`,
      });
    }
  }
  return { finalizer, syncStatus, events };
}

/** One Warning Event per plan error, its reason from the error's kind (or its own, for a refused pull). */
function errorEvents(errors: readonly PlanError[]): SourceEvent[] {
  return errors.map((e) => ({
    reason: e.reason ?? ERROR_REASONS[e.kind],
    message: e.key && e.kind !== "refused" ? `${e.key}: ${e.message}` : e.message,
  }));
}

/**
 * A pulling object (§9) holds no finalizer (its own pushed mirrors, if it had any, are cleaned up first)
 * and its `sync-status` is `pulled` or `error:<Reason>`, written only when it changes; every refusal is
 * a Warning Event with its §9 reason.
 */
function decidePullStatus({ source, plan, outcome }: StatusInput): SourceStatus {
  const hasFinalizer = (source.metadata?.finalizers ?? []).includes(FINALIZER);
  const current = source.metadata?.annotations?.[ANNOTATION_SYNC_STATUS];
  const deleting = Boolean(source.metadata?.deletionTimestamp);
  const syncStatus =
    !outcome.pending && !deleting && plan.pullStatus !== undefined && plan.pullStatus !== current
      ? plan.pullStatus
      : undefined;
  const events = deleting ? [] : [
    ...errorEvents(plan.errors),
    ...outcome.failures.map((f) => ({ reason: "WriteFailed", message: f })),
    ...plan.warnings.map((w) => ({ reason: w.reason, message: `${w.key}: ${w.message}` })),
    ...outcome.notes,
  ];
  return { finalizer: hasFinalizer && !outcome.pending ? "remove" : "keep", syncStatus, events };
}

/** The source as it reads once `status` is written: for checking that a second decision changes nothing. */
export function withStatus(source: KubeObject, status: SourceStatus): KubeObject {
  const finalizers = source.metadata?.finalizers ?? [];
  const annotations = { ...source.metadata?.annotations };
  if (status.syncStatus === null) delete annotations[ANNOTATION_SYNC_STATUS];
  else if (status.syncStatus !== undefined) annotations[ANNOTATION_SYNC_STATUS] = status.syncStatus;
  return {
    ...source,
    metadata: {
      ...source.metadata,
      annotations,
      finalizers: status.finalizer === "add"
        ? [...finalizers, FINALIZER]
        : status.finalizer === "remove"
        ? finalizers.filter((f) => f !== FINALIZER)
        : finalizers,
    },
  };
}

/**
 * Step 3 of a reconcile: carries out a plan's writes (create, update, delete, pull), each through
 * {@link executeAction}, as many at once as the key's share of the writes in flight ({@link writeShare});
 * backs off from reverting a mirror another writer keeps editing ({@link Fights}); puts each answer through
 * to the caches ahead of its watch event, and counts what was done for the plan's one log line.
 *
 * @example
 * ```ts
 * import { PlanWriter } from "./plan_writer.ts";
 * import { KeySnapshots } from "./key_snapshots.ts";
 * import type { KindState } from "./kind_watches.ts";
 * import type { SourcePlan } from "../../core/plan.ts";
 * import type { KubeClient } from "../kube/client.ts";
 * import { createLogger } from "../runtime/log.ts";
 * import { createMetrics } from "../runtime/metrics.ts";
 * declare const client: KubeClient;
 * declare const snapshots: KeySnapshots;
 * declare const configMaps: KindState;
 * declare const plan: SourcePlan;
 * const writer = new PlanWriter({ client, log: createLogger("info"), metrics: createMetrics(), now: Date.now },
 *   snapshots);
 * const done = await writer.execute(configMaps, "/ConfigMap/default/cfg", plan);
 * // done.written, done.failures, done.pending (look again), done.waitMs (a revert put off)
 * ```
 * @module
 */
import { controllerLabel } from "../../core/group_kind.ts";
import { LABEL_MIRROR } from "../../core/markers.ts";
import type { PlanAction, SourcePlan } from "../../core/plan.ts";
import type { ExecutionOutcome } from "../../core/status.ts";
import type { KubeObject } from "../../core/types.ts";
import { ApiError, type KubeClient } from "../kube/client.ts";
import { errorMessage, type Logger } from "../runtime/log.ts";
import type { Metrics } from "../runtime/metrics.ts";
import { executeAction } from "./executor.ts";
import { Fights } from "./fights.ts";
import type { KeySnapshots } from "./key_snapshots.ts";
import type { KindState } from "./kind_watches.ts";
import { direction } from "./work_loop.ts";
import { runShared, writeShare } from "./write_pool.ts";

/** What came of carrying out a plan, and when to look again. */
export interface Execution extends ExecutionOutcome {
  /** A revert put off: reconcile again after this long. */
  waitMs?: number;
  /** A pulling object as its own pull left it: what its status is decided on. */
  pulled?: KubeObject;
  /** Mirrors written, by what was done (`created`, `updated`, `recreated`, `deleted`): one log line per plan. */
  wrote: Record<string, number>;
  /** Writes started (written, failed or found stale). */
  tried: number;
}

/** What a {@link PlanWriter} needs. */
export interface PlanWriterDeps {
  client: KubeClient;
  log: Logger;
  metrics: Metrics;
  /** Wall-clock milliseconds, for the fights' history. */
  now: () => number;
  /** How many keys are being reconciled now (this one among them), to share the writes in flight. */
  keysInFlight?: () => number;
}

/** Carries out plans' writes. */
export class PlanWriter {
  /** Mirrors another writer keeps editing. */
  readonly #fights: Fights;

  /** `snapshots` hears of the objects in the way that a create finds (and forgets them once written). */
  constructor(readonly deps: PlanWriterDeps, readonly snapshots: KeySnapshots) {
    this.#fights = new Fights(deps.client, deps.now);
  }

  /** Drops fight histories of mirrors left alone for a while. */
  pruneFights(): void {
    this.#fights.prune();
  }

  /** Carries out the plan's writes, a share of the writes in flight ({@link writeShare}), backing off from fights. */
  async execute(k: KindState, key: string, plan: SourcePlan, signal?: AbortSignal): Promise<Execution> {
    const done: Execution = {
      written: 0,
      deferred: 0,
      failures: [],
      pending: false,
      notes: [],
      wrote: {},
      tried: 0,
    };
    const started = performance.now();
    const label = controllerLabel(k.kind);
    const writes: PlanAction[] = [];
    for (const a of plan.actions) {
      if (a.action !== "create" && a.action !== "update" && a.action !== "delete" && a.action !== "pull") {
        continue;
      }
      if ((a.action === "update" || a.action === "pull") && a.drift !== undefined) {
        // Another writer edited the mirror: revert it, but back off when it keeps coming back.
        const verdict = await this.#fights.revert(k.kind, a.target.namespace, a.target.name, a.drift, signal);
        if (!verdict.revertNow) {
          this.deps.metrics.driftBackoffs.inc({ controller: label });
          done.waitMs = Math.min(done.waitMs ?? Infinity, verdict.waitMs);
          done.deferred++;
          continue;
        }
        this.deps.metrics.driftReverts.inc({ controller: label });
        if (verdict.note) done.notes.push(verdict.note);
      }
      writes.push(a);
    }
    const busy = this.deps.keysInFlight ?? (() => 1);
    await runShared(writes, () => writeShare(busy()), (action) => this.#write(k, key, action, done, signal));
    if (Object.keys(done.wrote).length > 0) {
      // One line per plan, not per mirror: a fan-out of thousands stays readable (each mirror is at debug).
      this.deps.log.info("mirrors written", {
        source: `${plan.source.namespace}/${plan.source.name}`,
        kind: k.kind.kind,
        ...(plan.source.cluster ? { cluster: plan.source.cluster } : {}),
        ...done.wrote,
        ...(done.failures.length > 0 ? { failed: done.failures.length } : {}),
        ms: Math.round(performance.now() - started),
      });
    }
    if (done.failures.length > 0) done.pending = true;
    done.tried = writes.length;
    return done;
  }

  /** One write, its result put through to the caches and counted in `done`. */
  async #write(k: KindState, key: string, action: PlanAction, done: Execution, signal?: AbortSignal) {
    // Once the Lease is lost (or the process stops), no write starts.
    if (signal?.aborted) {
      done.pending = true;
      return;
    }
    const log = this.deps.log.with({
      source: `${action.source.namespace}/${action.source.name}`,
      kind: k.kind.kind,
    });
    const outcome = await executeAction(this.deps.client, k.kind, action, signal);
    const target = `${action.target.namespace}/${action.target.name}`;
    switch (outcome.result) {
      case "written":
        if (action.action === "pull") {
          // A pulling object lives in the sources cache; its status is decided on what was written.
          const puller = { ...outcome.object, apiVersion: action.source.apiVersion, kind: k.kind.kind };
          k.sources.observe(puller);
          done.pulled = puller;
          done.written++;
          log.info(action.reason?.startsWith("revoked") ? "copy revoked" : "copy pulled", {
            target,
            reason: action.reason,
          });
          return;
        }
        if (outcome.deleted) k.mirrors.drop(target);
        else if (outcome.object) {
          k.mirrors.observe({ ...outcome.object, apiVersion: action.source.apiVersion, kind: k.kind.kind });
        }
        this.snapshots.clearForeign(key, action.target.namespace);
        if (action.action !== "delete") done.written++;
        {
          const what = action.action === "update" && action.recreate ? "recreated" : `${action.action}d`;
          done.wrote[what] = (done.wrote[what] ?? 0) + 1;
          // A revert of someone's edit is worth a line of its own; the rest is in the plan's summary.
          (action.drift !== undefined ? log.info : log.debug)(`mirror ${what}`, {
            target,
            reason: action.reason,
          });
        }
        return;
      case "exists":
        if (outcome.existing?.metadata?.labels?.[LABEL_MIRROR] === "true") {
          // A mirror the cache has not seen yet: the mirrors watch owns it, so it goes into that cache,
          // where its DELETED event will remove it again.
          k.mirrors.observe(outcome.existing);
        } else if (outcome.existing) {
          this.snapshots.noteForeign(key, action.target.namespace, outcome.existing);
        }
        done.pending = true;
        return;
      case "stale":
        log.debug("stale cache; retrying", { target, error: outcome.error.message });
        done.pending = true;
        return;
      case "failed": {
        if (signal?.aborted) {
          done.pending = true;
          return;
        }
        const message = errorMessage(outcome.error);
        done.failures.push(`${action.action} ${target}: ${message}`);
        this.deps.metrics.syncErrors.inc({
          controller: controllerLabel(k.kind),
          error_type: outcome.error instanceof ApiError ? `http_${outcome.error.status}` : "network",
          ...direction(action),
        });
        log.warn("mirror write failed", { target, action: action.action, error: message });
        return;
      }
    }
  }
}

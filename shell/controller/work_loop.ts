/**
 * One worker of the controller: takes a key from the queue, reconciles it, and does what the result says.
 * This is the one owner of retries (controller-runtime's `reconcileHandler`): only here is a key added
 * back, backed off or forgotten.
 *
 * | result | queue |
 * |---|---|
 * | `{ requeue: "no" }` | forget its failures |
 * | `{ requeue: "after", ms }` | forget its failures, add it back after `ms` |
 * | `{ requeue: "backoff" }`, or a throw | add it back after its backoff (200 ms, doubling) |
 *
 * @example
 * ```ts
 * import { runWorker } from "./work_loop.ts";
 * import { WorkQueue } from "./work_queue.ts";
 * import { createLogger } from "../runtime/log.ts";
 * import { createMetrics } from "../runtime/metrics.ts";
 * import assert from "node:assert/strict";
 * const queue = new WorkQueue("sources");
 * const seen: string[] = [];
 * const worker = runWorker({
 *   queue,
 *   reconcile: (key) => {
 *     seen.push(key);
 *     return Promise.resolve({ requeue: "no" });
 *   },
 *   label: () => "configmap",
 *   log: createLogger("error"),
 *   metrics: createMetrics(),
 * });
 * queue.add("/ConfigMap/default/cfg");
 * await new Promise((r) => setTimeout(r, 0));
 * queue.shutDown();
 * await worker;
 * assert.deepEqual(seen, ["/ConfigMap/default/cfg"]);
 * ```
 * @module
 */
import { errorMessage, type Logger } from "../runtime/log.ts";
import type { Metrics } from "../runtime/metrics.ts";
import type { WorkQueue } from "./work_queue.ts";

/** What the work loop does with the key next. */
export type ReconcileResult =
  & ({ requeue: "no" } | { requeue: "backoff" } | { requeue: "after"; ms: number })
  & {
    /** `pull` when the key was a pulling object (§9): the reconcile metrics say so. */
    direction?: "push" | "pull";
    /** The upstream cluster when the key was read through a link (§10). */
    cluster?: string;
  };

/** What a worker needs. */
export interface WorkerDeps {
  queue: WorkQueue;
  /** Reconciles one key; a throw is an API failure outside the writes (backed off). */
  reconcile(key: string, signal?: AbortSignal): Promise<ReconcileResult>;
  /** The `controller` label of a key's metrics. */
  label(key: string): string;
  log: Logger;
  metrics: Metrics;
  /** Aborted when the Lease is lost or the process stops: passed to every reconcile. */
  signal?: AbortSignal;
}

/** The `direction` label: only pulls carry one. */
export function direction(of: { direction?: "push" | "pull" }): { direction?: "pull" } {
  return of.direction === "pull" ? { direction: "pull" } : {};
}

/** Works keys until the queue shuts down. */
export async function runWorker(w: WorkerDeps): Promise<void> {
  while (true) {
    const key = await w.queue.get();
    if (key === undefined) return;
    await processKey(w, key);
  }
}

/** Reconciles one key taken from the queue and settles it there. */
export async function processKey(w: WorkerDeps, key: string): Promise<void> {
  const label = w.label(key);
  const end = w.metrics.reconcileDuration.startTimer({ controller: label });
  const started = performance.now();
  try {
    const result = await w.reconcile(key, w.signal);
    const outcome = result.requeue === "no"
      ? "success"
      : result.requeue === "after"
      ? "requeue_after"
      : "requeue";
    w.log.debug("reconciled", { key, result: outcome, ms: Math.round(performance.now() - started) });
    w.metrics.reconcileTotal.inc({
      controller: label,
      result: outcome,
      ...direction(result), // pushed mirrors keep the series they always had
      ...(result.cluster ? { cluster: result.cluster } : {}),
    });
    if (result.requeue === "backoff") w.queue.addRateLimited(key);
    else {
      w.queue.forget(key);
      if (result.requeue === "after") w.queue.addAfter(key, result.ms);
    }
  } catch (e) {
    w.metrics.reconcileTotal.inc({ controller: label, result: "error" });
    if (!w.signal?.aborted) w.log.error("reconcile failed", { key, error: errorMessage(e) });
    w.queue.addRateLimited(key);
  } finally {
    end();
    w.queue.done(key);
  }
}

/**
 * Hands memory back after start-up and after bursts: every few seconds, samples the heap, the queue and
 * readiness and, when the core says so ({@link shouldReleaseHeap}), runs one full collection. V8 exposes `gc` only behind a flag, set
 * here at start through `node:v8` (no permission needed; the chart's `DENO_V8_FLAGS` stay as they are).
 *
 * @example
 * ```ts
 * import { startHeapRelease } from "./heap_release.ts";
 * import { createLogger } from "./runtime/log.ts";
 * import { createMetrics } from "./runtime/metrics.ts";
 * const stop = startHeapRelease({
 *   queueDepth: () => 0,
 *   ready: () => true,
 *   log: createLogger("info"),
 *   metrics: createMetrics(),
 * });
 * stop();
 * ```
 * @module
 */
import v8 from "node:v8";
import vm from "node:vm";
import { shouldReleaseHeap } from "../core/heap_release.ts";
import type { Logger } from "./runtime/log.ts";
import type { Metrics } from "./runtime/metrics.ts";

/** Samples every `intervalMs` (default 5 s); returns a function that stops sampling. */
export function startHeapRelease(options: {
  queueDepth: () => number;
  /** Whether the caches have synced. */
  ready: () => boolean;
  log: Logger;
  metrics: Metrics;
  intervalMs?: number;
}): () => void {
  v8.setFlagsFromString("--expose-gc");
  const gc = vm.runInNewContext("gc") as () => void;
  let live: number | undefined;
  const timer = setInterval(() => {
    const before = Deno.memoryUsage().heapUsed;
    if (
      !shouldReleaseHeap({
        heapUsed: before,
        liveAfterLastRelease: live,
        queueDepth: options.queueDepth(),
        ready: options.ready(),
      })
    ) {
      return;
    }
    const started = performance.now();
    gc();
    live = Deno.memoryUsage().heapUsed;
    options.metrics.heapReleases.inc();
    options.log.debug("heap released", {
      beforeMiB: Math.round(before / 2 ** 20),
      afterMiB: Math.round(live / 2 ** 20),
      ms: Math.round(performance.now() - started),
    });
  }, options.intervalMs ?? 5000);
  Deno.unrefTimer(timer);
  return () => clearInterval(timer);
}

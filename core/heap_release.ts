/**
 * When the controller hands garbage back: V8 collects the old generation only when it nears a limit, so
 * after a burst of writes (a fan-out, a relist) tens of MiB of dead request and response objects stay
 * resident until the next burst. Start-up is such a burst too (loading the code, discovery, the first
 * lists): once the caches have synced and the work queue is empty, one full collection returns what start-up
 * left; after that, one whenever the heap has grown well past what was live after the last collection.
 * Pure: the shell samples and acts.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { shouldReleaseHeap } from "./heap_release.ts";
 * const MiB = 2 ** 20;
 * shouldReleaseHeap({ heapUsed: 18 * MiB, queueDepth: 0, ready: true }); // true: start-up is over
 * assert.equal(shouldReleaseHeap({ heapUsed: 70 * MiB, liveAfterLastRelease: 20 * MiB, queueDepth: 0, ready: true }), true);
 * assert.equal(shouldReleaseHeap({ heapUsed: 70 * MiB, liveAfterLastRelease: 20 * MiB, queueDepth: 3, ready: true }), false);
 * ```
 * @module
 */

/** What the shell samples. */
export interface HeapSample {
  /** JavaScript heap in use now (live and dead objects), bytes. */
  heapUsed: number;
  /** Heap in use right after the previous full collection, bytes; absent before the first one. */
  liveAfterLastRelease?: number;
  /** Keys waiting or in progress: a busy controller is left alone. */
  queueDepth: number;
  /** Whether the caches have synced: until then start-up is still allocating what it keeps. */
  ready: boolean;
}

/** Growth below this is never worth a full collection. */
export const HEAP_RELEASE_FLOOR_BYTES = 8 * 2 ** 20;

/**
 * Whether to run a full collection now: only when synced and idle; then the first time, and afterwards only
 * once the heap has grown past what was live after the last one by a quarter of it, and by at least
 * {@link HEAP_RELEASE_FLOOR_BYTES} (a full collection of a small heap costs a few milliseconds when idle).
 */
export function shouldReleaseHeap(sample: HeapSample): boolean {
  if (sample.queueDepth > 0 || !sample.ready) return false;
  if (sample.liveAfterLastRelease === undefined) return true;
  const live = Math.max(0, sample.liveAfterLastRelease);
  return sample.heapUsed > live + Math.max(live / 4, HEAP_RELEASE_FLOOR_BYTES);
}

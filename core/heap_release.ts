/**
 * When the controller hands garbage back: V8 collects the old generation only when it nears a limit, so
 * after a burst of writes (a fan-out, a relist) tens of MiB of dead request and response objects stay
 * resident until the next burst. Once the work queue is empty and the heap has grown well past what was
 * live after the last collection, one full collection returns it. Pure: the shell samples and acts.
 *
 * @example
 * ```ts
 * import { shouldReleaseHeap } from "./heap_release.ts";
 * shouldReleaseHeap({ heapUsed: 70 * 2 ** 20, liveAfterLastRelease: 20 * 2 ** 20, queueDepth: 0 }); // true
 * shouldReleaseHeap({ heapUsed: 70 * 2 ** 20, liveAfterLastRelease: 20 * 2 ** 20, queueDepth: 3 }); // false
 * ```
 * @module
 */

/** What the shell samples. */
export interface HeapSample {
  /** JavaScript heap in use now (live and dead objects), bytes. */
  heapUsed: number;
  /** Heap in use right after the previous full collection (or at start), bytes. */
  liveAfterLastRelease: number;
  /** Keys waiting or in progress: a busy controller is left alone. */
  queueDepth: number;
}

/** Growth below this is never worth a full collection. */
export const HEAP_RELEASE_FLOOR_BYTES = 16 * 2 ** 20;

/**
 * Whether to run a full collection now: only when idle, and only once the heap is both twice and
 * {@link HEAP_RELEASE_FLOOR_BYTES} above what was live after the last one.
 */
export function shouldReleaseHeap(sample: HeapSample): boolean {
  if (sample.queueDepth > 0) return false;
  const live = Math.max(0, sample.liveAfterLastRelease);
  return sample.heapUsed > Math.max(2 * live, live + HEAP_RELEASE_FLOOR_BYTES);
}

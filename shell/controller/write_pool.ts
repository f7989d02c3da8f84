/**
 * How many mirror writes run at once: {@link WRITES_IN_FLIGHT} shared among the keys being reconciled, read
 * again as each write ends, so a fan-out started alone gives way as other keys start and takes the room
 * back as they finish.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { runShared, writeShare } from "./write_pool.ts";
 * assert.equal(writeShare(1), 40);
 * assert.equal(writeShare(5), 8);
 * const done: number[] = [];
 * await runShared([1, 2, 3], () => writeShare(1), async (n) => { done.push(n); });
 * assert.deepEqual(done, [1, 2, 3]);
 * ```
 * @module
 */

/**
 * How many mirror writes run at once, shared among the keys being reconciled (each gets at least
 * {@link WRITES_PER_KEY}). The rate limiter (`--rate-limit-qps`) sets the load on the API server; this keeps
 * that rate up across its latency. One source's fan-out alone gets them all: measured, one edit to 1,000
 * mirrors took 4.0–4.7 s at 8 at once and 1.6–1.9 s at 32; more than ~40 in flight over all keys cost CPU
 * and memory per write (a converge of 10,000: 0.46 ms and 96 MiB at 40, 0.50 ms and 100 MiB at 160).
 */
export const WRITES_IN_FLIGHT = 40;
/** The least a key writes at once, however many keys are busy. */
export const WRITES_PER_KEY = 8;

/** One key's share of the writes in flight while `keys` keys are being reconciled (this one among them). */
export function writeShare(keys: number): number {
  return Math.max(WRITES_PER_KEY, Math.floor(WRITES_IN_FLIGHT / Math.max(1, keys)));
}

/**
 * Runs `fn` over `items` with at most `size()` running at once, read again as each one ends: the pool
 * shrinks when other keys start and grows back when they finish.
 */
export function runShared<T>(
  items: readonly T[],
  size: () => number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  return new Promise((resolve, reject) => {
    let next = 0;
    let running = 0;
    const fill = () => {
      while (running < Math.max(1, size()) && next < items.length) {
        running++;
        fn(items[next++]).then(() => {
          running--;
          fill();
        }, reject);
      }
      if (running === 0 && next >= items.length) resolve();
    };
    fill();
  });
}

/**
 * Time for the shell: wall-clock milliseconds, timers and sleeps, behind one interface so that the work
 * queue, the watch caches and the leader election can be tested on a fake clock in milliseconds (as
 * client-go tests its reflector and leader election). {@link systemClock} is the real one.
 *
 * @example
 * ```ts
 * import { systemClock } from "./clock.ts";
 * import assert from "node:assert/strict";
 * const before = systemClock.now();
 * await systemClock.sleep(5);
 * assert.ok(systemClock.now() >= before + 4);
 * const stop = new AbortController();
 * stop.abort();
 * await systemClock.sleep(60_000, stop.signal); // returns at once: the signal is aborted
 * ```
 * @module
 */

/** Time as the shell reads and waits for it. */
export interface Clock {
  /** Wall-clock milliseconds since the epoch. */
  now(): number;
  /** Calls `fn` once after `ms`; returns a function that cancels it. */
  after(ms: number, fn: () => void): () => void;
  /** Resolves after `ms`, or as soon as `signal` aborts (never rejects). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

/** The process's clock. */
export const systemClock: Clock = {
  now: () => Date.now(),
  after(ms, fn) {
    const t = setTimeout(fn, ms);
    return () => clearTimeout(t);
  },
  sleep(ms, signal) {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal?.removeEventListener("abort", done);
        resolve();
      };
      const t = setTimeout(done, ms);
      signal?.addEventListener("abort", done, { once: true });
    });
  },
};

/**
 * A clock for tests: time stands still until the test advances it; due timers then fire in order, each
 * followed by the promise callbacks it set off, so that a retry loop runs exactly as far as the time
 * given to it.
 *
 * @example
 * ```ts
 * import { FakeClock } from "./fake_clock.ts";
 * import assert from "node:assert/strict";
 * const clock = new FakeClock(1_000);
 * let fired = 0;
 * clock.after(500, () => fired++);
 * await clock.advance(499);
 * assert.equal(fired, 0);
 * await clock.advance(1);
 * assert.equal(fired, 1);
 * assert.equal(clock.now(), 1_500);
 * ```
 * @module
 */
import type { Clock } from "./clock.ts";

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
}

/** Lets the promise callbacks already set off run (a few turns of the event loop). */
export async function settle(turns = 5): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise((r) => setTimeout(r, 0));
}

/** A manually advanced clock. */
export class FakeClock implements Clock {
  #now: number;
  #seq = 0;
  #timers: Timer[] = [];

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  after(ms: number, fn: () => void): () => void {
    const timer = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.push(timer);
    return () => {
      this.#timers = this.#timers.filter((t) => t !== timer);
    };
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const cancel = this.after(ms, () => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
      const onAbort = () => {
        cancel();
        resolve();
      };
      signal?.addEventListener("abort", onAbort, { once: true });
    });
  }

  /** Timers waiting to fire. */
  get pending(): number {
    return this.#timers.length;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order, settling after each. */
  async advance(ms: number): Promise<void> {
    await settle();
    const end = this.#now + ms;
    while (true) {
      const due = this.#timers.filter((t) => t.at <= end).sort((a, b) => a.at - b.at || a.seq - b.seq)[0];
      if (!due) break;
      this.#timers = this.#timers.filter((t) => t !== due);
      this.#now = Math.max(this.#now, due.at);
      due.fn();
      await settle();
    }
    this.#now = end;
    await settle();
  }
}

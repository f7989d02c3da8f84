/**
 * A token bucket in front of every API request: `--rate-limit-qps` tokens a second, up to
 * `--rate-limit-burst` saved. Callers wait their turn in order.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TokenBucket } from "./rate_limiter.ts";
 * const bucket = new TokenBucket(50, 100);
 * const before = performance.now();
 * await bucket.take(); // resolves at once while tokens remain
 * assert.ok(performance.now() - before < 50);
 * ```
 * @module
 */

/** A first-come first-served token bucket. */
export class TokenBucket {
  #tokens: number;
  #last: number;
  #tail: Promise<void> = Promise.resolve();

  constructor(
    readonly qps: number,
    readonly burst: number,
    readonly now: () => number = () => performance.now(),
    readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    this.#tokens = burst;
    this.#last = now();
  }

  #refill(): void {
    const t = this.now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#last) / 1000) * this.qps);
    this.#last = t;
  }

  /** Waits for one token. */
  take(): Promise<void> {
    const turn = this.#tail.then(async () => {
      this.#refill();
      if (this.#tokens < 1) {
        await this.sleep(((1 - this.#tokens) / this.qps) * 1000);
        this.#refill();
      }
      this.#tokens -= 1;
    });
    this.#tail = turn.catch(() => {});
    return turn;
  }
}

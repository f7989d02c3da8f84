/**
 * The work queue of sample-controller: keys are deduplicated, one key is never worked on by two workers
 * at once (a key added while in flight runs again once after), failures come back after a per-key
 * exponential backoff, and the queue is bounded by the number of distinct keys.
 *
 * @example
 * ```ts
 * import { WorkQueue } from "./work_queue.ts";
 * import { FakeClock } from "../runtime/fake_clock.ts";
 * import assert from "node:assert/strict";
 * const clock = new FakeClock();
 * const q = new WorkQueue("sources", undefined, 200, 60_000, clock);
 * q.add("/ConfigMap/default/cfg");
 * q.add("/ConfigMap/default/cfg"); // deduplicated
 * assert.equal(q.depth, 1);
 * const key = await q.get();
 * assert.equal(key, "/ConfigMap/default/cfg");
 * q.done(key!);
 * q.addRateLimited(key!); // back after 200 ms
 * await clock.advance(200);
 * assert.equal(await q.get(), key);
 * ```
 * @module
 */
import { type Clock, systemClock } from "../runtime/clock.ts";
import type { Metrics } from "../runtime/metrics.ts";

/** A deduplicating, rate-limited work queue. */
export class WorkQueue {
  readonly #queue: string[] = [];
  readonly #queued = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #dirty = new Set<string>();
  readonly #failures = new Map<string, number>();
  /** Cancels each key's pending delayed add. */
  readonly #timers = new Map<string, () => void>();
  /** Keys waiting out a batching window ({@link addBatched}). */
  readonly #batches = new Map<string, () => void>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  #shuttingDown = false;

  constructor(
    readonly name: string,
    readonly metrics?: Metrics,
    readonly baseDelayMs = 200,
    readonly maxDelayMs = 60_000,
    readonly clock: Clock = systemClock,
  ) {}

  get length(): number {
    return this.#queue.length;
  }

  /** Keys being worked on now. */
  get working(): number {
    return this.#processing.size;
  }

  /** Keys waiting or being worked on. */
  get depth(): number {
    return this.#queue.length + this.#processing.size;
  }

  #depth(): void {
    this.metrics?.workqueueDepth.set({ name: this.name }, this.#queue.length);
  }

  /** Adds a key unless it is already waiting; a key in flight is marked to run again after. */
  add(key: string): void {
    if (this.#shuttingDown) return;
    this.metrics?.workqueueAdds.inc({ name: this.name });
    if (this.#processing.has(key)) {
      this.#dirty.add(key);
      return;
    }
    if (this.#queued.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#processing.add(key);
      waiter(key);
      return;
    }
    this.#queued.add(key);
    this.#queue.push(key);
    this.#depth();
  }

  /** Adds a key after its backoff: 200 ms, doubling per consecutive failure, at most a minute. */
  addRateLimited(key: string): void {
    const n = this.#failures.get(key) ?? 0;
    this.#failures.set(key, n + 1);
    this.metrics?.workqueueRetries.inc({ name: this.name });
    this.addAfter(key, Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** n));
  }

  /** Adds a key after `ms`; a later call for the same key replaces an earlier one. */
  addAfter(key: string, ms: number): void {
    if (this.#shuttingDown) return;
    this.#timers.get(key)?.();
    this.#timers.set(
      key,
      this.clock.after(ms, () => {
        this.#timers.delete(key);
        this.add(key);
      }),
    );
  }

  /**
   * Adds a key `ms` after the first call, however many calls come meanwhile (unless it is already
   * waiting): a burst of events, such as a storm of new namespaces, plans each key once per window
   * instead of once per event. Apart from the backoff timers, which it neither waits for nor replaces.
   */
  addBatched(key: string, ms: number): void {
    if (this.#shuttingDown || this.#batches.has(key) || this.#queued.has(key)) return;
    this.#batches.set(
      key,
      this.clock.after(ms, () => {
        this.#batches.delete(key);
        this.add(key);
      }),
    );
  }

  /** Clears a key's failure count after a success. */
  forget(key: string): void {
    this.#failures.delete(key);
  }

  /** Waits for the next key; undefined once shut down. The key is in flight until {@link done}. */
  get(): Promise<string | undefined> {
    if (this.#shuttingDown) return Promise.resolve(undefined);
    const key = this.#queue.shift();
    if (key !== undefined) {
      this.#queued.delete(key);
      this.#processing.add(key);
      this.#depth();
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Marks a key finished; if it was added meanwhile, it goes back in the queue. */
  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.delete(key)) this.add(key);
  }

  /** Stops handing out keys; waiting workers get undefined. */
  shutDown(): void {
    this.#shuttingDown = true;
    for (const cancel of [...this.#timers.values(), ...this.#batches.values()]) cancel();
    this.#timers.clear();
    this.#batches.clear();
    for (const w of this.#waiters.splice(0)) w(undefined);
  }
}

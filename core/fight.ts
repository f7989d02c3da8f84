/**
 * When to revert a mirror that keeps being edited by another writer. Edits are reverted at once the
 * first two times; from then on each revert waits twice as long as the one before (2 s, 4 s, … at most
 * 5 minutes), so a fight with another controller costs a handful of writes instead of hundreds a minute.
 * A mirror left alone for {@link FIGHT_WINDOW_MS} starts afresh. Time comes in as an argument.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideRevert } from "./fight.ts";
 * const first = decideRevert(undefined, 0); // { revertNow: true, history: { count: 1, lastAt: 0 } }
 * const second = decideRevert(first.history, 10); // revert now: count 2
 * assert.deepEqual(decideRevert(second.history, 20), { revertNow: false, waitMs: 1990, history: second.history });
 * ```
 * @module
 */

/** How often a mirror's edits were reverted lately, and when last. */
export interface RevertHistory {
  count: number;
  lastAt: number;
}

/** A mirror not reverted for this long is no longer in a fight. */
export const FIGHT_WINDOW_MS = 10 * 60_000;
/** The longest wait between two reverts. */
export const MAX_REVERT_DELAY_MS = 5 * 60_000;

/** The wait before the next revert of a mirror already reverted `count` times in a row. */
export function revertDelay(count: number): number {
  if (count < 2) return 0;
  return Math.min(MAX_REVERT_DELAY_MS, 1000 * 2 ** Math.min(count - 1, 20));
}

/** The decision for a mirror whose edit should be reverted at `now`. */
export type RevertDecision =
  | { revertNow: true; history: RevertHistory }
  | { revertNow: false; waitMs: number; history: RevertHistory };

/** Whether to revert now, given the mirror's history; the history to keep either way. */
export function decideRevert(previous: RevertHistory | undefined, now: number): RevertDecision {
  if (!previous || now - previous.lastAt > FIGHT_WINDOW_MS) {
    return { revertNow: true, history: { count: 1, lastAt: now } };
  }
  const due = previous.lastAt + revertDelay(previous.count);
  if (now < due) return { revertNow: false, waitMs: due - now, history: previous };
  return { revertNow: true, history: { count: previous.count + 1, lastAt: now } };
}

/** Whether a mirror with this history is in a fight worth telling its source's author about. */
export function isFight(history: RevertHistory): boolean {
  return history.count >= 3;
}

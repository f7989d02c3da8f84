/**
 * The limits one mirror's transformation runs under. Time comes in as a function, so the core reads no
 * clock of its own: the shell passes the real clock, tests pass a fake one.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Budget, BudgetExceeded, checkBudget } from "./budget.ts";
 * let t = 0;
 * const budget: Budget = { now: () => t, deadline: 100, maxBytes: 1024 };
 * checkBudget(budget, 10); // within both limits
 * t = 101;
 * assert.throws(() => checkBudget(budget, 10), BudgetExceeded);
 * ```
 * @module
 */

/** Time and size allowed to one mirror's transformation. */
export interface Budget {
  /** Milliseconds on any monotonic scale; compared with {@link Budget.deadline}. */
  now: () => number;
  /** The value of `now()` past which the transformation is stopped. */
  deadline: number;
  /** The largest string or rendered mirror allowed, in bytes. */
  maxBytes: number;
}

/** Thrown when a transformation runs past its budget; it stops the whole transformation of that mirror. */
export class BudgetExceeded extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BudgetExceeded";
  }
}

/** A budget that never runs out of time, for callers that only care about sizes. */
export function sizeOnlyBudget(maxBytes: number): Budget {
  return { now: () => 0, deadline: Infinity, maxBytes };
}

/** Throws {@link BudgetExceeded} when time is up or `size` is past the byte limit. */
export function checkBudget(budget: Budget, size: number): void {
  if (size > budget.maxBytes) {
    throw new BudgetExceeded(`output of ${size} bytes is over the limit of ${budget.maxBytes} bytes`);
  }
  if (budget.now() > budget.deadline) {
    throw new BudgetExceeded("the transformation ran past its time limit");
  }
}

/**
 * The template helpers of docs/CONTRACT.md §5 as plain string functions, shared by both template spellings; each
 * spelling wraps them with its own argument rules. `replace` checks the size budget before it builds
 * its result, so no template can allocate past the limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { STRING_HELPERS } from "./string_helpers.ts";
 * assert.deepEqual(STRING_HELPERS.replace.fn(["prod-eu", "-", "_"], undefined), "prod_eu");
 * ```
 * @module
 */
import { type Budget, checkBudget } from "./budget.ts";

/** A helper: how many string arguments it takes, and what it does with them. */
export interface StringHelper {
  arity: number;
  fn: (args: string[], budget: Budget | undefined) => string | boolean;
}

function replaceAll(s: string, old: string, replacement: string, budget: Budget | undefined): string {
  if (old === "") {
    // Go inserts the replacement around every character; bound the size before building it.
    const size = s.length + (s.length + 1) * replacement.length;
    if (budget) checkBudget(budget, size);
    return replacement + [...s].map((ch) => ch + replacement).join("");
  }
  const count = s.split(old).length - 1;
  const size = s.length + count * (replacement.length - old.length);
  if (budget) checkBudget(budget, size);
  return s.split(old).join(replacement);
}

/** `upper lower trimPrefix trimSuffix hasPrefix hasSuffix replace`, as Go's `strings` package does them. */
export const STRING_HELPERS: Readonly<Record<string, StringHelper>> = {
  upper: { arity: 1, fn: ([s]) => s.toUpperCase() },
  lower: { arity: 1, fn: ([s]) => s.toLowerCase() },
  trimPrefix: { arity: 2, fn: ([s, p]) => (p && s.startsWith(p) ? s.slice(p.length) : s) },
  trimSuffix: { arity: 2, fn: ([s, p]) => (p && s.endsWith(p) ? s.slice(0, s.length - p.length) : s) },
  hasPrefix: { arity: 2, fn: ([s, p]) => s.startsWith(p) },
  hasSuffix: { arity: 2, fn: ([s, p]) => s.endsWith(p) },
  replace: { arity: 3, fn: ([s, old, rep], budget) => replaceAll(s, old, rep, budget) },
};

import assert from "node:assert/strict";
import fc from "fast-check";
import { BudgetExceeded, checkBudget, sizeOnlyBudget } from "./budget.ts";

Deno.test("property: checkBudget throws exactly past the size or the deadline", () => {
  fc.assert(fc.property(fc.nat(2000), fc.nat(2000), fc.nat(100), fc.nat(100), (size, max, now, deadline) => {
    const budget = { now: () => now, deadline, maxBytes: max };
    const over = size > max || now > deadline;
    if (over) assert.throws(() => checkBudget(budget, size), BudgetExceeded);
    else checkBudget(budget, size);
    if (size <= max) checkBudget(sizeOnlyBudget(max), size);
  }));
});

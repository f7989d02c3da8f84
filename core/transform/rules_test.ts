import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_CONFIG } from "../config.ts";
import { parseTransform } from "./rules.ts";

Deno.test("property: parseTransform never throws and is deterministic on any text", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 80 }),
        fc.constantFrom("rules:\n  - path: a\n    value: b\n", "rules: [{path: x}]"),
      ),
      (text) => {
        const a = parseTransform(text, DEFAULT_CONFIG.transformLimits);
        const b = parseTransform(text, DEFAULT_CONFIG.transformLimits);
        assert.equal(JSON.stringify(a), JSON.stringify(b));
      },
    ),
    { numRuns: 500 },
  );
});

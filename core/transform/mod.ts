/**
 * Transformation rules: parsing, templates, and applying them to a mirror (docs/CONTRACT.md §5).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTransform } from "./mod.ts";
 * assert.equal(parseTransform("rules: []", { maxRules: 50, maxRuleBytes: 10240 }).ok, true);
 * ```
 * @module
 */
export * from "./apply.ts";
export * from "./budget.ts";
export * from "./go_to_handlebars.ts";
export * from "./path.ts";
export * from "./protected.ts";
export * from "./rules.ts";
export * from "./template.ts";

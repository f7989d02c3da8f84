/**
 * The content hash: SHA-256 over a canonical JSON form (object keys sorted at every depth), so the same
 * input always gives the same 64 hex characters, whatever the key order it arrived in.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { canonicalJson, contentHash } from "./hash.ts";
 * assert.deepEqual(canonicalJson({ b: 1, a: [true, null] }), '{"a":[true,null],"b":1}');
 * assert.deepEqual(contentHash({ a: 1 }).length, 64);
 * ```
 * @module
 */
import { createHash } from "node:crypto";

/** JSON with object keys sorted at every depth; `undefined` members are left out, as JSON.stringify does. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== "object") {
    return value === undefined ? "null" : JSON.stringify(value);
  }
  if (Array.isArray(value)) {
    return `[${value.map((v) => (v === undefined ? "null" : canonicalJson(v))).join(",")}]`;
  }
  const entries = Object.keys(value as Record<string, unknown>)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`);
  return `{${entries.join(",")}}`;
}

/** SHA-256 of the canonical form, as 64 lower-case hex characters. */
export function contentHash(value: unknown): string {
  return createHash("sha256").update(canonicalJson(value)).digest("hex");
}

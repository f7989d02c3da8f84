/**
 * JSON merge patches (RFC 7386) between two objects: the smallest patch that turns `from` into `to`, and
 * applying one. A pulled copy is written as such a patch so that everything on the pulling object that
 * the copy does not own (its own labels, annotations such as kubectl's last-applied configuration,
 * managedFields, status) stays exactly as its owner left it.
 *
 * @example
 * ```ts
 * import { applyMergePatch, mergePatch } from "./merge_patch.ts";
 * import assert from "node:assert/strict";
 * const from = { data: { a: "1", gone: "x" }, keep: true };
 * const to = { data: { a: "2" }, keep: true };
 * const patch = mergePatch(from, to);
 * assert.deepEqual(patch, { data: { a: "2", gone: null } });
 * assert.deepEqual(applyMergePatch(from, patch), to);
 * ```
 * @module
 */
import type { JsonValue } from "./types.ts";

type Json = JsonValue | undefined;

const isObject = (v: Json): v is { [key: string]: JsonValue } =>
  typeof v === "object" && v !== null && !Array.isArray(v);

/** The merge patch that turns `from` into `to` (undefined when they are equal); arrays are replaced whole. */
export function mergePatch(from: Json, to: Json): JsonValue | undefined {
  if (!isObject(from) || !isObject(to)) return equal(from, to) ? undefined : (to ?? null);
  const patch: { [key: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(to)) {
    if (v === undefined) continue;
    const d = mergePatch(from[k], v);
    if (d !== undefined) patch[k] = d;
  }
  for (const k of Object.keys(from)) if (!Object.hasOwn(to, k) || to[k] === undefined) patch[k] = null;
  return Object.keys(patch).length > 0 ? patch : undefined;
}

/** Applies a merge patch: null removes, objects merge, anything else replaces. */
export function applyMergePatch(target: Json, patch: JsonValue): JsonValue {
  if (!isObject(patch)) return patch;
  const out: { [key: string]: JsonValue } = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

function equal(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && equal(a[k], b[k]));
  }
  return false;
}

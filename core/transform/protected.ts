/**
 * Paths no transformation may touch: identity, ownership and bookkeeping fields, status, and every
 * KubeMirror label or annotation (the mirror markers live there).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { touchesProtected } from "./protected.ts";
 * assert.deepEqual(touchesProtected([{ key: "metadata" }, { key: "name" }]), "metadata.name is protected");
 * assert.deepEqual(touchesProtected([{ key: "data" }, { key: "LOG_LEVEL" }]), undefined);
 * ```
 * @module
 */
import { PREFIX } from "../markers.ts";
import type { JsonValue, KubeObject } from "../types.ts";
import type { Segment } from "./path.ts";

type Matcher = string | ((key: string) => boolean);

const isPrefixed = (key: string) => key.startsWith(PREFIX);

/** Protected paths; a function stands for every key it accepts. */
const PROTECTED: readonly (readonly Matcher[])[] = [
  ["apiVersion"],
  ["kind"],
  ["status"],
  ...[
    "name",
    "namespace",
    "uid",
    "resourceVersion",
    "generation",
    "creationTimestamp",
    "ownerReferences",
    "finalizers",
    "managedFields",
  ].map((f) => ["metadata", f]),
  ["metadata", "labels", isPrefixed],
  ["metadata", "annotations", isPrefixed],
];

function segMatches(m: Matcher, s: Segment): boolean {
  if (!("key" in s)) return false;
  return typeof m === "string" ? m === s.key : m(s.key);
}

function describe(p: readonly Matcher[], path: readonly Segment[]): string {
  return p.map((m, i) => typeof m === "string" ? m : `[${JSON.stringify((path[i] as { key: string })?.key)}]`)
    .join(".").replace(".[", "[");
}

/**
 * Whether a rule at `path` touches a protected path: the path is one, lies inside one, or (for
 * `value`, `template` and `delete`, which replace the whole subtree) holds one. Returns why, or undefined.
 * `mergeKeys` are the keys a merge rule adds below `path`.
 */
export function touchesProtected(
  path: readonly Segment[],
  mergeKeys?: readonly string[],
): string | undefined {
  for (const p of PROTECTED) {
    const n = Math.min(p.length, path.length);
    let same = true;
    for (let i = 0; i < n && same; i++) same = segMatches(p[i], path[i]);
    if (!same) continue;
    if (path.length >= p.length) return `${describe(p, path)} is protected`;
    if (mergeKeys === undefined) {
      return `it would replace or remove ${
        describe(p.slice(0, path.length), path)
      }, which holds protected fields`;
    }
    for (const k of mergeKeys) {
      const why = touchesProtected([...path, { key: k }], undefined);
      if (why) return why;
    }
  }
  return undefined;
}

/** The protected part of an object as one string, to check that a transformation left it alone. */
export function protectedFingerprint(obj: KubeObject): string {
  const m = (obj.metadata ?? {}) as Record<string, unknown>;
  const pick = (map: unknown) =>
    Object.entries((map ?? {}) as Record<string, JsonValue>).filter(([k]) => isPrefixed(k)).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0
    );
  return JSON.stringify([
    obj.apiVersion,
    obj.kind,
    obj.status,
    m.name,
    m.namespace,
    m.uid,
    m.resourceVersion,
    m.generation,
    m.creationTimestamp,
    m.ownerReferences,
    m.finalizers,
    m.managedFields,
    pick(m.labels),
    pick(m.annotations),
  ]);
}

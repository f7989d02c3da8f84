/**
 * The work queue's keys: one source of one kind, `group/Kind/namespace/name` (the core group empty, so a
 * ConfigMap's key starts with `/ConfigMap/`).
 *
 * @example
 * ```ts
 * import { parseKey, sourceKey } from "./queue_keys.ts";
 * import assert from "node:assert/strict";
 * assert.equal(sourceKey("/ConfigMap", "default", "cfg"), "/ConfigMap/default/cfg");
 * assert.deepEqual(parseKey(sourceKey("apps/Deployment", "default", "web")), { gk: "apps/Deployment", namespace: "default", name: "web" });
 * ```
 * @module
 */

/** A queue key: `group/Kind/namespace/name`. */
export function sourceKey(gk: string, namespace: string, name: string): string {
  return `${gk}/${namespace}/${name}`;
}

/** The parts of a queue key. */
export function parseKey(key: string): { gk: string; namespace: string; name: string } {
  const parts = key.split("/");
  const name = parts.pop()!;
  const namespace = parts.pop()!;
  return { gk: parts.join("/"), namespace, name };
}

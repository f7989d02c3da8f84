/**
 * The work queue's keys: one source of one kind, `group/Kind/namespace/name` (the core group empty, so a
 * ConfigMap's key starts with `/ConfigMap/`); a source read through a cluster link (§10) is prefixed
 * with its cluster, `cluster#group/Kind/namespace/name`; a link Secret's own status is `link:name`.
 *
 * @example
 * ```ts
 * import { linkKey, parseKey, sourceKey } from "./queue_keys.ts";
 * import assert from "node:assert/strict";
 * assert.equal(sourceKey("/ConfigMap", "default", "cfg"), "/ConfigMap/default/cfg");
 * assert.deepEqual(parseKey(sourceKey("apps/Deployment", "default", "web")), { gk: "apps/Deployment", namespace: "default", name: "web" });
 * assert.deepEqual(parseKey(sourceKey("/Secret", "default", "tls", "hub")), { gk: "/Secret", namespace: "default", name: "tls", cluster: "hub" });
 * assert.equal(linkKey("upstream"), "link:upstream");
 * ```
 * @module
 */

/** A queue key: `group/Kind/namespace/name`, or `cluster#group/Kind/namespace/name` for a link's source. */
export function sourceKey(gk: string, namespace: string, name: string, cluster?: string): string {
  return cluster ? `${cluster}#${gk}/${namespace}/${name}` : `${gk}/${namespace}/${name}`;
}

/** The parts of a source's queue key. */
export function parseKey(key: string): { gk: string; namespace: string; name: string; cluster?: string } {
  const hash = key.indexOf("#");
  const cluster = hash >= 0 ? key.slice(0, hash) : undefined;
  const parts = key.slice(hash + 1).split("/");
  const name = parts.pop()!;
  const namespace = parts.pop()!;
  return { gk: parts.join("/"), namespace, name, ...(cluster ? { cluster } : {}) };
}

const LINK = "link:";

/** The queue key of a link Secret's status and Events. */
export function linkKey(secret: string): string {
  return `${LINK}${secret}`;
}

/** The link Secret a key is about, or undefined when it is a source's key. */
export function linkOfKey(key: string): string | undefined {
  return key.startsWith(LINK) ? key.slice(LINK.length) : undefined;
}

/**
 * How the caches are indexed. Mirrors: by object name (the mirrors of one source share its name), by the
 * source their markers name (`namespace/name`), and by namespace (a namespace's change wakes the sources
 * of the mirrors in it). Sources: pulling objects by the source they pull (§9).
 *
 * @example
 * ```ts
 * import { BY_SOURCE, MIRROR_INDEXERS } from "./mirror_indexes.ts";
 * import assert from "node:assert/strict";
 * const mirror = { metadata: { name: "cfg", namespace: "app1", labels: { "kubemirror.raczylo.com/mirror": "true" }, annotations: {
 *   "kubemirror.raczylo.com/source-namespace": "default", "kubemirror.raczylo.com/source-name": "cfg" } } };
 * assert.deepEqual(MIRROR_INDEXERS[BY_SOURCE](mirror), ["default/cfg"]);
 * ```
 * @module
 */
import { ANNOTATION_PULL_FROM } from "../../core/markers.ts";
import { mirrorSourceOf } from "../../core/ownership.ts";
import { isPullingObject, parsePullFrom } from "../../core/pull.ts";
import type { KubeObject } from "../../core/types.ts";

/** Index of mirrors by object name. */
export const BY_NAME = "name";
/** Index of mirrors by the source their markers name, `namespace/name`. */
export const BY_SOURCE = "source";
/** Index of mirrors by namespace. */
export const BY_NAMESPACE = "namespace";
/** Index of mirrors of a link's sources by the link's cluster (§10); local mirrors are not in it. */
export const BY_CLUSTER = "cluster";

/** The {@link BY_SOURCE} value of a source: `namespace/name`, or `cluster#namespace/name` across clusters. */
export function sourceIndexValue(owner: { namespace: string; name: string; cluster?: string }): string {
  return owner.cluster
    ? `${owner.cluster}#${owner.namespace}/${owner.name}`
    : `${owner.namespace}/${owner.name}`;
}

/** Index of sources' cache: pulling objects by the source their `pull-from` names, `namespace/name`. */
export const BY_PULL_FROM = "pull-from";

/** The sources cache's indexers: a change to a source wakes the objects that pull it, found here. */
export const SOURCE_INDEXERS = {
  [BY_PULL_FROM]: (o: KubeObject): string[] => {
    const from = isPullingObject(o)
      ? parsePullFrom(o.metadata?.annotations?.[ANNOTATION_PULL_FROM])
      : undefined;
    return from ? [`${from.namespace}/${from.name}`] : [];
  },
};

/** The mirrors cache's indexers. */
export const MIRROR_INDEXERS = {
  [BY_NAME]: (m: KubeObject): string[] => [m.metadata?.name ?? ""],
  [BY_SOURCE]: (m: KubeObject): string[] => {
    const owner = mirrorSourceOf(m);
    return owner ? [sourceIndexValue(owner)] : [];
  },
  [BY_NAMESPACE]: (m: KubeObject): string[] => [m.metadata?.namespace ?? ""],
  [BY_CLUSTER]: (m: KubeObject): string[] => {
    const cluster = mirrorSourceOf(m)?.cluster;
    return cluster ? [cluster] : [];
  },
};

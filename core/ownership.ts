/**
 * Who owns an object in a target namespace: the mirror markers name the source (and, for a mirror made
 * across clusters, its cluster: §10); `adopt` gives consent.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { mirrorSourceOf } from "./ownership.ts";
 * const owner = mirrorSourceOf({ metadata: { labels: { "kubemirror.raczylo.com/mirror": "true" }, annotations: {
 *   "kubemirror.raczylo.com/source-namespace": "default", "kubemirror.raczylo.com/source-name": "cfg" } } });
 * assert.deepEqual(owner, { namespace: "default", name: "cfg" });
 * ```
 * @module
 */
import {
  ANNOTATION_ADOPT,
  ANNOTATION_SOURCE_CLUSTER,
  ANNOTATION_SOURCE_NAME,
  ANNOTATION_SOURCE_NAMESPACE,
  LABEL_MANAGED_BY,
  LABEL_MIRROR,
  MANAGED_BY_VALUE,
} from "./markers.ts";
import type { KubeObject } from "./types.ts";

/** The source a mirror's markers name: its namespace, name and, across clusters, its cluster. */
export interface MirrorOwner {
  namespace: string;
  name: string;
  /** Present only on mirrors of a link's source. */
  cluster?: string;
}

/** The source a mirror's markers name, or undefined when the object is not a mirror. */
export function mirrorSourceOf(obj: KubeObject): MirrorOwner | undefined {
  const labels = obj.metadata?.labels ?? {};
  const annotations = obj.metadata?.annotations ?? {};
  const marked = labels[LABEL_MIRROR] === "true" || labels[LABEL_MANAGED_BY] === MANAGED_BY_VALUE;
  const namespace = annotations[ANNOTATION_SOURCE_NAMESPACE];
  const name = annotations[ANNOTATION_SOURCE_NAME];
  if (!marked || !namespace || !name) return undefined;
  const cluster = annotations[ANNOTATION_SOURCE_CLUSTER];
  return cluster ? { namespace, name, cluster } : { namespace, name };
}

/**
 * Whether the object's markers name this source (same kind is the caller's business). The cluster is
 * part of the name: a local source never owns a link's mirror, nor one link another's.
 */
export function isMirrorOf(obj: KubeObject, source: MirrorOwner): boolean {
  const owner = mirrorSourceOf(obj);
  return owner !== undefined && owner.namespace === source.namespace && owner.name === source.name &&
    owner.cluster === (source.cluster || undefined);
}

/** Says who owns a mirror, for messages: `namespace/name`, or `cluster:namespace/name` across clusters. */
export function ownerName(owner: MirrorOwner): string {
  return owner.cluster
    ? `${owner.cluster}:${owner.namespace}/${owner.name}`
    : `${owner.namespace}/${owner.name}`;
}

/**
 * Whether the object's owner consented to be taken over by this source. Consent is given to local
 * sources only: across clusters, an object that is not a mirror stays its owner's (a conflict).
 */
export function adoptsFor(obj: KubeObject, source: MirrorOwner): boolean {
  if (source.cluster) return false;
  return (obj.metadata?.annotations?.[ANNOTATION_ADOPT] ?? "").trim() ===
    `${source.namespace}/${source.name}`;
}

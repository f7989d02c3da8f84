/**
 * Who owns an object in a target namespace: the mirror markers name the source; `adopt` gives consent.
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
  ANNOTATION_SOURCE_NAME,
  ANNOTATION_SOURCE_NAMESPACE,
  LABEL_MANAGED_BY,
  LABEL_MIRROR,
  MANAGED_BY_VALUE,
} from "./markers.ts";
import type { KubeObject } from "./types.ts";

/** The source a mirror's markers name, or undefined when the object is not a mirror. */
export function mirrorSourceOf(obj: KubeObject): { namespace: string; name: string } | undefined {
  const labels = obj.metadata?.labels ?? {};
  const annotations = obj.metadata?.annotations ?? {};
  const marked = labels[LABEL_MIRROR] === "true" || labels[LABEL_MANAGED_BY] === MANAGED_BY_VALUE;
  const namespace = annotations[ANNOTATION_SOURCE_NAMESPACE];
  const name = annotations[ANNOTATION_SOURCE_NAME];
  if (!marked || !namespace || !name) return undefined;
  return { namespace, name };
}

/** Whether the object's markers name this source (same kind is the caller's business). */
export function isMirrorOf(obj: KubeObject, source: { namespace: string; name: string }): boolean {
  const owner = mirrorSourceOf(obj);
  return owner !== undefined && owner.namespace === source.namespace && owner.name === source.name;
}

/** Whether the object's owner consented to be taken over by this source. */
export function adoptsFor(obj: KubeObject, source: { namespace: string; name: string }): boolean {
  return (obj.metadata?.annotations?.[ANNOTATION_ADOPT] ?? "").trim() ===
    `${source.namespace}/${source.name}`;
}

/**
 * What a pull writes on the pulling object (§9): the object as it reads once filled, the part of it a
 * pull owns (its content and the pull's annotations), and the patch that takes a copy back when the pull
 * is refused (revocation).
 *
 * @example
 * ```ts
 * import { revocationPatch } from "./pull_write.ts";
 * import assert from "node:assert/strict";
 * const copy = { apiVersion: "v1", kind: "Secret", type: "kubernetes.io/tls", data: { "tls.crt": "Y3J0", "tls.key": "a2V5" },
 *   metadata: { annotations: { "kubemirror.raczylo.com/source-content-hash": "0".repeat(64) } } };
 * assert.deepEqual(revocationPatch(copy, "SourceNotFound")?.data, { "tls.crt": "", "tls.key": "" });
 * ```
 * @module
 */
import {
  ANNOTATION_LAST_SYNC_TIME,
  ANNOTATION_SOURCE_CONTENT_HASH,
  ANNOTATION_SOURCE_NAME,
  ANNOTATION_SOURCE_NAMESPACE,
  ANNOTATION_SOURCE_UID,
  ANNOTATION_SYNC_STATUS,
} from "./markers.ts";
import { mergePatch } from "./merge_patch.ts";
import { base64 } from "./transform/apply.ts";
import type { JsonObject, JsonValue, KubeObject } from "./types.ts";

/** A Secret's type (`Opaque` when unset). */
export const secretType = (o: KubeObject): string => (typeof o.type === "string" ? o.type : "Opaque");
/** Whether an object is the core group's kind `kind`. */
export const isCore = (o: KubeObject, kind: string): boolean =>
  o.kind === kind && (o.apiVersion ?? "v1") === "v1";
/** Top-level keys that are the object's own, never copied: identity, metadata, status, immutability. */
const NOT_CONTENT = new Set(["apiVersion", "kind", "metadata", "status", "immutable"]);
/** What revocation empties, per kind. */
const REVOKED: Record<string, readonly string[]> = {
  Secret: ["data", "stringData"],
  ConfigMap: ["data", "binaryData"],
};

/**
 * What an emptied Secret of a typed kind holds: the API server requires these keys (and a valid JSON
 * document in a docker config), so they stay, holding nothing of the source.
 */
const EMPTY_SECRET_DATA: Readonly<Record<string, Record<string, string>>> = {
  "kubernetes.io/dockerconfigjson": { ".dockerconfigjson": base64('{"auths":{}}') },
  "kubernetes.io/dockercfg": { ".dockercfg": base64("{}") },
  "kubernetes.io/tls": { "tls.crt": "", "tls.key": "" },
  "kubernetes.io/basic-auth": { username: "", password: "" },
  // Must not be empty: a placeholder that is no key.
  "kubernetes.io/ssh-auth": { "ssh-privatekey": base64("revoked") },
};

/** The pulling object as it reads once filled: its own metadata with the markers, the source's content. */
export function desiredPuller(
  puller: KubeObject,
  rendered: KubeObject,
  markers: Record<string, string>,
): { object: KubeObject; markers: Record<string, string> } {
  const object: KubeObject = {
    apiVersion: puller.apiVersion,
    kind: puller.kind,
    metadata: { ...puller.metadata, annotations: { ...puller.metadata?.annotations, ...markers } },
  };
  if (puller.immutable !== undefined) object.immutable = puller.immutable;
  for (const [k, v] of Object.entries(rendered)) if (!NOT_CONTENT.has(k)) object[k] = v;
  return { object, markers };
}

/** What a pull may change: every content key, and the pull's own annotations. */
export function contentAndMarkers(o: KubeObject): JsonObject {
  const out: JsonObject = {};
  for (const [k, v] of Object.entries(o)) if (!NOT_CONTENT.has(k) && v !== undefined) out[k] = v as JsonValue;
  const annotations: JsonObject = {};
  for (
    const k of [
      ANNOTATION_SOURCE_NAMESPACE,
      ANNOTATION_SOURCE_NAME,
      ANNOTATION_SOURCE_UID,
      ANNOTATION_SOURCE_CONTENT_HASH,
      ANNOTATION_SYNC_STATUS,
    ]
  ) {
    const v = o.metadata?.annotations?.[k];
    if (v !== undefined) annotations[k] = v;
  }
  out.metadata = { annotations };
  return out;
}

/**
 * The patch that empties a pulled Secret's or ConfigMap's data, when it holds a copy (it carries the
 * content hash of a source); undefined for other kinds (they keep their last content) or when there is
 * nothing to take back.
 */
export function revocationPatch(puller: KubeObject, reason: string): JsonObject | undefined {
  const annotations = puller.metadata?.annotations ?? {};
  if (annotations[ANNOTATION_SOURCE_CONTENT_HASH] === undefined) return undefined;
  const keys = isCore(puller, "Secret")
    ? REVOKED.Secret
    : isCore(puller, "ConfigMap")
    ? REVOKED.ConfigMap
    : undefined;
  if (!keys) return undefined;
  const patch: JsonObject = {};
  for (const k of keys) if (puller[k] !== undefined) patch[k] = null;
  const emptied = isCore(puller, "Secret") ? EMPTY_SECRET_DATA[secretType(puller)] : undefined;
  if (emptied) patch.data = mergePatch(puller.data as JsonValue, emptied) ?? {};
  patch.metadata = {
    annotations: {
      [ANNOTATION_SOURCE_CONTENT_HASH]: null,
      [ANNOTATION_SOURCE_UID]: null,
      [ANNOTATION_LAST_SYNC_TIME]: null,
      [ANNOTATION_SYNC_STATUS]: `error:${reason}`,
    },
  };
  return patch;
}

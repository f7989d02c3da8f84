/**
 * Mirrors as the controller caches them: a Secret's or ConfigMap's long values (over 128 characters:
 * certificates, keys, documents) are replaced by their SHA-256, so the cache holds what ownership, drift
 * and clean-up need without the content itself. Drift is still found key by key (`driftOf` compares a
 * desired value with the cached value, or with its digest).
 *
 * @example
 * ```ts
 * import { DIGESTS, slimMaps } from "./content_digest.ts";
 * import assert from "node:assert/strict";
 * const cached = slimMaps({ kind: "Secret", data: { user: "YWRtaW4=", "tls.crt": "x".repeat(4096) } });
 * assert.deepEqual(cached.data, { user: "YWRtaW4=" });
 * assert.match((cached[DIGESTS] as any).data["tls.crt"], /^[0-9a-f]{64}$/);
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import type { KubeObject } from "./types.ts";

/** Where a cached object keeps the digests of the values it no longer holds (no Kubernetes field is named so). */
export const DIGESTS = "__kubemirror_digests";

/** The maps whose values may be digested: exactly compared, never defaulted by the API server. */
export const DIGESTED_MAPS: readonly string[] = ["data", "binaryData", "stringData"];

/** Values up to this many characters stay as they are. */
export const LONGEST_KEPT = 128;

const memo = new Map<string, string>();

/** SHA-256 of a value, hex; remembered for the values seen last (the same value is compared per target). */
export function valueDigest(value: string): string {
  let d = memo.get(value);
  if (d === undefined) {
    d = createHash("sha256").update(value).digest("hex");
    if (memo.size >= 4096) memo.delete(memo.keys().next().value!);
    memo.set(value, d);
  }
  return d;
}

/** The object with the long values of its data maps replaced by digests in {@link DIGESTS}. */
export function slimMaps(obj: KubeObject): KubeObject {
  let out: KubeObject | undefined;
  for (const k of DIGESTED_MAPS) {
    const map = obj[k];
    if (!map || typeof map !== "object" || Array.isArray(map)) continue;
    const kept: Record<string, unknown> = {};
    const digests: Record<string, string> = {};
    for (const [key, v] of Object.entries(map)) {
      if (typeof v === "string" && v.length > LONGEST_KEPT) digests[key] = valueDigest(v);
      else kept[key] = v;
    }
    if (Object.keys(digests).length === 0) continue;
    out ??= { ...obj, [DIGESTS]: {} };
    out[k] = kept;
    (out[DIGESTS] as Record<string, Record<string, string>>)[k] = digests;
  }
  return out ?? obj;
}

/** The digests an object holds for map `k` (empty when it holds the map whole). */
export function digestsOf(obj: KubeObject, k: string): Record<string, string> {
  return ((obj[DIGESTS] as Record<string, Record<string, string>> | undefined)?.[k]) ?? {};
}

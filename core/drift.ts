/**
 * Drift: whether an observed mirror's own content differs from the desired one. Fields the API server
 * adds by defaulting never count (observed may hold more than desired), nor does status; the maps of
 * Secret and ConfigMap content are compared exactly, since the server adds nothing to them.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { driftOf } from "./drift.ts";
 * assert.deepEqual(driftOf({ kind: "ConfigMap", data: { a: "1" } }, { kind: "ConfigMap", data: { a: "2" } }), "data.a");
 * const desired = { kind: "Service", spec: { ports: [{ port: 80 }] } };
 * const defaulted = { kind: "Service", spec: { ports: [{ port: 80, protocol: "TCP" }], type: "ClusterIP" } };
 * assert.equal(driftOf(desired, defaulted), undefined); // fields the API server defaults are not drift
 * ```
 * @module
 */
import { DIGESTS, digestsOf, valueDigest } from "./content_digest.ts";
import { ANNOTATION_LAST_SYNC_TIME, ANNOTATION_SOURCE_RESOURCE_VERSION } from "./markers.ts";
import type { KubeObject } from "./types.ts";

/** Annotations that change on every write without changing what the mirror holds. */
const VOLATILE_ANNOTATIONS = new Set([ANNOTATION_LAST_SYNC_TIME, ANNOTATION_SOURCE_RESOURCE_VERSION]);
/** Top-level maps the API server never adds to: extra keys in them are edits. */
const EXACT_TOP_LEVEL = new Set(["data", "binaryData", "stringData"]);

function isZero(v: unknown): boolean {
  if (v === undefined || v === null || v === "" || v === 0 || v === false) return true;
  if (Array.isArray(v)) return v.length === 0;
  if (typeof v === "object") return Object.keys(v as object).length === 0;
  return false;
}

/** The first path at which `observed` does not hold `desired`, or undefined when it does. */
function subsetDiff(desired: unknown, observed: unknown, path: string, exact: boolean): string | undefined {
  if (desired === undefined || desired === null) return undefined;
  if (observed === undefined || observed === null) return isZero(desired) ? undefined : path;
  if (Array.isArray(desired)) {
    if (!Array.isArray(observed) || observed.length !== desired.length) return path;
    for (let i = 0; i < desired.length; i++) {
      const d = subsetDiff(desired[i], observed[i], `${path}[${i}]`, exact);
      if (d) return d;
    }
    return undefined;
  }
  if (typeof desired === "object") {
    if (typeof observed !== "object" || Array.isArray(observed)) return path;
    const o = observed as Record<string, unknown>;
    for (const [k, v] of Object.entries(desired as Record<string, unknown>)) {
      const d = subsetDiff(v, o[k], path ? `${path}.${k}` : k, exact);
      if (d) return d;
    }
    if (exact) {
      for (const k of Object.keys(o)) {
        if (!Object.hasOwn(desired as object, k) && o[k] !== undefined) return path ? `${path}.${k}` : k;
      }
    }
    return undefined;
  }
  return desired === observed ? undefined : path;
}

/**
 * The first key at which an exactly compared map differs, when the observed side may hold digests of its
 * long values ({@link slimMaps}) instead of the values.
 */
function mapDiff(desired: unknown, observed: KubeObject, k: string): string | undefined {
  // The same answers as subsetDiff's exact comparison of the whole maps.
  if (desired === undefined || desired === null) {
    const left = [
      ...Object.keys(observed[k] && typeof observed[k] === "object" ? observed[k] as object : {}),
      ...Object.keys(digestsOf(observed, k)),
    ];
    return left.length > 0 ? k : undefined;
  }
  if (observed[k] === undefined || observed[k] === null) return isZero(desired) ? undefined : k;
  if (typeof desired !== "object" || typeof observed[k] !== "object" || Array.isArray(observed[k])) return k;
  const want = desired as Record<string, unknown>;
  const have = observed[k] as Record<string, unknown>;
  const digests = digestsOf(observed, k);
  for (const [key, v] of Object.entries(want)) {
    if (v === undefined || v === null) continue;
    if (Object.hasOwn(have, key) && have[key] !== undefined) {
      if (have[key] !== v) return `${k}.${key}`;
    } else if (Object.hasOwn(digests, key)) {
      if (typeof v !== "string" || digests[key] !== valueDigest(v)) return `${k}.${key}`;
    } else if (!isZero(v)) return `${k}.${key}`;
  }
  for (const key of Object.keys(have)) {
    if (!Object.hasOwn(want, key) && have[key] !== undefined) return `${k}.${key}`;
  }
  for (const key of Object.keys(digests)) if (!Object.hasOwn(want, key)) return `${k}.${key}`;
  return undefined;
}

/** The first field at which the observed mirror drifted from the desired one, or undefined. */
export function driftOf(desired: KubeObject, observed: KubeObject): string | undefined {
  const digested = observed[DIGESTS] !== undefined;
  for (const [k, v] of Object.entries(desired)) {
    if (k === "metadata" || k === "status" || k === "apiVersion") continue;
    const d = digested && EXACT_TOP_LEVEL.has(k)
      ? mapDiff(v, observed, k)
      : subsetDiff(v, observed[k], k, EXACT_TOP_LEVEL.has(k));
    if (d) return d;
  }
  for (const k of EXACT_TOP_LEVEL) {
    if (desired[k] !== undefined) continue;
    const d = digested ? mapDiff(undefined, observed, k) : isZero(observed[k]) ? undefined : k;
    if (d) return digested ? k : d;
  }
  const dl = desired.metadata?.labels ?? {};
  const ol = observed.metadata?.labels ?? {};
  for (const [k, v] of Object.entries(dl)) if (ol[k] !== v) return `metadata.labels[${JSON.stringify(k)}]`;
  const da = desired.metadata?.annotations ?? {};
  const oa = observed.metadata?.annotations ?? {};
  for (const [k, v] of Object.entries(da)) {
    if (!VOLATILE_ANNOTATIONS.has(k) && oa[k] !== v) return `metadata.annotations[${JSON.stringify(k)}]`;
  }
  return undefined;
}

/** Whether an immutable Secret or ConfigMap would have to be replaced to hold the desired content. */
export function needsRecreate(desired: KubeObject, observed: KubeObject): boolean {
  if (observed.kind !== "Secret" && observed.kind !== "ConfigMap") return false;
  if (observed.immutable !== true) return false;
  for (const k of ["data", "binaryData", "type", "immutable"]) {
    if (observed[DIGESTS] !== undefined && EXACT_TOP_LEVEL.has(k)) {
      if (mapDiff(desired[k], observed, k)) return true;
      continue;
    }
    if (subsetDiff(desired[k], observed[k], k, true)) return true;
    if (desired[k] === undefined && !isZero(observed[k]) && k !== "type" && k !== "immutable") return true;
  }
  return desired.immutable !== true;
}

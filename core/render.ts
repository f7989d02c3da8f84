/**
 * Rendering the desired mirror of a source in one target namespace (docs/CONTRACT.md §4): the source
 * minus its metadata and status, fresh metadata with the copied labels and annotations minus the
 * stripped prefixes plus the mirror markers, per-kind clean-up, the content hash, then the transform.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { renderMirror } from "./render.ts";
 * import { DEFAULT_CONFIG } from "./config.ts";
 * const r = renderMirror({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg", namespace: "default", uid: "u1" },
 *   data: { a: "1" } }, "app1", { strict: false }, DEFAULT_CONFIG, { now: "2026-01-01T00:00:00Z" });
 * assert.equal(r.object.metadata?.namespace, "app1");
 * assert.equal(r.hash.length, 64);
 * ```
 * @module
 */
import { sizeOnlyBudget } from "./transform/budget.ts";
import type { MirrorConfig } from "./config.ts";
import { contentHash } from "./hash.ts";
import {
  ANNOTATION_LAST_SYNC_TIME,
  ANNOTATION_SOURCE_CLUSTER,
  ANNOTATION_SOURCE_CONTENT_HASH,
  ANNOTATION_SOURCE_GENERATION,
  ANNOTATION_SOURCE_NAME,
  ANNOTATION_SOURCE_NAMESPACE,
  ANNOTATION_SOURCE_RESOURCE_VERSION,
  ANNOTATION_SOURCE_UID,
  ANNOTATION_SYNC_STATUS,
  LABEL_MANAGED_BY,
  LABEL_MIRROR,
  MANAGED_BY_VALUE,
  PREFIX,
} from "./markers.ts";
import { applyTransform, base64, type RuleFailure } from "./transform/apply.ts";
import type { TransformSpec } from "./transform/rules.ts";
import type { JsonObject, KubeObject } from "./types.ts";

/** Label and annotation prefixes never copied to a mirror (besides every `P` key). */
export const DEFAULT_STRIPPED_PREFIXES: readonly string[] = [
  PREFIX,
  "kubectl.kubernetes.io/last-applied-configuration",
  "argocd.argoproj.io/",
  "kustomize.toolkit.fluxcd.io/",
  "helm.toolkit.fluxcd.io/",
  "meta.helm.sh/",
  "app.kubernetes.io/managed-by",
];

/** The transform part of a parsed source. */
export interface MirrorTransform {
  transform?: TransformSpec;
  strict: boolean;
}

/** Time for the render: the wall-clock stamp to write, and a clock for the transform's time limit. */
export interface RenderClock {
  /** RFC 3339 UTC, written to `last-sync-time`. */
  now: string;
  /** Monotonic milliseconds for the transform's time limit; without it only sizes are limited. */
  clock?: () => number;
}

/** The rendered mirror. */
export interface RenderedMirror {
  object: KubeObject;
  hash: string;
  /** Rules that failed for this namespace. */
  failures: RuleFailure[];
  /** Set when the mirror must not be written: a limit stopped the transform, or a rule failed under strict. */
  blocked?: string;
}

function strip(map: Record<string, string> | undefined, prefixes: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(map ?? {})) {
    if (!prefixes.some((p) => k.startsWith(p))) out[k] = v;
  }
  return out;
}

/** The labels and annotations a mirror copies from its source. */
export function copiedMetadata(
  source: KubeObject,
  config: Pick<MirrorConfig, "stripLabelPrefixes" | "stripAnnotationPrefixes">,
): { labels: Record<string, string>; annotations: Record<string, string> } {
  return {
    labels: strip(source.metadata?.labels, [...DEFAULT_STRIPPED_PREFIXES, ...config.stripLabelPrefixes]),
    annotations: strip(source.metadata?.annotations, [
      ...DEFAULT_STRIPPED_PREFIXES,
      ...config.stripAnnotationPrefixes,
    ]),
  };
}

/**
 * The source's content without metadata and status, cleaned up per kind where the API server would
 * reject a copy or write it differently.
 */
export function mirrorBody(source: KubeObject): JsonObject {
  // Shares the source's values (nothing downstream mutates them: a transform works on its own copy), so
  // a prepared source kept between plans costs no second copy of a large body.
  const { metadata: _metadata, status: _status, ...body } = source as JsonObject;
  const group = (source.apiVersion ?? "").includes("/") ? source.apiVersion!.split("/")[0] : "";
  if (group === "" && source.kind === "Service") cleanService(body);
  if (group === "" && source.kind === "Secret") normalizeSecret(body);
  return body;
}

function cleanService(body: JsonObject): void {
  if (!body.spec || typeof body.spec !== "object" || Array.isArray(body.spec)) return;
  const spec = structuredClone(body.spec) as JsonObject;
  body.spec = spec;
  if (spec.clusterIP !== "None") {
    delete spec.clusterIP;
    delete spec.clusterIPs;
  }
  delete spec.healthCheckNodePort;
  if (Array.isArray(spec.ports)) {
    for (const port of spec.ports) {
      if (port && typeof port === "object" && !Array.isArray(port)) delete port.nodePort;
    }
  }
}

/** `stringData` is write-only: the API server folds it into `data`; do the same so manifests and reads agree. */
function normalizeSecret(body: JsonObject): void {
  const stringData = body.stringData as Record<string, unknown> | undefined;
  if (!stringData || typeof stringData !== "object") return;
  const data = { ...((body.data as JsonObject | undefined) ?? {}) };
  for (const [k, v] of Object.entries(stringData)) if (typeof v === "string") data[k] = base64(v);
  body.data = data;
  delete body.stringData;
}

/** What every mirror of one source shares; computed once per source, rendered once per namespace. */
export interface PreparedSource {
  source: KubeObject;
  body: JsonObject;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  hash: string;
  spec: MirrorTransform;
  /** For a source read through a link (§10): the upstream's name, marked on every mirror. */
  cluster?: string;
}

/** Computes the parts every mirror of `source` shares, the content hash among them. */
export function prepareSource(
  source: KubeObject,
  spec: MirrorTransform,
  config: MirrorConfig,
  cluster?: string,
): PreparedSource {
  const { labels, annotations } = copiedMetadata(source, config);
  const body = mirrorBody(source);
  const hash = contentHash({ content: body, labels, annotations, transform: spec.transform?.text ?? "" });
  return { source, body, labels, annotations, hash, spec, ...(cluster ? { cluster } : {}) };
}

/**
 * The source's annotations as a template sees them: without the `sync-status` the controller writes on
 * the source, which would otherwise make every change of status render, and write, every mirror again.
 */
function templateAnnotations(annotations: Record<string, string> | undefined): Record<string, string> {
  const { [ANNOTATION_SYNC_STATUS]: _status, ...rest } = annotations ?? {};
  return rest;
}

/**
 * Renders one prepared source's desired mirror in `targetNamespace`, named `targetName` (the source's
 * name, except for an object that pulls it under a name of its own).
 */
export function renderPrepared(
  prepared: PreparedSource,
  targetNamespace: string,
  config: MirrorConfig,
  time: RenderClock,
  targetName?: string,
): RenderedMirror {
  const { source, body, labels, annotations, hash, spec } = prepared;
  const meta = source.metadata ?? {};
  const markerAnnotations: Record<string, string> = {
    ...(prepared.cluster ? { [ANNOTATION_SOURCE_CLUSTER]: prepared.cluster } : {}),
    [ANNOTATION_SOURCE_NAMESPACE]: meta.namespace ?? "",
    [ANNOTATION_SOURCE_NAME]: meta.name ?? "",
    [ANNOTATION_SOURCE_CONTENT_HASH]: hash,
    [ANNOTATION_LAST_SYNC_TIME]: time.now,
  };
  if (typeof meta.generation === "number" && meta.generation > 0) {
    markerAnnotations[ANNOTATION_SOURCE_GENERATION] = String(meta.generation);
  }
  if (meta.uid) markerAnnotations[ANNOTATION_SOURCE_UID] = meta.uid;
  if (meta.resourceVersion) markerAnnotations[ANNOTATION_SOURCE_RESOURCE_VERSION] = meta.resourceVersion;
  const object: KubeObject = {
    apiVersion: source.apiVersion,
    kind: source.kind,
    metadata: {
      name: targetName ?? meta.name,
      namespace: targetNamespace,
      labels: { ...labels, [LABEL_MANAGED_BY]: MANAGED_BY_VALUE, [LABEL_MIRROR]: "true" },
      annotations: { ...annotations, ...markerAnnotations },
    },
  };
  for (const [k, v] of Object.entries(body)) if (k !== "apiVersion" && k !== "kind") object[k] = v;
  if (!spec.transform) return { object, hash, failures: [] };
  const limits = config.transformLimits;
  const clock = time.clock;
  const budget = clock
    ? { now: clock, deadline: clock() + limits.timeoutMs, maxBytes: limits.maxRenderedBytes }
    : sizeOnlyBudget(limits.maxRenderedBytes);
  const outcome = applyTransform(object, spec.transform, {
    budget,
    vars: {
      TargetNamespace: targetNamespace,
      SourceNamespace: meta.namespace ?? "",
      SourceName: meta.name ?? "",
      TargetName: targetName ?? meta.name ?? "",
      Labels: { ...(meta.labels ?? {}) },
      Annotations: templateAnnotations(meta.annotations),
    },
  });
  if (outcome.stopped) return { object, hash, failures: outcome.failures, blocked: outcome.stopped };
  if (spec.strict && outcome.failures.length > 0) {
    return {
      object,
      hash,
      failures: outcome.failures,
      blocked: `transform-strict: ${outcome.failures.map((f) => f.message).join("; ")}`,
    };
  }
  return { object: outcome.object, hash, failures: outcome.failures };
}

/** Renders the desired mirror of `source` in `targetNamespace`. */
export function renderMirror(
  source: KubeObject,
  targetNamespace: string,
  spec: MirrorTransform,
  config: MirrorConfig,
  time: RenderClock,
): RenderedMirror {
  return renderPrepared(prepareSource(source, spec, config), targetNamespace, config, time);
}

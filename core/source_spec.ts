/**
 * Reading a source object's annotations into its spec, or into precise errors naming the key and the
 * bad value (docs/CONTRACT.md §1).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseSource } from "./source_spec.ts";
 * import { DEFAULT_CONFIG } from "./config.ts";
 * const parsed = parseSource({
 *   apiVersion: "v1", kind: "ConfigMap",
 *   metadata: { name: "cfg", namespace: "default",
 *     labels: { "kubemirror.raczylo.com/enabled": "true" },
 *     annotations: { "kubemirror.raczylo.com/sync": "true", "kubemirror.raczylo.com/target-namespaces": "app-*" } },
 * }, DEFAULT_CONFIG);
 * assert.ok(parsed.ok);
 * ```
 * @module
 */
import type { MirrorConfig } from "./config.ts";
import { isGlob, matchesAny, namespacePatternError, splitList } from "./glob.ts";
import {
  ANNOTATION_MAX_TARGETS,
  ANNOTATION_PULL_FROM,
  ANNOTATION_SYNC,
  ANNOTATION_TARGET_CLUSTERS,
  ANNOTATION_TARGET_NAMESPACE_SELECTOR,
  ANNOTATION_TARGET_NAMESPACES,
  ANNOTATION_TRANSFORM,
  ANNOTATION_TRANSFORM_STRICT,
  LABEL_ENABLED,
} from "./markers.ts";
import { parseSelector } from "./label_selector.ts";
import type { TargetItem, TargetSpec } from "./targets.ts";
import { parseTransform, type TransformSpec } from "./transform/rules.ts";
import { groupOf, type KubeObject } from "./types.ts";
import { hasPodTemplate } from "./mirrorable.ts";
import { parseTargetClusters } from "./cluster_link.ts";

/** What a source asks for. */
export interface SourceSpec {
  targets: TargetSpec;
  /** `target-clusters` (§10): the clusters it names; absent: its own cluster only. */
  clusters?: string[];
  transform?: TransformSpec;
  strict: boolean;
}

/** One thing wrong with a source. */
export interface SourceError {
  /** The label or annotation at fault, when there is one. */
  key?: string;
  message: string;
}

/**
 * Something a source's author should know that does not stop it (the earlier implementation went on
 * the same way): a source with nothing to target, or a `transform-strict` value it does not understand.
 * `reason` is the Event reason.
 */
export interface SourceWarning {
  key: string;
  reason: "NoTargets" | "StrictValueNotUnderstood";
  message: string;
}

/** The result of {@link parseSource}. */
export type ParsedSource =
  | { ok: true; spec: SourceSpec; warnings: SourceWarning[] }
  | { ok: false; errors: SourceError[] };

/** Secret types that hold credentials of the cluster itself, or Helm's release state: never mirrored. */
export const FORBIDDEN_SECRET_TYPES: readonly string[] = [
  "kubernetes.io/service-account-token",
  "bootstrap.kubernetes.io/token",
  "helm.sh/release.v1",
];

/**
 * Whether the object carries both the label and the annotation that make it a source. An object that
 * pulls (`pull-from`, §9) is never a source, whatever its `sync` says.
 */
export function isEnabledSource(obj: KubeObject): boolean {
  const annotations = obj.metadata?.annotations;
  return obj.metadata?.labels?.[LABEL_ENABLED] === "true" && annotations?.[ANNOTATION_SYNC] === "true" &&
    annotations?.[ANNOTATION_PULL_FROM] === undefined;
}

/** Why this object may never be a source whatever its annotations say, or undefined. */
export function forbiddenSourceReason(obj: KubeObject, config: MirrorConfig): string | undefined {
  const ns = obj.metadata?.namespace ?? "";
  if (config.sourceNamespaces.length > 0 && !matchesAny(config.sourceNamespaces, ns)) {
    return `namespace "${ns}" is not allowed to hold sources (--source-namespaces ${
      config.sourceNamespaces.join(",")
    })`;
  }
  const gk = `${groupOf(obj.apiVersion ?? "")}/${obj.kind ?? ""}`;
  if (hasPodTemplate(obj) && !(config.namedKinds ?? []).includes(gk)) {
    return `${obj.kind} objects hold a pod template and would run code in the target namespaces: ` +
      `mirrored only when the kind is named in --resource-types`;
  }
  if (obj.kind === "Secret" && (obj.apiVersion ?? "v1") === "v1") {
    const type = typeof obj.type === "string" ? obj.type : "Opaque";
    if (FORBIDDEN_SECRET_TYPES.includes(type)) return `Secrets of type ${type} are never mirrored`;
  }
  return undefined;
}

/** Parses a source's annotations; every problem is reported, not just the first. */
export function parseSource(obj: KubeObject, config: MirrorConfig): ParsedSource {
  const annotations = obj.metadata?.annotations ?? {};
  const errors: SourceError[] = [];
  const warnings: SourceWarning[] = [];
  const forbidden = forbiddenSourceReason(obj, config);
  if (forbidden) errors.push({ message: forbidden });

  const items: TargetItem[] = [];
  const rawTargets = annotations[ANNOTATION_TARGET_NAMESPACES];
  for (const item of splitList(rawTargets)) {
    if (item === "all") items.push({ type: "all" });
    else if (item === "all-labeled") items.push({ type: "all-labeled" });
    else {
      const err = namespacePatternError(item);
      if (err) errors.push({ key: ANNOTATION_TARGET_NAMESPACES, message: err });
      else items.push(isGlob(item) ? { type: "glob", pattern: item } : { type: "name", name: item });
    }
  }

  const targets: TargetSpec = { items };
  const rawSelector = annotations[ANNOTATION_TARGET_NAMESPACE_SELECTOR];
  if (rawSelector !== undefined && rawSelector.trim() !== "") {
    const parsed = parseSelector(rawSelector);
    if (parsed.ok) targets.selector = parsed.selector;
    else {
      errors.push({
        key: ANNOTATION_TARGET_NAMESPACE_SELECTOR,
        message: `invalid label selector ${JSON.stringify(rawSelector)}: ${parsed.error}`,
      });
    }
  }
  const hasTargets = splitList(rawTargets).length > 0 || (rawSelector ?? "").trim() !== "";
  if (!hasTargets) {
    warnings.push({
      key: ANNOTATION_TARGET_NAMESPACES,
      reason: "NoTargets",
      message:
        `nothing is mirrored: no target namespaces; set ${ANNOTATION_TARGET_NAMESPACES} or ${ANNOTATION_TARGET_NAMESPACE_SELECTOR}`,
    });
  }

  const rawMax = annotations[ANNOTATION_MAX_TARGETS];
  if (rawMax !== undefined) {
    const trimmed = rawMax.trim();
    // It only lowers the global cap: a number past any cap (however many digits) means the global cap.
    if (/^[0-9]+$/.test(trimmed) && /[1-9]/.test(trimmed)) {
      targets.maxTargets = Number(trimmed) <= Number.MAX_SAFE_INTEGER ? Number(trimmed) : Infinity;
    } else {
      errors.push({
        key: ANNOTATION_MAX_TARGETS,
        message: `${JSON.stringify(rawMax)} is not a positive whole number`,
      });
    }
  }

  const clusters = parseTargetClusters(annotations[ANNOTATION_TARGET_CLUSTERS]);
  if (!clusters.ok) errors.push({ key: ANNOTATION_TARGET_CLUSTERS, message: clusters.message });

  const transformSpec = parseTransformSpec(annotations, config);
  errors.push(...transformSpec.errors);
  warnings.push(...transformSpec.warnings);
  if (errors.length > 0 || !clusters.ok) return { ok: false, errors };
  const named = clusters.clusters ? { clusters: clusters.clusters } : {};
  return { ok: true, spec: { targets, ...named, ...transformSpec.spec }, warnings };
}

/**
 * The transformation a source asks for (`transform`, `transform-strict`): shared by its pushed mirrors
 * and by the objects that pull it.
 */
export function parseTransformSpec(
  annotations: Record<string, string>,
  config: Pick<MirrorConfig, "transformLimits">,
): {
  spec: { transform?: TransformSpec; strict: boolean };
  errors: SourceError[];
  warnings: SourceWarning[];
} {
  const errors: SourceError[] = [];
  const warnings: SourceWarning[] = [];
  let strict = false;
  const rawStrict = annotations[ANNOTATION_TRANSFORM_STRICT];
  if (rawStrict !== undefined) {
    const v = rawStrict.trim();
    if (v === "true" || v === "1") strict = true;
    else if (v !== "false" && v !== "0" && v !== "") {
      warnings.push({
        key: ANNOTATION_TRANSFORM_STRICT,
        reason: "StrictValueNotUnderstood",
        message: `${
          JSON.stringify(rawStrict)
        } is not one of "true", "1", "false", "0": transformations are not strict`,
      });
    }
  }

  let transform: TransformSpec | undefined;
  const rawTransform = annotations[ANNOTATION_TRANSFORM];
  if (rawTransform !== undefined && rawTransform.trim() !== "") {
    const parsed = parseTransform(rawTransform, config.transformLimits);
    if (parsed.ok) transform = parsed.spec;
    else errors.push({ key: ANNOTATION_TRANSFORM, message: parsed.error });
  }
  return { spec: { transform, strict }, errors, warnings };
}

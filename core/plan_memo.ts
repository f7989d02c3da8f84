/**
 * What one plan of a source hands to the next plan of the same source ({@link PlanMemo}), and the parse
 * that reuses it. It never changes a plan: it spares parsing, copying and hashing a source that kept its
 * uid and resourceVersion (the API server gives every change a new one) under the same flags and link.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseAndPrepare } from "./plan_memo.ts";
 * import { DEFAULT_CONFIG } from "./config.ts";
 * const source = { apiVersion: "v1", kind: "ConfigMap", data: { a: "1" }, metadata: { name: "cfg",
 *   namespace: "default", uid: "u1", resourceVersion: "7", labels: { "kubemirror.raczylo.com/enabled": "true" },
 *   annotations: { "kubemirror.raczylo.com/sync": "true", "kubemirror.raczylo.com/target-namespaces": "app1" } } };
 * const first = parseAndPrepare(source, DEFAULT_CONFIG);
 * assert.ok(first.ok);
 * const memo = { uid: "u1", resourceVersion: "7", config: DEFAULT_CONFIG, ...first, inSync: new Map() };
 * const again = parseAndPrepare(source, DEFAULT_CONFIG, undefined, memo);
 * assert.ok(again.ok && again.prepared === first.prepared); // reused, not parsed again
 * ```
 * @module
 */
import type { LinkScope } from "./cluster_link.ts";
import type { MirrorConfig } from "./config.ts";
import { canonicalJson } from "./hash.ts";
import { ANNOTATION_SYNC_STATUS } from "./markers.ts";
import { type PreparedSource, prepareSource } from "./render.ts";
import { type ParsedSource, parseSource, type SourceSpec, type SourceWarning } from "./source_spec.ts";
import type { KubeObject } from "./types.ts";

/**
 * What one plan of a source hands to the next plan of the same source. The source's parse and prepared
 * parts are reused while it keeps its uid and resourceVersion under the same flags and link; a mirror found
 * in sync (with no transform failure) is not rendered again while it keeps its resourceVersion and the
 * source its content hash (with a transform: the source its resourceVersion).
 */
export interface PlanMemo {
  uid?: string;
  resourceVersion?: string;
  config: MirrorConfig;
  cluster?: string;
  spec: SourceSpec;
  warnings: readonly SourceWarning[];
  prepared: PreparedSource;
  /** The resourceVersion of each mirror found in sync with no transform failure, by namespace. */
  inSync: ReadonlyMap<string, string>;
}

/** The flags a source is read under: through a link, the upstream's `--source-namespaces` is its own business. */
export function sourceConfig(config: MirrorConfig, link?: LinkScope): MirrorConfig {
  return link ? { ...config, sourceNamespaces: [] } : config;
}

/** The parsed and prepared parts of `source`, from `memo` when it was made from the same source. */
export function parseAndPrepare(
  source: KubeObject,
  config: MirrorConfig,
  link?: LinkScope,
  memo?: PlanMemo,
):
  | Extract<ParsedSource, { ok: false }>
  | { ok: true; spec: SourceSpec; warnings: readonly SourceWarning[]; prepared: PreparedSource } {
  const meta = source.metadata;
  if (
    memo && memo.uid === meta?.uid && memo.resourceVersion === meta?.resourceVersion &&
    meta?.resourceVersion !== undefined && memo.config === config && memo.cluster === link?.cluster
  ) {
    return { ok: true, spec: memo.spec, warnings: memo.warnings, prepared: memo.prepared };
  }
  // An upstream's --source-namespaces are its own business: across clusters only the downstream's rules apply.
  const parsed = parseSource(source, sourceConfig(config, link));
  if (!parsed.ok) return parsed;
  return { ...parsed, prepared: prepareSource(source, parsed.spec, config, link?.cluster) };
}

/** The parts of a source the controller writes on it, which no plan reads. */
function withoutOwnWrites(o: KubeObject): KubeObject {
  const { resourceVersion: _rv, managedFields: _mf, finalizers: _f, ...meta } = o.metadata ?? {};
  const { [ANNOTATION_SYNC_STATUS]: _status, ...annotations } = meta.annotations ?? {};
  return { ...o, metadata: { ...meta, annotations } };
}

/**
 * `memo` carried over to `after`, the same source once the controller wrote its `sync-status` or its
 * finalizer on it: a new resourceVersion, and nothing a plan reads changed, so the next plan need not
 * parse and hash it again, and may still be of the namespaces that changed only (a transform's templates
 * do not see `sync-status`). Undefined when anything else differs.
 */
export function rebaseMemo(memo: PlanMemo, after: KubeObject): PlanMemo | undefined {
  const before = memo.prepared.source;
  if (memo.uid !== after.metadata?.uid) return undefined;
  if (after.metadata?.resourceVersion === undefined) return undefined;
  if (canonicalJson(withoutOwnWrites(before)) !== canonicalJson(withoutOwnWrites(after))) return undefined;
  return {
    ...memo,
    resourceVersion: after.metadata.resourceVersion,
    prepared: { ...memo.prepared, source: after },
  };
}

/**
 * The labels, annotations and finalizer of docs/CONTRACT.md §1.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ANNOTATION_SYNC } from "./markers.ts";
 * assert.equal(ANNOTATION_SYNC, "kubemirror.raczylo.com/sync");
 * ```
 * @module
 */

/** Every key the controller reads or writes starts with this prefix. */
export const PREFIX = "kubemirror.raczylo.com/";

/** Source label that lets the controller watch sources through a server-side label selector. */
export const LABEL_ENABLED = `${PREFIX}enabled`;
/** Source annotation that must be `"true"` for the object to be a source. */
export const ANNOTATION_SYNC = `${PREFIX}sync`;
/** Source annotation: comma list of names, globs, `all`, `all-labeled`. */
export const ANNOTATION_TARGET_NAMESPACES = `${PREFIX}target-namespaces`;
/** Source annotation: a label selector over namespaces. */
export const ANNOTATION_TARGET_NAMESPACE_SELECTOR = `${PREFIX}target-namespace-selector`;
/** Source annotation that lowers the global `--max-targets`. */
export const ANNOTATION_MAX_TARGETS = `${PREFIX}max-targets`;
/** Source annotation holding transformation rules as YAML. */
export const ANNOTATION_TRANSFORM = `${PREFIX}transform`;
/** Source annotation: `"true"` or `"1"` makes a failing rule fail the mirror. */
export const ANNOTATION_TRANSFORM_STRICT = `${PREFIX}transform-strict`;
/** Written by the controller on a source: `reconciled:<n>,errors:<m>`. */
export const ANNOTATION_SYNC_STATUS = `${PREFIX}sync-status`;
/** Finalizer the controller keeps on enabled sources until their mirrors are gone. */
export const FINALIZER = `${PREFIX}finalizer`;

/** Source annotation: the namespaces (names, globs, `all`) whose objects may pull this source (§9). */
export const ANNOTATION_PULL_ALLOWED_NAMESPACES = `${PREFIX}pull-allowed-namespaces`;
/** Pulling object annotation: `<namespace>/<name>` of the source to copy (§9). */
export const ANNOTATION_PULL_FROM = `${PREFIX}pull-from`;

/** Source annotation: the clusters, by `--cluster-name` (names, globs, `all`), that may receive it (§10). */
export const ANNOTATION_TARGET_CLUSTERS = `${PREFIX}target-clusters`;
/** Mirror annotation: the cluster (the link's name) of the source of a mirror made across clusters (§10). */
export const ANNOTATION_SOURCE_CLUSTER = `${PREFIX}source-cluster`;
/** Link Secret label: `"true"` makes a Secret in the controller's namespace a link to an upstream (§10). */
export const LABEL_CLUSTER_LINK = `${PREFIX}cluster-link`;
/** Link Secret annotation: the upstream cluster's name. */
export const ANNOTATION_CLUSTER_NAME = `${PREFIX}cluster-name`;
/** Link Secret annotation: the downstream namespaces (names, globs) the link may write into; default all. */
export const ANNOTATION_ALLOWED_NAMESPACES = `${PREFIX}allowed-namespaces`;
/** Written by the controller on a link Secret: `sources:<n>,mirrors:<m>,errors:<k>`. */
export const ANNOTATION_LINK_STATUS = `${PREFIX}link-status`;
/** The cluster name when `--cluster-name` is not given. */
export const DEFAULT_CLUSTER_NAME = "local";

/** Namespace label: `"true"` opts in, `"false"` opts out. */
export const LABEL_ALLOW_MIRRORS = `${PREFIX}allow-mirrors`;
/** Annotation on an existing object in a target namespace: consent to be taken over by `<ns>/<name>`. */
export const ANNOTATION_ADOPT = `${PREFIX}adopt`;

/** Mirror label: `kubemirror`. */
export const LABEL_MANAGED_BY = `${PREFIX}managed-by`;
/** Value of {@link LABEL_MANAGED_BY} on every mirror. */
export const MANAGED_BY_VALUE = "kubemirror";
/** Mirror label: `"true"`; the controller watches mirrors through it. */
export const LABEL_MIRROR = `${PREFIX}mirror`;
/** Mirror annotation naming the source namespace. */
export const ANNOTATION_SOURCE_NAMESPACE = `${PREFIX}source-namespace`;
/** Mirror annotation naming the source. */
export const ANNOTATION_SOURCE_NAME = `${PREFIX}source-name`;
/** Mirror annotation with the source's uid. */
export const ANNOTATION_SOURCE_UID = `${PREFIX}source-uid`;
/** Mirror annotation with the SHA-256 of everything that shapes the mirror. */
export const ANNOTATION_SOURCE_CONTENT_HASH = `${PREFIX}source-content-hash`;
/** Mirror annotation: RFC 3339 time of the last write. */
export const ANNOTATION_LAST_SYNC_TIME = `${PREFIX}last-sync-time`;
/** Mirror annotation: the source's generation, when it has one above zero. */
export const ANNOTATION_SOURCE_GENERATION = `${PREFIX}source-generation`;
/** Mirror annotation: the source's resourceVersion at the last write. */
export const ANNOTATION_SOURCE_RESOURCE_VERSION = `${PREFIX}source-resource-version`;

/** Namespaces that never receive mirrors, whatever the flags say. */
export const ALWAYS_EXCLUDED_NAMESPACES: readonly string[] = [
  "kube-system",
  "kube-public",
  "kube-node-lease",
];

/**
 * Across clusters (docs/CONTRACT.md §10): which clusters a source names (`target-clusters`), what a link
 * Secret says (the upstream's name, its kubeconfig, the downstream namespaces it may write into), and the
 * `link-status` a link carries. A link is read-only: the downstream controller reads the upstream's
 * sources through it and writes only into its own cluster.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { clusterMatches, parseLink } from "./cluster_link.ts";
 * assert.equal(clusterMatches(["prod-*"], "prod-eu"), true);
 * const link = parseLink({ metadata: { name: "upstream", namespace: "kubemirror",
 *   labels: { "kubemirror.raczylo.com/cluster-link": "true" },
 *   annotations: { "kubemirror.raczylo.com/cluster-name": "hub" } },
 *   data: { kubeconfig: btoa("apiVersion: v1\nkind: Config\n") } }, "edge");
 * assert.equal(link.ok && link.link.cluster, "hub");
 * ```
 * @module
 */
import { globMatch, namespacePatternError, splitList } from "./glob.ts";
import {
  ANNOTATION_ALLOWED_NAMESPACES,
  ANNOTATION_CLUSTER_NAME,
  ANNOTATION_LINK_STATUS,
  LABEL_MIRROR,
} from "./markers.ts";
import { mirrorSourceOf } from "./ownership.ts";
import type { KubeObject } from "./types.ts";

/** What a plan needs to know of the link a source came through. */
export interface LinkScope {
  /** The upstream cluster's name (the link's `cluster-name`). */
  cluster: string;
  /** Names and globs of the downstream namespaces the link may write into; empty: all. */
  allowedNamespaces: readonly string[];
  /**
   * Whether the link's caches are synced and its upstream answers. While it is not, nothing is planned
   * for its sources: its mirrors stay as they are (a lost connection never deletes).
   */
  up: boolean;
}

/** A link Secret, read. */
export interface ClusterLink {
  /** The link Secret's name (in the controller's namespace). */
  secret: string;
  cluster: string;
  allowedNamespaces: string[];
  /** The kubeconfig for the upstream, as text. */
  kubeconfig: string;
}

/** One thing wrong with a link Secret. */
export interface LinkError {
  key: string;
  message: string;
}

/** The result of {@link parseLink}. */
export type ParsedLink = { ok: true; link: ClusterLink } | { ok: false; errors: LinkError[] };

/** Whether a cluster name is valid: a DNS-1123 label. */
export function clusterNameError(name: string): string | undefined {
  if (name === "") return "the cluster name is empty";
  const err = namespacePatternError(name);
  if (err || name.includes("*") || name.includes("?")) {
    return `"${name}" is not a valid cluster name: a DNS-1123 label (lower case letters, digits and '-')`;
  }
  return undefined;
}

/**
 * Parses `target-clusters`: names, globs and `all`. Undefined when the annotation is absent (the source
 * is for its own cluster only); an error names the first bad item.
 */
export function parseTargetClusters(
  raw: string | undefined,
): { ok: true; clusters?: string[] } | { ok: false; message: string } {
  if (raw === undefined) return { ok: true };
  const clusters = splitList(raw);
  for (const c of clusters) {
    if (c === "all") continue;
    const err = namespacePatternError(c);
    if (err) return { ok: false, message: err.replace("namespace", "cluster") };
  }
  return { ok: true, clusters };
}

/** Whether a cluster list (from `target-clusters`) names `cluster`. */
export function clusterMatches(clusters: readonly string[], cluster: string): boolean {
  return clusters.some((c) => c === "all" || globMatch(c, cluster));
}

/** Reads a link Secret; every problem is reported. `localCluster` is this controller's `--cluster-name`. */
export function parseLink(secret: KubeObject, localCluster: string): ParsedLink {
  const annotations = secret.metadata?.annotations ?? {};
  const errors: LinkError[] = [];
  if (mirrorSourceOf(secret)) {
    // Only the downstream administrator makes links: a copy written by the controller never is one.
    errors.push({ key: LABEL_MIRROR, message: "a mirror is never a cluster link" });
  }
  const cluster = (annotations[ANNOTATION_CLUSTER_NAME] ?? "").trim();
  if (cluster === "") {
    errors.push({
      key: ANNOTATION_CLUSTER_NAME,
      message: `the link names no upstream: set ${ANNOTATION_CLUSTER_NAME}`,
    });
  } else {
    const err = clusterNameError(cluster);
    if (err) errors.push({ key: ANNOTATION_CLUSTER_NAME, message: err });
    else if (cluster === localCluster) {
      errors.push({
        key: ANNOTATION_CLUSTER_NAME,
        message:
          `the link names this cluster ("${cluster}", its --cluster-name): a cluster cannot link itself`,
      });
    }
  }
  const allowedNamespaces = splitList(annotations[ANNOTATION_ALLOWED_NAMESPACES]);
  for (const ns of allowedNamespaces) {
    const err = namespacePatternError(ns);
    if (err) errors.push({ key: ANNOTATION_ALLOWED_NAMESPACES, message: err });
  }
  const data = (secret.data ?? {}) as Record<string, string>;
  let kubeconfig = "";
  if (typeof data.kubeconfig !== "string" || data.kubeconfig === "") {
    errors.push({ key: "data.kubeconfig", message: "the link Secret has no data.kubeconfig" });
  } else {
    try {
      kubeconfig = new TextDecoder("utf-8", { fatal: true }).decode(
        Uint8Array.from(atob(data.kubeconfig), (c) => c.charCodeAt(0)),
      );
    } catch {
      errors.push({ key: "data.kubeconfig", message: "data.kubeconfig is not base64-encoded UTF-8 text" });
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, link: { secret: secret.metadata?.name ?? "", cluster, allowedNamespaces, kubeconfig } };
}

/** The parts of a link's status. */
export interface LinkCounts {
  /** The upstream's sources that name this cluster. */
  sources: number;
  /** Mirrors of the link's sources in this cluster. */
  mirrors: number;
  /** Sources of the link with an error. */
  errors: number;
}

/** The `link-status` annotation's value. */
export function linkStatusValue(c: LinkCounts): string {
  return `sources:${c.sources},mirrors:${c.mirrors},errors:${c.errors}`;
}

/** Whether a link Secret's `link-status` must be written (it differs from what it carries). */
export function linkStatusChange(secret: KubeObject, c: LinkCounts): string | undefined {
  const value = linkStatusValue(c);
  return secret.metadata?.annotations?.[ANNOTATION_LINK_STATUS] === value ? undefined : value;
}

/** Whether a source names this cluster: absent `target-clusters` means its own cluster only. */
export function namesCluster(
  clusters: readonly string[] | undefined,
  cluster: string,
  viaLink: boolean,
): boolean {
  if (clusters === undefined) return !viaLink;
  return clusterMatches(clusters, cluster);
}

/**
 * Plain data shapes shared by the core: Kubernetes objects as JSON values, namespaces, references.
 *
 * @example
 * ```ts
 * import type { KubeObject } from "./types.ts";
 * const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg", namespace: "default" } };
 * ```
 * @module
 */

/** A JSON value as the API server sends it. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
/** A JSON object. */
export type JsonObject = { [key: string]: JsonValue };

/** Object metadata: the fields the core reads; everything else passes through untouched. */
export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  finalizers?: string[];
  ownerReferences?: JsonValue[];
  managedFields?: JsonValue[];
  [key: string]: unknown;
}

/** Any Kubernetes object. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
  [key: string]: unknown;
}

/** A namespace as target resolution sees it. */
export interface NamespaceInfo {
  name: string;
  labels: Record<string, string>;
  /** `Active` or `Terminating`; a namespace with a deletionTimestamp counts as terminating. */
  phase: "Active" | "Terminating";
}

/** Which source an action or error is about. */
export interface SourceRef {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  /** For a source read through a link (§10): the upstream cluster's name. Absent for a local source. */
  cluster?: string;
}

/** Where a mirror goes. */
export interface TargetRef {
  namespace: string;
  name: string;
}

/** Reads a Namespace object into the shape target resolution needs. */
export function namespaceInfo(ns: KubeObject): NamespaceInfo {
  const status = ns.status as { phase?: string } | undefined;
  const terminating = status?.phase === "Terminating" || Boolean(ns.metadata?.deletionTimestamp);
  return {
    name: ns.metadata?.name ?? "",
    labels: { ...(ns.metadata?.labels ?? {}) },
    phase: terminating ? "Terminating" : "Active",
  };
}

/** The reference of a source object. */
export function sourceRef(obj: KubeObject): SourceRef {
  return {
    apiVersion: obj.apiVersion ?? "",
    kind: obj.kind ?? "",
    namespace: obj.metadata?.namespace ?? "",
    name: obj.metadata?.name ?? "",
  };
}

/** The API group of an apiVersion: `""` for the core group. */
export function groupOf(apiVersion: string): string {
  const slash = apiVersion.indexOf("/");
  return slash < 0 ? "" : apiVersion.slice(0, slash);
}

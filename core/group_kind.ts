/**
 * One vocabulary for kinds: a group and kind ({@link GroupKind}) with its key (`group/Kind`, the core
 * group empty), the one `kind` label value every metric uses (`Kind` or `Kind.group`), the `controller`
 * label (the same, lower case), and the spellings of `--resource-types` (`Kind.version[.group]`) and of
 * RBAC (`plural[.group]`).
 *
 * @example
 * ```ts
 * import { controllerLabel, groupKindKey, groupKindOf, kindLabel, rbacResource, resourceType } from "./group_kind.ts";
 * import assert from "node:assert/strict";
 * const middleware = { group: "traefik.io", version: "v1alpha1", kind: "Middleware", plural: "middlewares" };
 * assert.equal(groupKindKey(middleware), "traefik.io/Middleware");
 * assert.equal(groupKindKey(groupKindOf({ apiVersion: "v1", kind: "Secret" })), "/Secret");
 * assert.equal(kindLabel(middleware), "Middleware.traefik.io");
 * assert.equal(kindLabel({ group: "", kind: "ConfigMap" }), "ConfigMap");
 * assert.equal(controllerLabel(middleware), "middleware.traefik.io");
 * assert.equal(resourceType(middleware), "Middleware.v1alpha1.traefik.io");
 * assert.equal(rbacResource(middleware), "middlewares.traefik.io");
 * ```
 * @module
 */
import { groupOf } from "./types.ts";

/** A kind, as Kubernetes names one across versions: its API group (`""` for the core group) and kind. */
export interface GroupKind {
  group: string;
  kind: string;
}

/** The key of a kind in maps, indexes and queue keys: `group/Kind` (`/Secret` for the core group). */
export function groupKindKey(gk: GroupKind): string {
  return `${gk.group}/${gk.kind}`;
}

/** The group and kind of an object (or reference) from its apiVersion and kind. */
export function groupKindOf(obj: { apiVersion?: string; kind?: string }): GroupKind {
  return { group: groupOf(obj.apiVersion ?? ""), kind: obj.kind ?? "" };
}

/** The key of an object's kind: `groupKindKey(groupKindOf(obj))`. */
export function objectGroupKindKey(obj: { apiVersion?: string; kind?: string }): string {
  return groupKindKey(groupKindOf(obj));
}

/** The `kind` label of every metric: `Kind` for the core group, else `Kind.group` (no version: it changes). */
export function kindLabel(gk: GroupKind): string {
  return gk.group ? `${gk.kind}.${gk.group}` : gk.kind;
}

/** The `controller` label of the reconcile metrics: the kind label, lower case. */
export function controllerLabel(gk: GroupKind): string {
  return kindLabel(gk).toLowerCase();
}

/** `Kind.version[.group]`, as `--resource-types` names a kind (and as logs name it). */
export function resourceType(k: GroupKind & { version: string }): string {
  return `${k.kind}.${k.version}${k.group ? "." + k.group : ""}`;
}

/** `plural[.group]`, as RBAC names a resource. */
export function rbacResource(k: { group: string; plural: string }): string {
  return k.group ? `${k.plural}.${k.group}` : k.plural;
}

/**
 * What is mirrorable (docs/CONTRACT.md §2), decided over API discovery data: namespaced resources, not
 * subresources, with every verb the controller needs, one version per group and kind (the group's
 * preferred one), minus the kinds that are never mirrored and, unless named explicitly, the RBAC kinds.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { denyReason, parseResourceType } from "./mirrorable.ts";
 * assert.deepEqual(parseResourceType("Ingress.v1.networking.k8s.io"), { ok: true, type: { kind: "Ingress", version: "v1", group: "networking.k8s.io" } });
 * assert.deepEqual(denyReason("", "Pod", true), "Pod is never mirrored");
 * ```
 * @module
 */
import { type GroupKind, groupKindKey, kindLabel, resourceType } from "./group_kind.ts";

/** One resource of a discovery document. */
export interface ApiResource {
  name: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
}

/** The resources of one group version (`/api/v1`, `/apis/<group>/<version>`). */
export interface ApiResourceList {
  groupVersion: string;
  resources: ApiResource[];
}

/** A group with its versions and preferred version. */
export interface ApiGroupInfo {
  name: string;
  versions: string[];
  preferredVersion?: string;
}

/** A kind the controller mirrors. */
export interface MirrorableKind {
  group: string;
  version: string;
  kind: string;
  /** The resource name, for URLs. */
  plural: string;
}

/** A parsed `--resource-types` item. */
export interface ResourceType {
  kind: string;
  version: string;
  group: string;
}

/** The verbs the controller needs on a kind to mirror it. */
export const MIRROR_VERBS: readonly string[] = [
  "get",
  "list",
  "watch",
  "create",
  "update",
  "patch",
  "delete",
];
const REQUIRED_VERBS = MIRROR_VERBS;

/** Kinds never mirrored, as `group/Kind`; `group/*` denies a whole group. */
const NEVER: ReadonlySet<string> = new Set([
  "/Pod",
  "/Event",
  "events.k8s.io/Event",
  "/Node",
  "/Endpoints",
  "discovery.k8s.io/EndpointSlice",
  "coordination.k8s.io/Lease",
  "/Binding",
  "/ComponentStatus",
  "apps/ControllerRevision",
  "apps/ReplicaSet",
  "/ReplicationController",
  "batch/Job",
  "batch/CronJob",
  "/PersistentVolumeClaim",
  "snapshot.storage.k8s.io/VolumeSnapshot",
  "metrics.k8s.io/*",
  "custom.metrics.k8s.io/*",
  "external.metrics.k8s.io/*",
]);

/** Well-known cluster-scoped kinds, for planning from files where no discovery data says what is namespaced. */
export const KNOWN_CLUSTER_SCOPED: ReadonlySet<string> = new Set([
  "/Namespace",
  "/Node",
  "/PersistentVolume",
  "/ComponentStatus",
  "rbac.authorization.k8s.io/ClusterRole",
  "rbac.authorization.k8s.io/ClusterRoleBinding",
  "apiextensions.k8s.io/CustomResourceDefinition",
  "apiregistration.k8s.io/APIService",
  "storage.k8s.io/StorageClass",
  "storage.k8s.io/CSIDriver",
  "storage.k8s.io/CSINode",
  "storage.k8s.io/VolumeAttachment",
  "scheduling.k8s.io/PriorityClass",
  "networking.k8s.io/IngressClass",
  "node.k8s.io/RuntimeClass",
  "admissionregistration.k8s.io/MutatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingWebhookConfiguration",
  "admissionregistration.k8s.io/ValidatingAdmissionPolicy",
  "admissionregistration.k8s.io/ValidatingAdmissionPolicyBinding",
  "certificates.k8s.io/CertificateSigningRequest",
  "flowcontrol.apiserver.k8s.io/FlowSchema",
  "flowcontrol.apiserver.k8s.io/PriorityLevelConfiguration",
  "cert-manager.io/ClusterIssuer",
  "external-secrets.io/ClusterSecretStore",
  "external-secrets.io/ClusterExternalSecret",
]);

/**
 * Kinds mirrored only when named in `--resource-types`: the RBAC kinds can grant rights in another
 * namespace, and the workload kinds run Pods there with that namespace's ServiceAccounts and Secrets.
 */
const OFF_BY_DEFAULT: ReadonlySet<string> = new Set([
  "rbac.authorization.k8s.io/Role",
  "rbac.authorization.k8s.io/RoleBinding",
  "/ServiceAccount",
  "apps/Deployment",
  "apps/StatefulSet",
  "apps/DaemonSet",
]);

/**
 * Whether an object carries a pod template, and so would run code in the namespace it is copied to:
 * `spec.template.spec.containers` (Deployment-like, Argo Rollouts, …), `spec.jobTemplate…` (CronJob-
 * like), `spec.containers` (Pod-like) or `template.spec.containers` (PodTemplate).
 */
export function hasPodTemplate(obj: object): boolean {
  const at = (o: unknown, ...path: string[]): unknown =>
    path.reduce<unknown>(
      (v, k) => (v && typeof v === "object" ? (v as Record<string, unknown>)[k] : undefined),
      o,
    );
  return [
    at(obj, "spec", "containers"),
    at(obj, "template", "spec", "containers"),
    at(obj, "spec", "template", "spec", "containers"),
    at(obj, "spec", "jobTemplate", "spec", "template", "spec", "containers"),
  ].some(Array.isArray);
}

/** Why a kind may not be mirrored, or undefined. `explicit` is true when the user named it. */
export function denyReason(group: string, kind: string, explicit: boolean): string | undefined {
  const gk = groupKindKey({ group, kind });
  const name = kindLabel({ group, kind });
  if (NEVER.has(gk) || NEVER.has(`${group}/*`)) return `${name} is never mirrored`;
  if (!explicit && OFF_BY_DEFAULT.has(gk)) return `${name} is mirrored only when named in --resource-types`;
  return undefined;
}

/**
 * The kind policy: why a kind may not be mirrored under `--resource-types` (undefined when it may). With
 * a list, only the kinds it names; without, every kind but those never mirrored and those mirrored only
 * when named. Discovery ({@link mirrorableKinds}) and `kubemirror plan -f` ({@link manifestKindPolicy})
 * both decide with it.
 */
export function kindPolicy(
  gk: GroupKind,
  resourceTypes: readonly ResourceType[] | undefined,
): string | undefined {
  const explicit = resourceTypes?.some((t) => t.group === gk.group && t.kind === gk.kind) ?? false;
  if (resourceTypes && !explicit) return `${gk.kind} is not in --resource-types`;
  return denyReason(gk.group, gk.kind, explicit);
}

/**
 * The kind policy for objects read from manifests, where no discovery says what is namespaced: kinds
 * known to be cluster-scoped, and those of cluster-scoped CustomResourceDefinitions among the objects,
 * are refused too.
 */
export function manifestKindPolicy(
  objects: readonly { kind?: string; spec?: unknown }[],
  resourceTypes: readonly ResourceType[] | undefined,
): (gk: GroupKind) => string | undefined {
  const clusterCrds = new Set<string>();
  for (const o of objects) {
    if (o.kind !== "CustomResourceDefinition") continue;
    const spec = o.spec as { group?: string; scope?: string; names?: { kind?: string } } | undefined;
    if (spec?.scope === "Cluster") {
      clusterCrds.add(groupKindKey({ group: spec.group ?? "", kind: spec.names?.kind ?? "" }));
    }
  }
  return (gk) => {
    const key = groupKindKey(gk);
    if (KNOWN_CLUSTER_SCOPED.has(key) || clusterCrds.has(key)) return `${gk.kind} is cluster-scoped`;
    return kindPolicy(gk, resourceTypes);
  };
}

/** Parses `Kind.version[.group]`. */
export function parseResourceType(
  text: string,
): { ok: true; type: ResourceType } | { ok: false; error: string } {
  const t = text.trim();
  const first = t.indexOf(".");
  if (first <= 0) return { ok: false, error: `"${text}" is not Kind.version[.group]` };
  const rest = t.slice(first + 1);
  const second = rest.indexOf(".");
  const kind = t.slice(0, first);
  const version = second < 0 ? rest : rest.slice(0, second);
  const group = second < 0 ? "" : rest.slice(second + 1);
  if (!/^[A-Z][A-Za-z0-9]*$/.test(kind)) {
    return { ok: false, error: `"${text}": kind "${kind}" must start upper case` };
  }
  if (!/^v[0-9]+((alpha|beta)[0-9]+)?$/.test(version)) {
    return { ok: false, error: `"${text}": "${version}" is not an API version such as v1 or v1beta1` };
  }
  if (group !== "" && !/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(group)) {
    return { ok: false, error: `"${text}": "${group}" is not an API group` };
  }
  return { ok: true, type: { kind, version, group } };
}

/** Kubernetes version priority: GA before beta before alpha, higher numbers first; others last. */
export function compareVersions(a: string, b: string): number {
  const rank = (v: string): [number, number, number] | undefined => {
    const m = /^v([0-9]+)(?:(alpha|beta)([0-9]+))?$/.exec(v);
    if (!m) return undefined;
    const stage = m[2] === undefined ? 3 : m[2] === "beta" ? 2 : 1;
    return [stage, Number(m[1]), Number(m[3] ?? 0)];
  };
  const ra = rank(a);
  const rb = rank(b);
  if (ra && rb) {
    for (let i = 0; i < 3; i++) if (ra[i] !== rb[i]) return rb[i] - ra[i];
    return 0;
  }
  if (ra) return -1;
  if (rb) return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}

function splitGroupVersion(gv: string): { group: string; version: string } {
  const slash = gv.indexOf("/");
  return slash < 0 ? { group: "", version: gv } : { group: gv.slice(0, slash), version: gv.slice(slash + 1) };
}

/**
 * The mirrorable kinds in discovery data. With `resourceTypes`, only those (each must exist and be
 * allowed; problems come back as errors); otherwise every allowed kind.
 */
export function mirrorableKinds(
  groups: readonly ApiGroupInfo[],
  lists: readonly ApiResourceList[],
  resourceTypes?: readonly ResourceType[],
): { kinds: MirrorableKind[]; errors: string[] } {
  const preferred = new Map(groups.map((g) => [g.name, g.preferredVersion ?? g.versions[0]]));
  preferred.set("", preferred.get("") ?? "v1");
  // group/kind → every version offering it, with the resource name
  const offers = new Map<string, { version: string; plural: string; resource: ApiResource }[]>();
  for (const list of lists) {
    const { group, version } = splitGroupVersion(list.groupVersion);
    for (const r of list.resources) {
      if (r.name.includes("/")) continue;
      const key = groupKindKey({ group, kind: r.kind });
      const entry = offers.get(key) ?? [];
      entry.push({ version, plural: r.name, resource: r });
      offers.set(key, entry);
    }
  }
  const usable = (r: ApiResource) => r.namespaced && REQUIRED_VERBS.every((v) => r.verbs.includes(v));
  // Usable entries first, then by version priority and name, so the answer never depends on list order.
  const rank = (a: { version: string; plural: string; resource: ApiResource }, b: typeof a) =>
    Number(usable(b.resource)) - Number(usable(a.resource)) || compareVersions(a.version, b.version) ||
    (a.plural < b.plural ? -1 : a.plural > b.plural ? 1 : 0);
  const pick = (group: string, kind: string, version?: string) => {
    const entries = offers.get(groupKindKey({ group, kind }));
    if (!entries) return undefined;
    if (version) return entries.filter((e) => e.version === version).sort(rank)[0];
    const pref = preferred.get(group);
    return entries.filter((e) => e.version === pref).sort(rank)[0] ?? [...entries].sort(rank)[0];
  };
  const kinds: MirrorableKind[] = [];
  const errors: string[] = [];
  if (resourceTypes) {
    for (const t of resourceTypes) {
      const label = resourceType(t);
      const denied = kindPolicy(t, resourceTypes);
      if (denied) {
        errors.push(`--resource-types ${label}: ${denied}`);
        continue;
      }
      const e = pick(t.group, t.kind, t.version);
      if (!e) errors.push(`--resource-types ${label}: the API server does not serve it`);
      else if (!usable(e.resource)) {
        errors.push(
          `--resource-types ${label}: not namespaced or missing one of the verbs ${
            REQUIRED_VERBS.join(", ")
          }`,
        );
      } else kinds.push({ group: t.group, version: t.version, kind: t.kind, plural: e.plural });
    }
  } else {
    for (const key of offers.keys()) {
      const slash = key.lastIndexOf("/");
      const group = key.slice(0, slash);
      const kind = key.slice(slash + 1);
      if (kindPolicy({ group, kind }, undefined)) continue;
      const e = pick(group, kind);
      if (e && usable(e.resource)) kinds.push({ group, version: e.version, kind, plural: e.plural });
    }
  }
  const seen = new Set<string>();
  const unique = kinds.filter((k) => {
    const key = groupKindKey(k);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  unique.sort((a, b) => groupKindKey(a) < groupKindKey(b) ? -1 : 1);
  return { kinds: unique, errors };
}

/**
 * Test helpers for the core: fast-check arbitraries for namespaces, sources and observed objects, and a
 * small in-memory API server that carries out a plan, so that properties can plan against the result.
 * Used by tests only.
 * @module
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_CONFIG, type MirrorConfig } from "./config.ts";
import {
  ANNOTATION_ADOPT,
  ANNOTATION_SOURCE_CONTENT_HASH,
  ANNOTATION_SOURCE_NAME,
  ANNOTATION_SOURCE_NAMESPACE,
  ANNOTATION_SYNC,
  ANNOTATION_TARGET_NAMESPACE_SELECTOR,
  ANNOTATION_TARGET_NAMESPACES,
  ANNOTATION_TRANSFORM,
  ANNOTATION_TRANSFORM_STRICT,
  LABEL_ALLOW_MIRRORS,
  LABEL_ENABLED,
  LABEL_MANAGED_BY,
  LABEL_MIRROR,
} from "./markers.ts";
import type { PlanAction } from "./plan.ts";
import type { KubeObject, NamespaceInfo } from "./types.ts";

/** A small pool, so that names collide often. */
export const NAMESPACE_POOL = [
  "default",
  "kube-system",
  "kube-public",
  "app-1",
  "app-2",
  "app-x",
  "prod-a",
  "prod-b",
  "legacy",
  "team",
  "dev-1",
  "web-staging",
];

/** Namespaces with random labels and phases, unique by name. */
export const namespacesArb: fc.Arbitrary<NamespaceInfo[]> = fc.uniqueArray(
  fc.record({
    name: fc.oneof(fc.constantFrom(...NAMESPACE_POOL), fc.stringMatching(/^[a-z][a-z0-9-]{0,6}[a-z0-9]$/)),
    labels: fc.record({
      [LABEL_ALLOW_MIRRORS]: fc.constantFrom("true", "false"),
      env: fc.constantFrom("prod", "dev"),
    }, { requiredKeys: [] }),
    phase: fc.constantFrom<"Active" | "Terminating">("Active", "Active", "Active", "Terminating"),
  }),
  { selector: (n) => n.name, maxLength: 14 },
);

/** A `target-namespaces` value. */
export const targetsArb: fc.Arbitrary<string> = fc.array(
  fc.oneof(
    fc.constantFrom(
      ...NAMESPACE_POOL,
      "all",
      "all-labeled",
      "app-*",
      "prod-?",
      "*-staging",
      "*",
      "missing-ns",
    ),
    fc.stringMatching(/^[a-z*?][a-z0-9*?-]{0,5}$/),
  ),
  { minLength: 1, maxLength: 4 },
).map((items) => items.join(", "));

/** A selector value. */
export const selectorArb: fc.Arbitrary<string | undefined> = fc.option(
  fc.constantFrom("env=prod", "env!=prod", "env in (prod,dev)", "!env", `${LABEL_ALLOW_MIRRORS}=true,env`),
  { nil: undefined },
);

/**
 * Transformations a generated source may carry: one by target namespace, one reading the source's labels
 * (some of which its content hash leaves out), one whose rule fails in every namespace.
 */
const TRANSFORMS = [
  'rules:\n  - path: data.ns\n    template: "{{ .TargetNamespace }}"\n',
  "rules:\n  - path: data.owner\n    template: '{{ index .Labels \"argocd.argoproj.io/instance\" }}'\n",
  "rules:\n  - path: data.list[2]\n    value: x\n  - path: data.kept\n    value: y\n",
  // Every annotation the template sees: the source's own, never the controller's sync-status.
  "rules:\n  - path: data.notes\n    template: '{{ range $k, $v := .Annotations }}{{ $k }}={{ $v }};{{ end }}'\n",
];

/** Either a ConfigMap or a Secret source, enabled, with random content, targets and maybe a transform. */
export function sourceArb(namespace?: string): fc.Arbitrary<KubeObject> {
  return fc.record({
    kind: fc.constantFrom("ConfigMap", "Secret"),
    name: fc.constantFrom("cfg", "shared"),
    namespace: namespace ? fc.constant(namespace) : fc.constantFrom("default", "app-1", "team"),
    targets: targetsArb,
    selector: selectorArb,
    data: fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), fc.string({ maxLength: 6 }), { maxKeys: 3 }),
    labels: fc.dictionary(
      fc.constantFrom("app", "argocd.argoproj.io/instance", "app.kubernetes.io/managed-by", "tier"),
      fc.constantFrom("x", "y"),
      { maxKeys: 2 },
    ),
    immutable: fc.boolean(),
    maxTargets: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
    transform: fc.option(fc.constantFrom(...TRANSFORMS), { nil: undefined }),
    strict: fc.boolean(),
  }).map((s) => {
    const annotations: Record<string, string> = {
      [ANNOTATION_SYNC]: "true",
      [ANNOTATION_TARGET_NAMESPACES]: s.targets,
    };
    if (s.selector) annotations[ANNOTATION_TARGET_NAMESPACE_SELECTOR] = s.selector;
    if (s.maxTargets !== undefined) annotations["kubemirror.raczylo.com/max-targets"] = String(s.maxTargets);
    if (s.transform !== undefined) {
      annotations[ANNOTATION_TRANSFORM] = s.transform;
      if (s.strict) annotations[ANNOTATION_TRANSFORM_STRICT] = "true";
    }
    const data = s.kind === "Secret"
      ? Object.fromEntries(Object.entries(s.data).map(([k, v]) => [k, btoa(encodeURIComponent(v))]))
      : s.data;
    return {
      apiVersion: "v1",
      kind: s.kind,
      metadata: {
        name: s.name,
        namespace: s.namespace,
        uid: `uid-${s.namespace}-${s.name}`,
        resourceVersion: "7",
        labels: { ...s.labels, [LABEL_ENABLED]: "true" },
        annotations,
      },
      data,
      ...(s.immutable ? { immutable: true } : {}),
    };
  });
}

/** What may sit at a source's name in a namespace, for {@link observedObject}. */
export const OBSERVED_SHAPES = [
  "ours-stale",
  "ours-edited",
  "other-source",
  "unmanaged",
  "adoptable",
  "other-kind",
] as const;

/** An object at `source`'s name in `namespace`: a mirror of it (stale or edited), or something else. */
export function observedObject(
  source: KubeObject,
  namespace: string,
  shape: typeof OBSERVED_SHAPES[number],
  resourceVersion = "3",
): KubeObject {
  const name = source.metadata!.name!;
  const kind = source.kind!;
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  if (shape === "ours-stale" || shape === "ours-edited" || shape === "other-source") {
    labels[LABEL_MANAGED_BY] = "kubemirror";
    labels[LABEL_MIRROR] = "true";
    annotations[ANNOTATION_SOURCE_NAMESPACE] = shape === "other-source"
      ? "elsewhere"
      : source.metadata!.namespace!;
    annotations[ANNOTATION_SOURCE_NAME] = name;
    annotations[ANNOTATION_SOURCE_CONTENT_HASH] = shape === "ours-stale" ? "0".repeat(64) : "f".repeat(64);
  }
  if (shape === "adoptable") annotations[ANNOTATION_ADOPT] = `${source.metadata!.namespace}/${name}`;
  return {
    apiVersion: "v1",
    kind: shape === "other-kind" ? (kind === "Secret" ? "ConfigMap" : "Secret") : kind,
    metadata: { name, namespace, uid: `obs-${namespace}`, resourceVersion, labels, annotations },
    data: { edited: "by hand" },
  };
}

/** Objects that may already sit at the source's name in some namespaces. */
export function observedArb(source: KubeObject): fc.Arbitrary<KubeObject[]> {
  return fc.uniqueArray(
    fc.record({
      namespace: fc.constantFrom(...NAMESPACE_POOL),
      shape: fc.constantFrom(...OBSERVED_SHAPES),
    }),
    { selector: (o) => o.namespace, maxLength: 6 },
  ).map((list) => list.map(({ namespace, shape }) => observedObject(source, namespace, shape)));
}

/** Flags with some exclusions and limits. */
export const configArb: fc.Arbitrary<MirrorConfig> = fc.record({
  excludedNamespaces: fc.subarray(["prod-*", "legacy", "team"]),
  includedNamespaces: fc.constantFrom<string[]>([], [], ["app-*", "prod-*", "dev-1", "missing-ns"]),
  requireNamespaceOptIn: fc.boolean(),
  maxTargets: fc.integer({ min: 1, max: 20 }),
}).map((c) => ({ ...DEFAULT_CONFIG, ...c }));

/**
 * Carries out actions against a set of objects as the API server would: creates get a uid and a
 * resourceVersion (and, for Services, defaulted fields), updates replace, deletes remove.
 */
export function applyActions(observed: readonly KubeObject[], actions: readonly PlanAction[]): KubeObject[] {
  const key = (o: { apiVersion?: string; kind?: string; metadata?: { namespace?: string; name?: string } }) =>
    `${o.kind}|${o.metadata?.namespace}|${o.metadata?.name}`;
  const state = new Map(observed.map((o) => [key(o), structuredClone(o)]));
  let rv = 100;
  for (const a of actions) {
    const k = `${a.source.kind}|${a.target.namespace}|${a.target.name}`;
    if (a.action === "delete") state.delete(k);
    if (a.action === "create" || a.action === "update") {
      const obj = structuredClone(a.object!);
      const previous = state.get(k);
      obj.metadata = {
        ...obj.metadata,
        uid: a.action === "update" && !a.recreate ? previous?.metadata?.uid : `new-${rv}`,
        resourceVersion: String(rv++),
      };
      if (obj.kind === "Service") {
        const spec = (obj.spec ?? {}) as Record<string, unknown>;
        spec.type ??= "ClusterIP";
        spec.clusterIP ??= "10.0.0.9";
        spec.sessionAffinity ??= "None";
        obj.spec = spec;
      }
      state.set(k, obj);
    }
  }
  return [...state.values()];
}

/**
 * `value` as tests compare it: a parsed transformation stands as its text, since its compiled templates
 * are functions, equal only to themselves (two parses of one annotation compile two of them).
 */
export function comparable(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(comparable);
  if (value instanceof Map) return new Map([...value].map(([k, v]) => [k, comparable(v)]));
  if (value === null || typeof value !== "object") return value;
  const o = value as Record<string, unknown>;
  if (typeof o.text === "string" && Array.isArray(o.rules)) return `transform: ${o.text}`;
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, comparable(v)]));
}

/** Asserts two plans (or parses) hold the same, by {@link comparable}. */
export function assertSame(actual: unknown, expected: unknown, message?: string): void {
  assert.deepEqual(comparable(actual), comparable(expected), message);
}

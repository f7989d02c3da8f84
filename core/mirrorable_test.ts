import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type ApiGroupInfo,
  type ApiResourceList,
  compareVersions,
  denyReason,
  hasPodTemplate,
  mirrorableKinds,
  parseResourceType,
} from "./mirrorable.ts";

const ALL = ["get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"];
const res = (name: string, kind: string, namespaced = true, verbs = ALL) => ({
  name,
  kind,
  namespaced,
  verbs,
});

const groups: ApiGroupInfo[] = [
  { name: "apps", versions: ["v1"], preferredVersion: "v1" },
  { name: "traefik.io", versions: ["v1alpha1", "v1"], preferredVersion: "v1alpha1" },
  { name: "example.com", versions: ["v1beta1", "v2alpha1"] },
  { name: "rbac.authorization.k8s.io", versions: ["v1"], preferredVersion: "v1" },
  { name: "events.k8s.io", versions: ["v1"], preferredVersion: "v1" },
  { name: "metrics.k8s.io", versions: ["v1beta1"], preferredVersion: "v1beta1" },
  { name: "batch", versions: ["v1"], preferredVersion: "v1" },
];
const lists: ApiResourceList[] = [
  {
    groupVersion: "v1",
    resources: [
      res("configmaps", "ConfigMap"),
      res("secrets", "Secret"),
      res("services", "Service"),
      res("services/status", "Service"),
      res("pods", "Pod"),
      res("events", "Event"),
      res("namespaces", "Namespace", false),
      res("serviceaccounts", "ServiceAccount"),
      res("bindings", "Binding", true, ["create"]),
      res("endpoints", "Endpoints"),
      res("persistentvolumeclaims", "PersistentVolumeClaim"),
    ],
  },
  {
    groupVersion: "apps/v1",
    resources: [res("deployments", "Deployment"), res("replicasets", "ReplicaSet")],
  },
  { groupVersion: "traefik.io/v1alpha1", resources: [res("middlewares", "Middleware")] },
  { groupVersion: "traefik.io/v1", resources: [res("middlewares", "Middleware")] },
  { groupVersion: "example.com/v1beta1", resources: [res("widgets", "Widget")] },
  {
    groupVersion: "example.com/v2alpha1",
    resources: [res("widgets", "Widget"), res("gadgets", "Gadget", true, ["get", "list"])],
  },
  {
    groupVersion: "rbac.authorization.k8s.io/v1",
    resources: [res("roles", "Role"), res("rolebindings", "RoleBinding")],
  },
  { groupVersion: "events.k8s.io/v1", resources: [res("events", "Event")] },
  { groupVersion: "metrics.k8s.io/v1beta1", resources: [res("pods", "PodMetrics")] },
  { groupVersion: "batch/v1", resources: [res("jobs", "Job"), res("cronjobs", "CronJob")] },
];

Deno.test("discovery: namespaced kinds with every verb, preferred version, deny lists and default-off kinds", () => {
  const { kinds, errors } = mirrorableKinds(groups, lists);
  assert.deepEqual(errors, []);
  assert.deepEqual(kinds.map((k) => `${k.kind}.${k.version}${k.group ? "." + k.group : ""}`), [
    "ConfigMap.v1",
    "Secret.v1",
    "Service.v1",
    "Widget.v1beta1.example.com",
    "Middleware.v1alpha1.traefik.io",
  ]);
  assert.equal(kinds.find((k) => k.kind === "Middleware")!.plural, "middlewares");
});

Deno.test("--resource-types replaces discovery; RBAC kinds only when named; never-kinds are refused even when named", () => {
  const parse = (t: string) => {
    const p = parseResourceType(t);
    assert.ok(p.ok, t);
    return p.type;
  };
  const { kinds, errors } = mirrorableKinds(groups, lists, [
    parse("Secret.v1"),
    parse("Role.v1.rbac.authorization.k8s.io"),
    parse("ServiceAccount.v1"),
    parse("Pod.v1"),
    parse("Event.v1.events.k8s.io"),
    parse("Middleware.v1.traefik.io"),
    parse("Nope.v1.example.com"),
    parse("Gadget.v2alpha1.example.com"),
  ]);
  assert.deepEqual(kinds.map((k) => `${k.kind}.${k.version}`), [
    "Secret.v1",
    "ServiceAccount.v1",
    "Role.v1",
    "Middleware.v1",
  ]);
  assert.equal(errors.length, 4);
  assert.match(errors.join("\n"), /Pod.v1: Pod is never mirrored/);
  assert.match(errors.join("\n"), /Event.v1.events.k8s.io: Event.events.k8s.io is never mirrored/);
  assert.match(errors.join("\n"), /Nope.v1.example.com: the API server does not serve it/);
  assert.match(errors.join("\n"), /Gadget.v2alpha1.example.com: not namespaced or missing one of the verbs/);
});

Deno.test("denyReason matches group and kind, not kind alone", () => {
  assert.ok(denyReason("", "Event", true));
  assert.ok(denyReason("events.k8s.io", "Event", true));
  assert.equal(denyReason("example.com", "Event", false), undefined, "someone else's Event kind is fine");
  assert.equal(denyReason("example.com", "Pod", false), undefined);
  assert.ok(denyReason("custom.metrics.k8s.io", "Anything", true));
  assert.ok(denyReason("", "ServiceAccount", false) && !denyReason("", "ServiceAccount", true));
});

Deno.test("parseResourceType: Kind.version[.group], with clear errors", () => {
  assert.deepEqual(parseResourceType("Ingress.v1.networking.k8s.io"), {
    ok: true,
    type: { kind: "Ingress", version: "v1", group: "networking.k8s.io" },
  });
  assert.deepEqual(parseResourceType(" Secret.v1 "), {
    ok: true,
    type: { kind: "Secret", version: "v1", group: "" },
  });
  for (const bad of ["Secret", "secret.v1", "Secret.1", "Secret.v1.Bad_Group", ".v1"]) {
    assert.ok(!parseResourceType(bad).ok, bad);
  }
});

Deno.test("compareVersions follows Kubernetes priority and is a total order", () => {
  assert.deepEqual(
    ["v1alpha1", "v2beta1", "foo", "v1", "v1beta2", "v2", "v1beta1", "v10"].sort(compareVersions),
    ["v10", "v2", "v1", "v2beta1", "v1beta2", "v1beta1", "v1alpha1", "foo"],
  );
  const v = fc.oneof(fc.stringMatching(/^v[1-9](alpha|beta)?[1-9]?$/), fc.stringMatching(/^[a-z]{1,3}$/));
  fc.assert(fc.property(v, v, (a, b) => {
    assert.equal(Math.sign(compareVersions(a, b)), -Math.sign(compareVersions(b, a)) || 0);
  }));
});

Deno.test("hasPodTemplate: recognises the pod templates of workloads and custom kinds, and nothing else", () => {
  const containers = [{ name: "c", image: "busybox" }];
  assert.ok(hasPodTemplate({ spec: { template: { spec: { containers } } } }), "Deployment-like");
  assert.ok(hasPodTemplate({ spec: { jobTemplate: { spec: { template: { spec: { containers } } } } } }));
  assert.ok(hasPodTemplate({ spec: { containers } }), "Pod-like");
  assert.ok(!hasPodTemplate({ data: { containers: "x" } }));
  assert.ok(!hasPodTemplate({ spec: { template: { spec: { containers: "not a list" } } } }));
  fc.assert(
    fc.property(fc.jsonValue(), (data) => {
      // Anything under data, metadata or status never counts; containers under spec's template always do.
      assert.ok(!hasPodTemplate({ data, metadata: { labels: {} }, status: data } as object));
      assert.ok(hasPodTemplate({ data, spec: { template: { spec: { containers: [data] } } } } as object));
    }),
  );
});

Deno.test("property: parseResourceType reads back every Kind.version[.group] it accepts", () => {
  const kind = fc.stringMatching(/^[A-Z][A-Za-z0-9]{0,10}$/);
  const version = fc.stringMatching(/^v[1-9](beta[1-9]|alpha[1-9])?$/);
  const group = fc.option(fc.stringMatching(/^[a-z]{1,6}(\.[a-z]{1,6}){0,2}$/), { nil: "" });
  fc.assert(fc.property(kind, version, group, (k, v, g) => {
    const p = parseResourceType(g ? `${k}.${v}.${g}` : `${k}.${v}`);
    assert.ok(p.ok);
    assert.deepEqual(p.type, { kind: k, version: v, group: g });
  }));
});

Deno.test("property: discovery yields one allowed, namespaced kind per group and kind, whatever the list order", () => {
  const resource = fc.record({
    name: fc.stringMatching(/^[a-z]{1,6}(\/status)?$/),
    kind: fc.constantFrom("Pod", "Secret", "Widget", "Event", "Role", "Gadget"),
    namespaced: fc.boolean(),
    verbs: fc.subarray(["get", "list", "watch", "create", "update", "patch", "delete"]),
  });
  const list = fc.record({
    groupVersion: fc.constantFrom(
      "v1",
      "example.com/v1",
      "example.com/v1beta1",
      "rbac.authorization.k8s.io/v1",
    ),
    resources: fc.array(resource, { maxLength: 4 }),
  });
  fc.assert(fc.property(fc.array(list, { maxLength: 5 }), (lists: ApiResourceList[]) => {
    const groups = [{ name: "example.com", versions: ["v1", "v1beta1"], preferredVersion: "v1" }];
    const a = mirrorableKinds(groups, lists);
    const b = mirrorableKinds(groups, [...lists].reverse());
    assert.deepEqual(a.kinds.map((k) => `${k.group}/${k.kind}`), b.kinds.map((k) => `${k.group}/${k.kind}`));
    const seen = new Set<string>();
    for (const k of a.kinds) {
      assert.equal(denyReason(k.group, k.kind, false), undefined);
      assert.ok(!seen.has(`${k.group}/${k.kind}`));
      seen.add(`${k.group}/${k.kind}`);
      assert.ok(!k.plural.includes("/"));
    }
  }));
});

import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_CONFIG } from "./config.ts";
import {
  ANNOTATION_PULL_ALLOWED_NAMESPACES,
  ANNOTATION_PULL_FROM,
  ANNOTATION_SOURCE_CONTENT_HASH,
  ANNOTATION_SYNC,
  ANNOTATION_SYNC_STATUS,
  ANNOTATION_TRANSFORM,
  LABEL_ENABLED,
} from "./markers.ts";
import { applyMergePatch } from "./merge_patch.ts";
import { planKey } from "./plan_key.ts";
import { parsePullFrom, planPull, PULLED, type PullSnapshot } from "./pull.ts";
import { decideSourceStatus } from "./status.ts";
import type { JsonValue, KubeObject } from "./types.ts";

const T = { now: "2026-11-30T12:00:00Z" };
const kinds = fc.constantFrom(
  { apiVersion: "v1", kind: "Secret" },
  { apiVersion: "v1", kind: "ConfigMap" },
  { apiVersion: "traefik.io/v1alpha1", kind: "Middleware" },
);
const ns = fc.constantFrom("team-a", "team-b", "prod-eu", "kube-system");
const data = fc.dictionary(
  fc.constantFrom("a", "b", "token", "tls.crt"),
  fc.constantFrom("MQ==", "Mg==", "eA=="),
  {
    noNullPrototype: true,
    maxKeys: 3,
  },
);
const allowed = fc.constantFrom(
  undefined,
  "",
  "all",
  "team-*",
  "team-a",
  "prod-?",
  "team-a,prod-eu",
  "Bad_Glob",
);

function content(kind: string, d: Record<string, string>): Record<string, JsonValue> {
  return kind === "Middleware"
    ? { spec: { headers: d } }
    : kind === "Secret"
    ? { type: "Opaque", data: d }
    : { data: d };
}

const world = fc.record({
  k: kinds,
  sourceData: data,
  pullerData: data,
  pullerNs: ns,
  allow: allowed,
  labelled: fc.boolean(),
  exists: fc.boolean(),
  chain: fc.boolean(),
  transform: fc.boolean(),
  sync: fc.boolean(),
}).map((w): PullSnapshot => {
  const pulled: KubeObject | undefined = w.exists && w.labelled
    ? {
      ...w.k,
      ...content(w.k.kind, w.sourceData),
      metadata: {
        name: "registry",
        namespace: "platform",
        uid: "uid-1",
        resourceVersion: "5",
        labels: { [LABEL_ENABLED]: "true" },
        annotations: {
          ...(w.allow !== undefined ? { [ANNOTATION_PULL_ALLOWED_NAMESPACES]: w.allow } : {}),
          ...(w.chain ? { [ANNOTATION_PULL_FROM]: "elsewhere/thing" } : {}),
          ...(w.transform
            ? {
              [ANNOTATION_TRANSFORM]:
                'rules:\n  - path: metadata.labels.copy\n    template: "{{ .TargetName }}"\n',
            }
            : {}),
        },
      },
    }
    : undefined;
  const puller: KubeObject = {
    ...w.k,
    ...content(w.k.kind, w.pullerData),
    metadata: {
      name: "pull-secret",
      namespace: w.pullerNs,
      resourceVersion: "9",
      labels: { [LABEL_ENABLED]: "true", team: "a" },
      annotations: {
        [ANNOTATION_PULL_FROM]: "platform/registry",
        "kubectl.kubernetes.io/last-applied-configuration": "{}",
        ...(w.sync ? { [ANNOTATION_SYNC]: "true" } : {}),
      },
    },
  };
  return { puller, pulled, config: DEFAULT_CONFIG, time: T };
});

/** The pulling object once the plan's write went through (the API server applies the merge patch). */
function written(s: PullSnapshot, plan: ReturnType<typeof planPull>): KubeObject {
  const write = plan.actions.find((a) => a.action === "pull");
  if (!write) return s.puller;
  const next = applyMergePatch(s.puller as JsonValue, write.patch!) as KubeObject;
  return { ...next, metadata: { ...next.metadata, resourceVersion: "10" } };
}

Deno.test("property: pull plans are deterministic", () => {
  fc.assert(fc.property(world, (s) => assert.deepEqual(planPull(s), planPull(s))));
});

Deno.test("property: a pull plan writes nothing but the pulling object itself, and only its content and the pull's own annotations", () => {
  fc.assert(fc.property(world, (s) => {
    const plan = planPull(s);
    for (const a of plan.actions) {
      assert.ok(["pull", "unchanged", "skip"].includes(a.action), a.action);
      assert.deepEqual(a.target, { namespace: s.puller.metadata!.namespace, name: s.puller.metadata!.name });
      assert.equal(a.direction, "pull");
      if (a.action !== "pull") continue;
      for (const k of Object.keys(a.patch!)) {
        assert.ok(!["apiVersion", "kind", "status", "immutable"].includes(k), `the patch touches ${k}`);
      }
      const meta = (a.patch!.metadata ?? {}) as Record<string, unknown>;
      assert.deepEqual(
        Object.keys(meta).filter((k) => k !== "annotations"),
        [],
        "only annotations of metadata",
      );
      for (const k of Object.keys((meta.annotations ?? {}) as object)) {
        assert.ok(k.startsWith("kubemirror.raczylo.com/"), `the patch touches annotation ${k}`);
      }
      const after = written(s, plan);
      assert.deepEqual(after.metadata?.labels, s.puller.metadata?.labels, "the owner's labels stay");
      assert.equal(
        after.metadata?.annotations?.["kubectl.kubernetes.io/last-applied-configuration"],
        "{}",
        "the owner's annotations stay",
      );
    }
  }));
});

Deno.test("property: idempotent: planning against the written result writes nothing and records nothing new", () => {
  fc.assert(fc.property(world, (s) => {
    const first = planPull(s);
    const after = written(s, first);
    const second = planPull({ ...s, puller: after });
    assert.ok(second.actions.every((a) => a.action !== "pull"), JSON.stringify(second.actions));
    assert.equal(second.pullStatus, first.pullStatus);
    const status = decideSourceStatus({
      source: after,
      plan: second,
      outcome: { written: 0, deferred: 0, failures: [], pending: false, notes: [] },
    });
    const expected = first.pullStatus === after.metadata?.annotations?.[ANNOTATION_SYNC_STATUS]
      ? undefined
      : first.pullStatus;
    assert.equal(status.syncStatus, expected, "the status is written at most once");
    assert.equal(status.finalizer, "keep");
  }));
});

Deno.test("property: a pull happens exactly when the source exists, is labelled, allows the namespace and is no pulling object", () => {
  fc.assert(fc.property(world, (s) => {
    const plan = planPull(s);
    const allowedItems = (s.pulled?.metadata?.annotations?.[ANNOTATION_PULL_ALLOWED_NAMESPACES] ?? "").split(
      ",",
    )
      .filter(Boolean);
    const ns = s.puller.metadata!.namespace!;
    const mayPull = s.pulled !== undefined && !ns.startsWith("kube-") &&
      s.pulled.metadata?.annotations?.[ANNOTATION_PULL_FROM] === undefined &&
      !allowedItems.includes("Bad_Glob") &&
      allowedItems.some((i) =>
        i === "all" || new RegExp(`^${i.replace("*", ".*").replace("?", ".")}$`).test(ns)
      );
    assert.equal(plan.pullStatus === PULLED, mayPull, `${plan.pullStatus} for ${ns} / ${allowedItems}`);
    if (!mayPull) {
      assert.equal(plan.errors.length, 1);
      assert.match(plan.pullStatus!, /^error:(SourceNotFound|PullNotAllowed|PullChain)$/);
    }
  }));
});

Deno.test("property: revocation: a copied Secret or ConfigMap is emptied when its source goes, is unlabelled or stops allowing", () => {
  fc.assert(fc.property(
    world,
    fc.constantFrom("gone", "disallowed", "chain"),
    (s, how) => {
      const filled = written(s, planPull(s));
      if (filled.metadata?.annotations?.[ANNOTATION_SOURCE_CONTENT_HASH] === undefined) return; // never filled
      const pulled: KubeObject | undefined = how === "gone" ? undefined : {
        ...s.pulled!,
        metadata: {
          ...s.pulled!.metadata,
          annotations: how === "disallowed"
            ? { [ANNOTATION_PULL_ALLOWED_NAMESPACES]: "nobody-else" } as Record<string, string>
            : { ...s.pulled!.metadata?.annotations, [ANNOTATION_PULL_FROM]: "a/b" },
        },
      };
      const later: PullSnapshot = { ...s, puller: filled, pulled };
      const plan = planPull(later);
      const after = written(later, plan);
      assert.match(plan.pullStatus!, /^error:/);
      if (filled.kind === "Secret" || filled.kind === "ConfigMap") {
        assert.equal(
          after.metadata!.annotations![ANNOTATION_SYNC_STATUS],
          plan.pullStatus,
          "written with the patch",
        );
        assert.equal(after.data, undefined, "the data is taken back");
        assert.equal(after.metadata!.annotations![ANNOTATION_SOURCE_CONTENT_HASH], undefined);
      } else {
        assert.deepEqual(after.spec, filled.spec, "other kinds keep their last content");
      }
      assert.deepEqual(planPull({ ...later, puller: after }).actions.map((a) => a.action), ["skip"]);
    },
  ));
});

Deno.test("pull: an edit of the copied content is reverted and marked as drift; the pulling object's own fields stay", () => {
  const s = fc.sample(world, { seed: 7, numRuns: 200 }).find((w) =>
    w.pulled && w.puller.kind === "ConfigMap" && planPull(w).pullStatus === PULLED &&
    Object.keys(w.pulled.data as object).length > 0
  )!;
  const filled = written(s, planPull(s));
  const edited = { ...filled, data: { ...(filled.data as object), a: "edited" } };
  const plan = planPull({ ...s, puller: edited });
  assert.equal(plan.actions[0].action, "pull");
  assert.equal(plan.actions[0].drift, "data.a");
  assert.deepEqual((written({ ...s, puller: edited }, plan)).data, filled.data);
});

Deno.test("pull: refusals name their §9 reason; an immutable copy that must change is left alone", () => {
  const source: KubeObject = {
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/tls",
    data: { "tls.crt": "Y3J0" },
    metadata: {
      name: "tls",
      namespace: "platform",
      uid: "u",
      labels: { [LABEL_ENABLED]: "true" },
      annotations: { [ANNOTATION_PULL_ALLOWED_NAMESPACES]: "all" },
    },
  };
  const puller = (annotations: Record<string, string>, extra: Partial<KubeObject> = {}): KubeObject => ({
    apiVersion: "v1",
    kind: "Secret",
    type: "kubernetes.io/tls",
    metadata: { name: "mine", namespace: "team-a", labels: { [LABEL_ENABLED]: "true" }, annotations },
    ...extra,
  });
  const status = (p: KubeObject, pulled?: KubeObject, elsewhere?: string[]) =>
    planPull({ puller: p, pulled, pulledElsewhere: elsewhere, config: DEFAULT_CONFIG, time: T }).pullStatus;
  assert.equal(status(puller({ [ANNOTATION_PULL_FROM]: "platform" })), "error:InvalidPullFrom");
  assert.equal(status(puller({ [ANNOTATION_PULL_FROM]: "platform/tls" })), "error:SourceNotFound");
  assert.equal(
    status(puller({ [ANNOTATION_PULL_FROM]: "platform/tls" }), undefined, ["ConfigMap"]),
    "error:KindMismatch",
  );
  assert.equal(
    status(puller({ [ANNOTATION_PULL_FROM]: "platform/tls" }, { type: "Opaque" }), source),
    "error:KindMismatch",
  );
  assert.equal(status(puller({ [ANNOTATION_PULL_FROM]: "platform/tls" }), source), PULLED);
  const filled = planPull({
    puller: puller({ [ANNOTATION_PULL_FROM]: "platform/tls" }),
    pulled: source,
    config: DEFAULT_CONFIG,
    time: T,
  });
  const immutable = {
    ...applyMergePatch(
      puller({ [ANNOTATION_PULL_FROM]: "platform/tls" }) as JsonValue,
      filled.actions[0].patch!,
    ) as KubeObject,
    immutable: true,
  };
  const changed = { ...source, data: { "tls.crt": "bmV3" } };
  const plan = planPull({ puller: immutable, pulled: changed, config: DEFAULT_CONFIG, time: T });
  assert.equal(plan.pullStatus, "error:Immutable");
  assert.deepEqual(plan.actions.map((a) => a.action), ["skip"], "left alone: the object is its owner's");
  const withSync = planPull({
    puller: puller({ [ANNOTATION_PULL_FROM]: "platform/tls", [ANNOTATION_SYNC]: "true" }),
    pulled: source,
    config: DEFAULT_CONFIG,
    time: T,
  });
  assert.deepEqual(withSync.warnings.map((w) => w.reason), ["PullIgnoresSync"]);
});

Deno.test("pull: planKey plans a pulling object with planPull, and its pushed mirrors of before are deleted", () => {
  const puller: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "cfg",
      namespace: "team-a",
      labels: { [LABEL_ENABLED]: "true" },
      annotations: { [ANNOTATION_PULL_FROM]: "platform/cfg", [ANNOTATION_SYNC]: "true" },
    },
  };
  const oldMirror: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "cfg",
      namespace: "team-b",
      labels: { "kubemirror.raczylo.com/mirror": "true" },
      annotations: {
        "kubemirror.raczylo.com/source-namespace": "team-a",
        "kubemirror.raczylo.com/source-name": "cfg",
      },
    },
  };
  const plan = planKey({
    ref: { apiVersion: "v1", kind: "ConfigMap", namespace: "team-a", name: "cfg" },
    source: puller,
    observed: [oldMirror],
    namespaces: [],
    config: DEFAULT_CONFIG,
    time: T,
  });
  assert.equal(plan.direction, "pull");
  assert.deepEqual(plan.actions.map((a) => `${a.action} ${a.target.namespace}`), [
    "delete team-b",
    "skip team-a",
  ]);
  assert.equal(plan.pullStatus, "error:SourceNotFound");
});

Deno.test("parsePullFrom reads <namespace>/<name> and nothing else", () => {
  assert.deepEqual(parsePullFrom(" platform/registry "), { namespace: "platform", name: "registry" });
  for (const bad of ["", "platform", "a/b/c", "Platform/x", "/x", "x/", undefined]) {
    assert.equal(parsePullFrom(bad), undefined, String(bad));
  }
});

Deno.test("pull: a typed Secret is emptied to what its type requires (the API server would refuse less)", () => {
  const typed = (type: string, data: Record<string, string>): KubeObject => ({
    apiVersion: "v1",
    kind: "Secret",
    type,
    data,
    metadata: {
      name: "copy",
      namespace: "team-a",
      labels: { [LABEL_ENABLED]: "true" },
      annotations: {
        [ANNOTATION_PULL_FROM]: "platform/gone",
        [ANNOTATION_SOURCE_CONTENT_HASH]: "x".repeat(64),
      },
    },
  });
  const emptied = (p: KubeObject) => {
    const plan = planPull({ puller: p, config: DEFAULT_CONFIG, time: T });
    return (applyMergePatch(p as JsonValue, plan.actions[0].patch!) as KubeObject).data;
  };
  assert.deepEqual(
    emptied(typed("kubernetes.io/tls", { "tls.crt": "Y3J0", "tls.key": "a2V5", "ca.crt": "Y2E=" })),
    {
      "tls.crt": "",
      "tls.key": "",
    },
  );
  assert.deepEqual(
    emptied(
      typed("kubernetes.io/dockerconfigjson", { ".dockerconfigjson": btoa('{"auths":{"r":{"auth":"x"}}}') }),
    ),
    { ".dockerconfigjson": btoa('{"auths":{}}') },
  );
  assert.deepEqual(emptied(typed("kubernetes.io/basic-auth", { username: "dQ==", password: "cA==" })), {
    username: "",
    password: "",
  });
  assert.equal(emptied(typed("Opaque", { token: "dA==" })), undefined);
});

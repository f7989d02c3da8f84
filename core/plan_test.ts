import assert from "node:assert/strict";
import fc from "fast-check";
import { applyActions, assertSame, configArb, namespacesArb, observedArb, sourceArb } from "./_testing.ts";
import { DEFAULT_CONFIG } from "./config.ts";
import {
  ANNOTATION_ADOPT,
  ANNOTATION_SOURCE_CONTENT_HASH,
  ANNOTATION_SOURCE_NAME,
  ANNOTATION_SOURCE_NAMESPACE,
  ANNOTATION_SOURCE_UID,
  ANNOTATION_SYNC,
  ANNOTATION_TARGET_NAMESPACES,
  ANNOTATION_TRANSFORM,
  ANNOTATION_TRANSFORM_STRICT,
  LABEL_ALLOW_MIRRORS,
  LABEL_ENABLED,
  LABEL_MANAGED_BY,
  LABEL_MIRROR,
} from "./markers.ts";
import { parseSource } from "./source_spec.ts";
import { mayTarget } from "./targets.ts";
import { adoptsFor, isMirrorOf } from "./ownership.ts";
import { type PlanAction, type PlanContext, planOrphans, planSource } from "./plan.ts";
import { type KubeObject, type NamespaceInfo, sourceRef } from "./types.ts";

const T0 = { now: "2026-11-24T10:00:00Z" };
const T1 = { now: "2026-11-24T11:00:00Z" };

const ns = (name: string, labels: Record<string, string> = {}): NamespaceInfo => ({
  name,
  labels,
  phase: "Active",
});

function cm(
  name: string,
  namespace: string,
  targets: string,
  extra: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name,
      namespace,
      uid: `uid-${namespace}-${name}`,
      resourceVersion: "5",
      labels: { [LABEL_ENABLED]: "true" },
      annotations: { [ANNOTATION_SYNC]: "true", [ANNOTATION_TARGET_NAMESPACES]: targets, ...extra },
    },
    data: { key: "value" },
  };
}

function ctx(
  namespaces: NamespaceInfo[],
  observed: KubeObject[],
  extra: Partial<PlanContext> = {},
): PlanContext {
  return { namespaces, observed, config: DEFAULT_CONFIG, time: T0, ...extra };
}

const summary = (actions: PlanAction[]) => actions.map((a) => `${a.action} ${a.target.namespace}`);

Deno.test("plan: create where missing, unchanged where in sync, nothing written twice", () => {
  const source = cm("cfg", "default", "app1,app2");
  const namespaces = [ns("default"), ns("app1"), ns("app2")];
  const first = planSource(source, ctx(namespaces, []));
  assert.deepEqual(summary(first.actions), ["create app1", "create app2"]);
  const applied = applyActions([], first.actions);
  const second = planSource(source, { ...ctx(namespaces, applied), time: T1 });
  assert.deepEqual(
    summary(second.actions),
    ["unchanged app1", "unchanged app2"],
    "a later time alone changes nothing",
  );
});

Deno.test("plan: a source change updates every mirror; a hand edit is reverted; a deleted mirror comes back", () => {
  const source = cm("cfg", "default", "app1,app2,app3");
  const namespaces = [ns("default"), ns("app1"), ns("app2"), ns("app3")];
  let state = applyActions([], planSource(source, ctx(namespaces, [])).actions);
  const changed = { ...source, data: { key: "new" } };
  const update = planSource(changed, ctx(namespaces, state));
  assert.deepEqual(summary(update.actions), ["update app1", "update app2", "update app3"]);
  assert.equal(update.actions[0].reason, "the source changed");
  state = applyActions(state, update.actions);
  // app1 edited by hand, app2 deleted by hand, app3 given an extra label by another tool.
  state = state.filter((o) => o.metadata!.namespace !== "app2").map((o) => {
    if (o.metadata!.namespace === "app1") return { ...o, data: { key: "hand edit" } };
    if (o.metadata!.namespace === "app3") {
      return { ...o, metadata: { ...o.metadata, labels: { ...o.metadata!.labels, extra: "x" } } };
    }
    return o;
  });
  const repair = planSource(changed, ctx(namespaces, state));
  assert.deepEqual(summary(repair.actions), ["update app1", "create app2", "unchanged app3"]);
  assert.match(repair.actions[0].reason!, /the mirror was edited \(data.key\)/);
});

Deno.test("plan: fields added by API server defaulting and status never count as drift", () => {
  const svc: KubeObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: "web",
      namespace: "default",
      labels: { [LABEL_ENABLED]: "true" },
      annotations: { [ANNOTATION_SYNC]: "true", [ANNOTATION_TARGET_NAMESPACES]: "app1" },
    },
    spec: { ports: [{ port: 80 }], selector: { app: "web" }, clusterIP: "10.0.0.5" },
  };
  const namespaces = [ns("default"), ns("app1")];
  const created = planSource(svc, ctx(namespaces, []));
  const state = applyActions([], created.actions).map((o) => ({
    ...o,
    spec: {
      ...(o.spec as object),
      ports: [{ port: 80, protocol: "TCP", targetPort: 80 }],
      ipFamilies: ["IPv4"],
      internalTrafficPolicy: "Cluster",
    },
    status: { loadBalancer: {} },
  }));
  assert.deepEqual(summary(planSource(svc, ctx(namespaces, state)).actions), ["unchanged app1"]);
});

Deno.test("plan: stale mirrors are deleted when the target list shrinks, only ours", () => {
  const source = cm("cfg", "default", "app1,app2");
  const namespaces = [ns("default"), ns("app1"), ns("app2"), ns("app3")];
  const state = applyActions([], planSource(source, ctx(namespaces, [])).actions);
  const unrelated = { ...cm("cfg", "app3", "x"), metadata: { name: "cfg", namespace: "app3" } };
  const narrowed = cm("cfg", "default", "app1");
  const p = planSource(narrowed, ctx(namespaces, [...state, unrelated]));
  assert.deepEqual(summary(p.actions), ["unchanged app1", "delete app2"]);
  assert.match(p.actions[1].reason!, /no longer a target/);
});

Deno.test("plan: an unmanaged object of the same name is a conflict until annotated adopt", () => {
  const source = cm("cfg", "default", "app1");
  const namespaces = [ns("default"), ns("app1")];
  const existing: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cfg", namespace: "app1", resourceVersion: "9", annotations: { note: "mine" } },
    data: { key: "theirs" },
  };
  const conflict = planSource(source, ctx(namespaces, [existing]));
  assert.deepEqual(summary(conflict.actions), ["conflict app1"]);
  assert.match(
    conflict.actions[0].reason!,
    /not managed by KubeMirror; annotate it kubemirror.raczylo.com\/adopt=default\/cfg/,
  );
  assert.equal(conflict.errors.length, 1);
  assert.equal(conflict.errors[0].namespace, "app1");

  const wrongConsent = {
    ...existing,
    metadata: { ...existing.metadata, annotations: { [ANNOTATION_ADOPT]: "other/cfg" } },
  };
  assert.deepEqual(summary(planSource(source, ctx(namespaces, [wrongConsent])).actions), ["conflict app1"]);

  const consent = {
    ...existing,
    metadata: { ...existing.metadata, annotations: { [ANNOTATION_ADOPT]: "default/cfg" } },
  };
  const adopt = planSource(source, ctx(namespaces, [consent]));
  assert.deepEqual(summary(adopt.actions), ["update app1"]);
  assert.match(adopt.actions[0].reason!, /adopted/);
  assert.equal(adopt.actions[0].observedResourceVersion, "9");
  const after = applyActions([consent], adopt.actions);
  assert.deepEqual(summary(planSource(source, ctx(namespaces, after)).actions), ["unchanged app1"]);
});

Deno.test("plan: two sources claiming one name: the existing mirror's source keeps it, the other gets a conflict", () => {
  const a = cm("shared", "team-a", "app1");
  const b = cm("shared", "team-b", "app1");
  const namespaces = [ns("team-a"), ns("team-b"), ns("app1")];
  // Nothing exists yet: the first by namespace wins, the other is told why.
  const pa = planSource(a, ctx(namespaces, [], { peers: [b] }));
  const pb = planSource(b, ctx(namespaces, [], { peers: [a] }));
  assert.deepEqual(summary(pa.actions), ["create app1"]);
  assert.deepEqual(summary(pb.actions), ["conflict app1"]);
  assert.match(pb.actions[0].reason!, /also claimed by team-a\/shared/);
  // b's mirror already exists (b came first in time): b keeps it, a gets the conflict. No flapping.
  const state = applyActions([], planSource(b, ctx(namespaces, [])).actions);
  for (let round = 0; round < 3; round++) {
    assert.deepEqual(summary(planSource(a, ctx(namespaces, state, { peers: [b] })).actions), [
      "conflict app1",
    ]);
    assert.deepEqual(summary(planSource(b, ctx(namespaces, state, { peers: [a] })).actions), [
      "unchanged app1",
    ]);
  }
});

Deno.test("plan: an immutable ConfigMap's change is a recreate; metadata-only changes are plain updates", () => {
  const source = { ...cm("cfg", "default", "app1"), immutable: true };
  const namespaces = [ns("default"), ns("app1")];
  const state = applyActions([], planSource(source, ctx(namespaces, [])).actions);
  const changed = planSource({ ...source, data: { key: "v2" } }, ctx(namespaces, state));
  assert.equal(changed.actions[0].action, "update");
  assert.equal(changed.actions[0].recreate, true);
  const relabelled = {
    ...source,
    metadata: { ...source.metadata, labels: { ...source.metadata!.labels, x: "y" } },
  };
  const metaOnly = planSource(relabelled, ctx(namespaces, state));
  assert.equal(metaOnly.actions[0].action, "update");
  assert.equal(metaOnly.actions[0].recreate, undefined);
});

Deno.test("plan: a source deleted, disabled or in a forbidden namespace loses its mirrors; a typo deletes nothing", () => {
  const source = cm("cfg", "default", "app1,app2");
  const namespaces = [ns("default"), ns("app1"), ns("app2")];
  const state = applyActions([], planSource(source, ctx(namespaces, [])).actions);
  const deleting = { ...source, metadata: { ...source.metadata, deletionTimestamp: "2026-11-24T10:00:00Z" } };
  assert.deepEqual(summary(planSource(deleting, ctx(namespaces, state)).actions), [
    "delete app1",
    "delete app2",
  ]);
  const unlabelled = { ...source, metadata: { ...source.metadata, labels: {} } };
  assert.deepEqual(summary(planSource(unlabelled, ctx(namespaces, state)).actions), [
    "delete app1",
    "delete app2",
  ]);
  const off = cm("cfg", "default", "app1,app2", { [ANNOTATION_SYNC]: "false" });
  assert.deepEqual(summary(planSource(off, ctx(namespaces, state)).actions), ["delete app1", "delete app2"]);
  const forbidden = planSource(
    source,
    ctx(namespaces, state, { config: { ...DEFAULT_CONFIG, sourceNamespaces: ["shared"] } }),
  );
  assert.deepEqual(summary(forbidden.actions), ["delete app1", "delete app2"]);
  assert.match(forbidden.errors[0].message, /not allowed to hold sources/);
  const typo = planSource(cm("cfg", "default", "app1,App2"), ctx(namespaces, state));
  assert.deepEqual(typo.actions, [], "an invalid annotation keeps existing mirrors as they are");
  assert.match(typo.errors[0].message, /"App2" is not a valid namespace name/);
  assert.deepEqual(summary(planOrphans(sourceRef(source), state, "gone")), ["delete app1", "delete app2"]);
});

Deno.test("plan: pending, excluded and truncated namespaces are skipped with a reason", () => {
  const source = cm("cfg", "default", "app1,later,kube-system,legacy", {
    "kubemirror.raczylo.com/max-targets": "1",
  });
  const namespaces = [
    ns("default"),
    ns("app1"),
    ns("app0"),
    ns("legacy", { "kubemirror.raczylo.com/allow-mirrors": "false" }),
  ];
  const p = planSource(source, ctx(namespaces, []));
  assert.deepEqual(summary(p.actions), ["create app1", "skip kube-system", "skip later", "skip legacy"]);
  const pending = cm("cfg", "default", "later");
  assert.match(planSource(pending, ctx(namespaces, [])).actions[0].reason!, /does not exist yet/);
});

Deno.test("plan: strict transform failure skips the namespace and keeps the existing mirror as it was", () => {
  const rules = "rules:\n  - path: data.list[2]\n    value: x\n";
  const ok = cm("cfg", "default", "app1");
  const namespaces = [ns("default"), ns("app1")];
  const state = applyActions([], planSource(ok, ctx(namespaces, [])).actions);
  const strict = cm("cfg", "default", "app1", {
    [ANNOTATION_TRANSFORM]: rules,
    [ANNOTATION_TRANSFORM_STRICT]: "true",
  });
  const p = planSource(strict, ctx(namespaces, state));
  assert.deepEqual(summary(p.actions), ["skip app1"]);
  assert.match(p.errors[0].message, /transform in app1: rule 1/);
  const lax = planSource(
    cm("cfg", "default", "app1", { [ANNOTATION_TRANSFORM]: rules }),
    ctx(namespaces, state),
  );
  assert.deepEqual(
    summary(lax.actions),
    ["update app1"],
    "non-strict: the failing rule is skipped, the rest applies",
  );
  assert.equal(lax.errors.length, 1, "and the failure is reported");
});

Deno.test("plan: a mirror made by the earlier Go implementation is adopted in place", () => {
  const source = cm("cfg", "default", "app1");
  const namespaces = [ns("default"), ns("app1")];
  const goMirror: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "cfg",
      namespace: "app1",
      uid: "go-made",
      resourceVersion: "77",
      labels: { [LABEL_MANAGED_BY]: "kubemirror", [LABEL_MIRROR]: "true" },
      annotations: {
        [ANNOTATION_SOURCE_NAMESPACE]: "default",
        [ANNOTATION_SOURCE_NAME]: "cfg",
        [ANNOTATION_SOURCE_UID]: "uid-default-cfg",
        [ANNOTATION_SOURCE_CONTENT_HASH]: "a".repeat(64),
      },
    },
    data: { key: "value" },
  };
  const p = planSource(source, ctx(namespaces, [goMirror]));
  assert.deepEqual(summary(p.actions), ["update app1"], "an update in place, never a delete and create");
  const after = applyActions([goMirror], p.actions);
  assert.equal(after[0].metadata!.uid, "go-made");
});

Deno.test("property: the plan is idempotent: planning against the planned result yields nothing to do", () => {
  fc.assert(
    fc.property(
      sourceArb().chain((s) => fc.tuple(fc.constant(s), observedArb(s), namespacesArb, configArb)),
      ([source, observed, namespaces, config]) => {
        const c = { namespaces, observed, config, time: T0 };
        const first = planSource(source, c);
        const after = applyActions(observed, first.actions);
        const second = planSource(source, { ...c, observed: after, time: T1 });
        for (const a of second.actions) {
          assert.ok(
            ["unchanged", "conflict", "skip"].includes(a.action),
            `${a.action} ${a.target.namespace}: ${a.reason}`,
          );
        }
        const conflicts = (p: typeof first) =>
          p.actions.filter((a) => a.action === "conflict").map((a) => a.target.namespace);
        assert.deepEqual(conflicts(second), conflicts(first), "conflicts stay conflicts");
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("property: no action ever updates or deletes an object that is not ours, unless its owner consented", () => {
  fc.assert(
    fc.property(
      sourceArb().chain((s) =>
        fc.tuple(fc.constant(s), observedArb(s), namespacesArb, configArb, fc.boolean())
      ),
      ([source, observed, namespaces, config, disabled]) => {
        const src = disabled ? { ...source, metadata: { ...source.metadata, labels: {} } } : source;
        const plan = planSource(src, { namespaces, observed, config, time: T0 });
        const ref = { namespace: source.metadata!.namespace!, name: source.metadata!.name! };
        for (const a of plan.actions) {
          const at = observed.find((o) =>
            o.kind === source.kind && o.metadata!.namespace === a.target.namespace &&
            o.metadata!.name === a.target.name
          );
          if (a.action === "update") {
            assert.ok(at && (isMirrorOf(at, ref) || adoptsFor(at, ref)), `update ${a.target.namespace}`);
          }
          if (a.action === "delete") assert.ok(at && isMirrorOf(at, ref), `delete ${a.target.namespace}`);
          if (a.action === "create") {
            assert.equal(at, undefined, `create over an existing object in ${a.target.namespace}`);
          }
          if (a.action === "create" || a.action === "update") {
            assert.equal(a.object!.metadata!.namespace, a.target.namespace);
            assert.ok(isMirrorOf(a.object!, ref), "what we write carries our markers");
          }
        }
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("property: the plan is deterministic and does not depend on the order of its inputs", () => {
  fc.assert(
    fc.property(
      sourceArb().chain((s) => fc.tuple(fc.constant(s), observedArb(s), namespacesArb, configArb)),
      ([source, observed, namespaces, config]) => {
        const a = planSource(source, { namespaces, observed, config, time: T0 });
        const b = planSource(source, {
          namespaces: [...namespaces].reverse(),
          observed: [...observed].reverse(),
          config,
          time: T0,
        });
        assertSame(a, b);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("property: the incremental plan agrees with the full plan: a namespace change the wake-up filter skips changes no plan", () => {
  // The controller re-plans, on a namespace's change, only the sources `mayTarget` names; every other
  // source's plan must be the one it would get if it were planned again in full.
  fc.assert(
    fc.property(
      sourceArb().chain((s) => fc.tuple(fc.constant(s), observedArb(s), namespacesArb, configArb)),
      fc.record({
        name: fc.constantFrom("app-9", "prod-z", "web-staging", "zz-other", "team", "legacy", "app-1"),
        change: fc.constantFrom("added", "removed", "labelled", "terminating"),
        label: fc.constantFrom("true", "false"),
      }),
      ([source, observed, namespaces, config], { name, change, label }) => {
        const parsed = parseSource(source, config);
        if (!parsed.ok || mayTarget(parsed.spec.targets, name)) return;
        const others = namespaces.filter((n) => n.name !== name);
        const before = namespaces.find((n) => n.name === name) ??
          { name, labels: {}, phase: "Active" as const };
        const after: NamespaceInfo[] = change === "removed" ? others : [...others, {
          ...before,
          labels: change === "labelled" ? { ...before.labels, [LABEL_ALLOW_MIRRORS]: label } : before.labels,
          phase: change === "terminating" ? "Terminating" : before.phase,
        }];
        const ctx = { observed, config, time: T0 };
        assertSame(
          planSource(source, { ...ctx, namespaces: after }),
          planSource(source, { ...ctx, namespaces }),
        );
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("property: what an earlier plan left never changes a plan, and an edit (a new resourceVersion) is still found", () => {
  fc.assert(
    fc.property(
      sourceArb().chain((s) => fc.tuple(fc.constant(s), observedArb(s), namespacesArb, configArb)),
      fc.nat(),
      fc.dictionary(fc.stringMatching(/^[a-z]{1,4}$/), fc.string({ maxLength: 6 }), { maxKeys: 2 }),
      ([source, observed, namespaces, config], pick, newData) => {
        const ctx = { namespaces, config, time: T0 };
        const first = planSource(source, { ...ctx, observed });
        const settled = applyActions(observed, first.actions);
        const full = planSource(source, { ...ctx, observed: settled, time: T1 });
        const memo = planSource(source, { ...ctx, observed: settled, time: T1, memo: full.memo });
        assertSame(memo, full);
        // A memo from before the writes, or of another hash, is no help and no harm.
        const stale = planSource(source, { ...ctx, observed: settled, time: T1, memo: first.memo });
        assertSame(stale, full);
        if (full.memo) {
          const otherHash = {
            ...full.memo,
            resourceVersion: "6",
            prepared: { ...full.memo.prepared, hash: "0".repeat(64) },
            inSync: new Map(settled.map((o) => [o.metadata!.namespace!, o.metadata!.resourceVersion!])),
          };
          assertSame(
            planSource(source, { ...ctx, observed: settled, time: T1, memo: otherHash }),
            full,
          );
          // Other flags: parsed and prepared again.
          const otherFlags = { ...full.memo, config: { ...config } };
          assertSame(
            planSource(source, { ...ctx, observed: settled, time: T1, memo: otherFlags }),
            full,
          );
        }
        // The source edited (the API server gives it a new resourceVersion): planned from its new content.
        const editedSource = {
          ...source,
          metadata: { ...source.metadata, resourceVersion: "8" },
          data: source.kind === "Secret"
            ? Object.fromEntries(Object.entries(newData).map(([k, v]) => [k, btoa(encodeURIComponent(v))]))
            : newData,
        };
        assertSame(
          planSource(editedSource, { ...ctx, observed: settled, time: T1, memo: full.memo }),
          planSource(editedSource, { ...ctx, observed: settled, time: T1 }),
        );
        // A label the content hash leaves out, which a transform may read, changed.
        const relabelled = {
          ...source,
          metadata: {
            ...source.metadata,
            resourceVersion: "9",
            labels: { ...source.metadata?.labels, "argocd.argoproj.io/instance": "relabelled" },
          },
        };
        assertSame(
          planSource(relabelled, { ...ctx, observed: settled, time: T1, memo: full.memo }),
          planSource(relabelled, { ...ctx, observed: settled, time: T1 }),
        );
        // Someone edits a mirror found in sync: its resourceVersion moves, and the edit is reverted.
        const inSyncNs = [...(full.memo?.inSync.keys() ?? [])];
        if (inSyncNs.length === 0) return;
        const ns = inSyncNs[pick % inSyncNs.length];
        const edited = settled.map((o) =>
          o.metadata?.namespace === ns && o.kind === source.kind
            ? { ...o, metadata: { ...o.metadata, resourceVersion: "999" }, data: { edited: "by hand" } }
            : o
        );
        const after = planSource(source, { ...ctx, observed: edited, time: T1, memo: full.memo });
        assertSame(after, planSource(source, { ...ctx, observed: edited, time: T1 }));
        assert.equal(after.actions.find((a) => a.target.namespace === ns)?.action, "update");
      },
    ),
    { numRuns: 400 },
  );
});

Deno.test("property: a source kept from one plan to the next is parsed and hashed once", () => {
  fc.assert(
    fc.property(
      sourceArb().chain((s) => fc.tuple(fc.constant(s), observedArb(s), namespacesArb, configArb)),
      ([source, observed, namespaces, config]) => {
        const ctx = { namespaces, config, time: T0, observed };
        const first = planSource(source, ctx);
        if (!first.memo) return;
        const again = planSource(source, { ...ctx, memo: first.memo });
        // The very parts the first plan computed, not equal copies of them.
        assert.equal(again.memo?.prepared, first.memo.prepared);
        assert.equal(again.memo?.spec, first.memo.spec);
        const edited = { ...source, metadata: { ...source.metadata, resourceVersion: "8" } };
        assert.notEqual(planSource(edited, { ...ctx, memo: first.memo }).memo?.prepared, first.memo.prepared);
      },
    ),
    { numRuns: 200 },
  );
});

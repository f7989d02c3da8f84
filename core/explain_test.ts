import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_CONFIG } from "./config.ts";
import { explainTarget, summarize } from "./explain.ts";
import { LABEL_ALLOW_MIRRORS } from "./markers.ts";
import { planSource } from "./plan.ts";
import { renderMirror } from "./render.ts";
import type { KubeObject, NamespaceInfo } from "./types.ts";

const T = { now: "2026-11-30T00:00:00Z" };
const P = "kubemirror.raczylo.com/";
const names = ["app-1", "app-2", "web", "db", "kube-system", "default"];

const world = fc.record({
  targets: fc.constantFrom("app-*", "all", "web,db", "app-1,missing", "all-labeled", ""),
  optOut: fc.subarray(names),
  optIn: fc.subarray(names),
  mirrored: fc.subarray(names),
  foreign: fc.subarray(names),
  maxTargets: fc.integer({ min: 1, max: 5 }),
  ask: fc.constantFrom(...names, "missing", "elsewhere"),
}).map((w) => {
  const source: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    data: { a: "1" },
    metadata: {
      name: "cfg",
      namespace: "default",
      uid: "u",
      labels: { [`${P}enabled`]: "true" },
      annotations: { [`${P}sync`]: "true", [`${P}target-namespaces`]: w.targets },
    },
  };
  const namespaces: NamespaceInfo[] = names.map((name): NamespaceInfo => ({
    name,
    phase: "Active",
    labels: w.optOut.includes(name)
      ? { [LABEL_ALLOW_MIRRORS]: "false" }
      : w.optIn.includes(name)
      ? { [LABEL_ALLOW_MIRRORS]: "true" }
      : {} as Record<string, string>,
  }));
  const config = { ...DEFAULT_CONFIG, maxTargets: w.maxTargets };
  const observed: KubeObject[] = [
    ...w.mirrored.map((ns) => renderMirror(source, ns, { strict: false }, config, T).object),
    ...w.foreign.filter((ns) => !w.mirrored.includes(ns)).map((ns) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "cfg", namespace: ns },
    })),
  ];
  const plan = planSource(source, { namespaces, observed, config, time: T });
  return { source, plan, ask: w.ask };
});

Deno.test("property: why is deterministic, names the namespace, and says mirrored exactly when our copy is there to stay", () => {
  fc.assert(fc.property(world, ({ source, plan, ask }) => {
    const why = explainTarget({ plan, source, namespace: ask });
    assert.deepEqual(explainTarget({ plan, source, namespace: ask }), why);
    assert.ok(why.text.includes(ask), why.text);
    const action = plan.actions.find((a) => a.target.namespace === ask);
    const ours = action !== undefined && ["unchanged", "update"].includes(action.action);
    assert.equal(why.mirrored, ours, `${action?.action}: ${why.text}`);
    assert.equal(why.state === "in-sync", action?.action === "unchanged");
    if (!action) assert.ok(["not-a-target", "invalid"].includes(why.state));
    if (action?.action === "conflict") assert.match(why.text, /adopt|mirror of/);
    if (action?.code === "truncated") assert.match(why.text, /max-targets/);
  }));
});

Deno.test("property: status counts add up to the plan's actions", () => {
  fc.assert(fc.property(world, ({ plan }) => {
    const s = summarize(plan);
    const count = (k: string) => plan.actions.filter((a) => a.action === k).length;
    assert.equal(s.inSync, count("unchanged"));
    assert.equal(s.toCreate, count("create"));
    assert.equal(s.toUpdate, count("update"));
    assert.equal(s.conflicts, count("conflict"));
    assert.equal(s.targets, s.inSync + s.toCreate + s.toUpdate + s.conflicts);
    assert.equal(s.cut, plan.actions.filter((a) => a.code === "truncated").length);
    assert.equal(s.errors, plan.errors.length);
  }));
});

Deno.test("why: every reason of the plan reads as a sentence naming its cause", () => {
  const source: KubeObject = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: "tls",
      namespace: "default",
      labels: { [`${P}enabled`]: "true" },
      annotations: { [`${P}sync`]: "true", [`${P}target-namespaces`]: "all", [`${P}max-targets`]: "1" },
    },
  };
  const ns = (name: string, labels: Record<string, string> = {}): NamespaceInfo => ({
    name,
    labels,
    phase: "Active",
  });
  const plan = planSource(source, {
    namespaces: [
      ns("a"),
      ns("b"),
      ns("out", { [LABEL_ALLOW_MIRRORS]: "false" }),
      ns("kube-system"),
      ns("default"),
    ],
    observed: [{ apiVersion: "v1", kind: "Secret", metadata: { name: "tls", namespace: "a" } }],
    config: DEFAULT_CONFIG,
    time: T,
  });
  const why = (n: string) => explainTarget({ plan, source, namespace: n }).text;
  assert.match(
    why("a"),
    /conflict: a\/tls exists and is not managed by KubeMirror; annotate it kubemirror.raczylo.com\/adopt=default\/tls/,
  );
  assert.match(why("b"), /cut by max-targets/);
  assert.match(why("out"), /opted out/);
  assert.match(why("kube-system"), /system namespaces never receive mirrors/);
  assert.match(why("default"), /source namespace/);
});

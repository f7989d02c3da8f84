/**
 * Figures for the core: `deno task bench`. Planning one source over 1,000 namespaces (from nothing,
 * in sync, and known in sync from the last plan), rendering a mirror with 5 rules of which 2 are templates, hashing a 100 KiB Secret.
 */
import { applyActions } from "./_testing.ts";
import { DEFAULT_CONFIG } from "./config.ts";
import { contentHash } from "./hash.ts";
import { planSource } from "./plan.ts";
import { rebaseMemo } from "./plan_memo.ts";
import { planBase, planNamespaces } from "./plan_namespaces.ts";
import { prepareSource, renderPrepared } from "./render.ts";
import { parseSource } from "./source_spec.ts";
import type { KubeObject, NamespaceInfo } from "./types.ts";

const namespaces: NamespaceInfo[] = Array.from({ length: 1000 }, (_, i) => ({
  name: `ns-${String(i).padStart(4, "0")}`,
  labels: {},
  phase: "Active",
}));
const config = { ...DEFAULT_CONFIG, maxTargets: 1000 };
const source: KubeObject = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: {
    name: "cfg",
    namespace: "default",
    uid: "u",
    resourceVersion: "1",
    labels: { "kubemirror.raczylo.com/enabled": "true", app: "web" },
    annotations: {
      "kubemirror.raczylo.com/sync": "true",
      "kubemirror.raczylo.com/target-namespaces": "all",
      "kubemirror.raczylo.com/transform": `rules:
  - path: data.LOG_LEVEL
    value: "error"
  - path: data.API_URL
    template: "https://{{.TargetNamespace}}.api.example.com"
  - path: metadata.labels
    merge:
      environment: production
  - path: data.DEBUG_MODE
    delete: true
  - path: data.DB
    template: '{{ .TargetNamespace | replace "-" "_" | upper }}'
`,
    },
  },
  data: { LOG_LEVEL: "debug", API_URL: "https://localhost", DEBUG_MODE: "true", A: "1", B: "2" },
};
const time = { now: "2026-11-24T00:00:00Z", clock: () => performance.now() };
const fromNothing = planSource(source, { namespaces, observed: [], config, time });
const inSync = applyActions([], fromNothing.actions);

Deno.bench("plan one source over 1,000 namespaces, nothing mirrored yet", () => {
  planSource(source, { namespaces, observed: [], config, time });
});

Deno.bench("plan one source over 1,000 namespaces, all 1,000 mirrors in sync", () => {
  planSource(source, { namespaces, observed: inSync, config, time });
});

// What an earlier plan found in sync is not rendered again while the source keeps its resourceVersion.
const syncedMemo = planSource(source, { namespaces, observed: inSync, config, time }).memo;
Deno.bench("plan one source over 1,000 namespaces, all 1,000 mirrors in sync, known in sync", () => {
  planSource(source, { namespaces, observed: inSync, config, time, memo: syncedMemo });
});

// The same source without its transform: known in sync while its content hash is the same.
const plain: KubeObject = structuredClone(source);
delete plain.metadata!.annotations!["kubemirror.raczylo.com/transform"];
const plainSynced = applyActions([], planSource(plain, { namespaces, observed: [], config, time }).actions);
const plainMemo = planSource(plain, { namespaces, observed: plainSynced, config, time }).memo;

Deno.bench("plan one source without a transform, all 1,000 mirrors in sync, rendered again", () => {
  planSource(plain, { namespaces, observed: plainSynced, config, time });
});

Deno.bench("plan one source without a transform, all 1,000 mirrors in sync, known in sync", () => {
  planSource(plain, { namespaces, observed: plainSynced, config, time, memo: plainMemo });
});

const parsed = parseSource(source, config);
if (!parsed.ok) throw new Error("bench source is invalid");
const prepared = prepareSource(source, parsed.spec, config);
let i = 0;
Deno.bench("render one mirror with 5 rules, 2 of them templates", () => {
  renderPrepared(prepared, namespaces[i++ % 1000].name, config, time);
});

const bytes = new Uint8Array(100 * 1024).map((_, j) => (j * 7919) % 256);
let binary = "";
for (const b of bytes) binary += String.fromCharCode(b);
const bigSecret = {
  content: { apiVersion: "v1", kind: "Secret", type: "Opaque", data: { blob: btoa(binary) } },
};
Deno.bench("hash a 100 KiB Secret", () => {
  contentHash(bigSecret);
});

// One namespace more under a source with 1,000 mirrors in sync: planned in full, or that namespace alone.
const withNew = [...namespaces, { name: "ns-new", labels: {}, phase: "Active" as const }];
const roomy = { ...config, maxTargets: 2000 };
const plainFull = planSource(plain, { namespaces, observed: plainSynced, config: roomy, time });
const plainLast = planBase(plainFull);
const newOnly = new Set(["ns-new"]);
if (!planNamespaces(plain, { namespaces: withNew, observed: [], config: roomy, time }, plainLast, newOnly)) {
  throw new Error("the bench's new namespace is not planned alone");
}
Deno.bench("one new namespace under 1,000 mirrors in sync, planned in full (known in sync)", () => {
  planSource(plain, {
    namespaces: withNew,
    observed: plainSynced,
    config: roomy,
    time,
    memo: plainFull.memo,
  });
});
Deno.bench("one new namespace under 1,000 mirrors in sync, planned for that namespace", () => {
  planNamespaces(
    plain,
    { namespaces: withNew.slice(-1), observed: [], config: roomy, time },
    plainLast,
    newOnly,
  );
});

// A source with a transform once the controller has written its sync-status on it: rendered again for
// every target (how it was planned until the status left the templates' view), or known in sync through
// the memo carried over the write (`rebaseMemo`).
const statused: KubeObject = structuredClone(source);
statused.metadata!.resourceVersion = "2";
statused.metadata!.annotations!["kubemirror.raczylo.com/sync-status"] = "reconciled:1000,errors:0";
const rebased = syncedMemo && rebaseMemo(syncedMemo, statused);
if (!rebased) throw new Error("the bench's memo is not carried over the status write");
const statusedPlan = planSource(statused, { namespaces, observed: inSync, config, time, memo: rebased });
if (statusedPlan.actions.some((a) => a.action !== "unchanged")) {
  throw new Error("the bench's mirrors are not in sync");
}
Deno.bench(
  "a source with a transform after its own sync-status write, 1,000 mirrors in sync, rendered again",
  () => {
    planSource(statused, { namespaces, observed: inSync, config, time });
  },
);
Deno.bench(
  "a source with a transform after its own sync-status write, 1,000 mirrors in sync, memo carried over",
  () => {
    planSource(statused, { namespaces, observed: inSync, config, time, memo: rebased });
  },
);

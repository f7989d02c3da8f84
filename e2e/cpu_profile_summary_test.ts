import assert from "node:assert/strict";
import { type CpuProfile, summarizeProfile } from "./cpu_profile_summary.ts";

const ROOT = "file:///repo/";
const frame = (functionName: string, url = "") => ({ functionName, url, lineNumber: 0 });

Deno.test("a profile's busy time is split by whose frame is on the stack, the inspector's apart", () => {
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame("(root)"), children: [2, 5, 6, 7, 8, 10] },
      { id: 2, callFrame: frame("reconcile", `${ROOT}shell/controller/reconciler.ts`), children: [3] },
      { id: 3, callFrame: frame("request", `${ROOT}shell/kube/kube_api.ts`), children: [4] },
      { id: 4, callFrame: frame("fetch", "ext:deno_fetch/26_fetch.js"), children: [9] },
      { id: 5, callFrame: frame("(garbage collector)") },
      { id: 6, callFrame: frame("(idle)") },
      { id: 7, callFrame: frame("(program)") },
      { id: 8, callFrame: frame("pull", "ext:deno_web/06_streams.js") },
      { id: 9, callFrame: frame("op_inspector_emit_protocol_event") },
      { id: 10, callFrame: frame("onLine", "file:///cache/client-node/dist/watch.js") },
    ],
    samples: [2, 3, 4, 4, 5, 6, 6, 7, 8, 9, 10, 10],
    timeDeltas: [10, 20, 30, 30, 40, 50, 50, 60, 70, 80, 5, 5],
  };
  const s = summarizeProfile(profile, ROOT);
  assert.deepEqual(s.busy, { ours: 30, underOurs: 60, runtime: 80, gc: 40, program: 60 });
  assert.equal(s.idle, 100);
  assert.equal(s.inspector, 80);
  // The fetch below `request` counts for `request`, the nearest frame of ours; `reconcile` keeps its own.
  assert.deepEqual(s.byOwnFrame, [
    ["request shell/kube/kube_api.ts", 80],
    ["reconcile shell/controller/reconciler.ts", 10],
  ]);
});

Deno.test("an empty profile sums to nothing", () => {
  const s = summarizeProfile(
    { nodes: [{ id: 1, callFrame: frame("(root)") }], samples: [], timeDeltas: [] },
    ROOT,
  );
  assert.deepEqual(s, {
    busy: { ours: 0, underOurs: 0, runtime: 0, gc: 0, program: 0 },
    idle: 0,
    inspector: 0,
    byOwnFrame: [],
  });
});

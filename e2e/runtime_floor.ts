/**
 * The least CPU a controller on this runtime spends per mirror: one process that writes ConfigMaps through
 * the controller's own client (Deno's fetch, 40 at once as the controller writes) while it watches them
 * through the controller's watch (client-node's), and does nothing else. Three phases, one per kind of
 * mirror write: it creates the objects (a converge, a new namespace), then replaces each with new content
 * (`PUT` with the resourceVersion it was answered, as the controller updates a mirror after an edit), then
 * deletes each (with the controller's delete options: a resourceVersion precondition, background
 * propagation). Run as its own process with the production entry point's V8 flags and malloc arenas, so
 * its CPU is comparable with the controller's.
 *
 * `deno run --allow-all e2e/runtime_floor.ts KUBECONFIG COUNT LABEL NAMESPACE...` prints one line of JSON:
 * `{"create": {"cpuMs": …, "wallS": …}, "update": {…}, "delete": {…}}`, each phase's CPU (user + system)
 * and wall time from its first request to the last object's watch event. {@link runtimeFloor} runs it for
 * a benchmark.
 * @module
 */
import { KubeApi } from "../shell/kube/kube_api.ts";
import { loadKubeConfig } from "../shell/kube/kube_config.ts";
import type { KubeObject } from "../core/types.ts";
import { cpuSeconds, pool } from "./harness.ts";
import { CHART_V8_FLAGS } from "./hostile_workload.ts";

/** What one phase of the floor measured. */
export interface PhaseFigures {
  /** CPU milliseconds per object: its request and its watch event. */
  msPerObject: number;
  wallS: number;
}

/** What one run of the floor measured: creates, updates and deletes of as many objects. */
export interface FloorFigures {
  create: PhaseFigures;
  update: PhaseFigures;
  delete: PhaseFigures;
}

type Phase = keyof FloorFigures;
const PHASES: Phase[] = ["create", "update", "delete"];

/** Runs the floor in its own process: `count` ConfigMaps labelled `label`, spread over `namespaces`. */
export async function runtimeFloor(
  kubeconfig: string,
  count: number,
  label: string,
  namespaces: string[],
): Promise<FloorFigures> {
  // A step of no objects (`BENCH_MIRRORS=0`, idle memory) has no floor to measure.
  const none = { msPerObject: NaN, wallS: 0 };
  if (count === 0) return { create: none, update: none, delete: none };
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", import.meta.filename!, kubeconfig, String(count), label, ...namespaces],
    env: { DENO_V8_FLAGS: CHART_V8_FLAGS, MALLOC_ARENA_MAX: "2" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!out.success) throw new Error(`runtime_floor failed: ${new TextDecoder().decode(out.stderr)}`);
  const figures = JSON.parse(text) as Record<Phase, { cpuMs: number; wallS: number }>;
  return Object.fromEntries(
    PHASES.map((p) => [p, { msPerObject: figures[p].cpuMs / count, wallS: figures[p].wallS }]),
  ) as unknown as FloorFigures;
}

if (import.meta.main) {
  const [kubeconfig, countText, label, ...namespaces] = Deno.args;
  const count = Number(countText);
  const api = new KubeApi(loadKubeConfig(kubeconfig), { qps: 100_000, burst: 100_000, userAgent: "floor" });
  const path = (i: number, name = "") =>
    `/api/v1/namespaces/${namespaces[i % namespaces.length]}/configmaps${name && `/${name}`}`;
  const name = (i: number) => `floor-${label}-${i}`;
  /** What each write answered: the object as the API server holds it, for the next phase's request. */
  const written: KubeObject[] = new Array(count);
  const events: Record<Phase, string> = { create: "ADDED", update: "MODIFIED", delete: "DELETED" };
  let phase: Phase = "create";
  let seen = 0;
  let allSeen = Promise.withResolvers<void>();
  const stopWatch = await api.watch(
    "/api/v1/configmaps",
    { query: { labelSelector: `bench-floor=${label}` } },
    (e) => {
      if (e.type === events[phase] && ++seen === count) allSeen.resolve();
    },
    (err) => allSeen.reject(err ?? new Error("the watch ended")),
  );
  const writes: Record<Phase, (i: number) => Promise<unknown>> = {
    create: async (i) => {
      written[i] = await api.request("POST", path(i), {
        body: {
          metadata: { name: name(i), labels: { "bench-floor": label } },
          data: { payload: "x".repeat(1024) },
        },
      });
    },
    update: async (i) => {
      written[i] = await api.request("PUT", path(i, name(i)), {
        body: { ...written[i], data: { payload: "y".repeat(1024) } },
      });
    },
    delete: (i) =>
      api.request("DELETE", path(i, name(i)), {
        body: {
          kind: "DeleteOptions",
          apiVersion: "v1",
          propagationPolicy: "Background",
          preconditions: { resourceVersion: written[i].metadata?.resourceVersion },
        },
      }),
  };
  const figures: Record<string, { cpuMs: number; wallS: number }> = {};
  for (const p of PHASES) {
    phase = p;
    seen = 0;
    allSeen = Promise.withResolvers<void>();
    const c0 = await cpuSeconds(Deno.pid);
    const t0 = performance.now();
    await pool(count, 40, writes[p]);
    await allSeen.promise;
    figures[p] = {
      cpuMs: ((await cpuSeconds(Deno.pid)) - c0) * 1000,
      wallS: (performance.now() - t0) / 1000,
    };
  }
  console.log(JSON.stringify(figures));
  stopWatch();
}

/**
 * The least CPU a controller on this runtime spends per mirror: one process that creates ConfigMaps through
 * the controller's own client (Deno's fetch, 40 at once as the controller writes) while it watches them
 * through the controller's watch (client-node's), and does nothing else. Run as its own process with the
 * production entry point's V8 flags and malloc arenas, so its CPU is comparable with the controller's.
 *
 * `deno run --allow-all e2e/runtime_floor.ts KUBECONFIG COUNT LABEL NAMESPACE...` prints one line of JSON:
 * `{"cpuMs": …, "wallS": …}`, the CPU (user + system) and wall time from the first create to the last
 * object's watch event. {@link runtimeFloor} runs it for a benchmark.
 * @module
 */
import { KubeApi } from "../shell/kube/kube_api.ts";
import { loadKubeConfig } from "../shell/kube/kube_config.ts";
import { cpuSeconds, pool } from "./harness.ts";
import { CHART_V8_FLAGS } from "./hostile_workload.ts";

/** What one run of the floor measured. */
export interface FloorFigures {
  /** CPU milliseconds per object: its create and its watch event. */
  msPerObject: number;
  wallS: number;
}

/** Runs the floor in its own process: `count` ConfigMaps labelled `label`, spread over `namespaces`. */
export async function runtimeFloor(
  kubeconfig: string,
  count: number,
  label: string,
  namespaces: string[],
): Promise<FloorFigures> {
  // A step of no objects (`BENCH_MIRRORS=0`, idle memory) has no floor to measure.
  if (count === 0) return { msPerObject: NaN, wallS: 0 };
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", import.meta.filename!, kubeconfig, String(count), label, ...namespaces],
    env: { DENO_V8_FLAGS: CHART_V8_FLAGS, MALLOC_ARENA_MAX: "2" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1) ?? "";
  if (!out.success) throw new Error(`runtime_floor failed: ${new TextDecoder().decode(out.stderr)}`);
  const { cpuMs, wallS } = JSON.parse(text);
  return { msPerObject: cpuMs / count, wallS };
}

if (import.meta.main) {
  const [kubeconfig, countText, label, ...namespaces] = Deno.args;
  const count = Number(countText);
  const api = new KubeApi(loadKubeConfig(kubeconfig), { qps: 100_000, burst: 100_000, userAgent: "floor" });
  const payload = "x".repeat(1024);
  let seen = 0;
  const allSeen = Promise.withResolvers<void>();
  const stopWatch = await api.watch(
    "/api/v1/configmaps",
    { query: { labelSelector: `bench-floor=${label}` } },
    (e) => {
      if (e.type === "ADDED" && ++seen === count) allSeen.resolve();
    },
    (err) => allSeen.reject(err ?? new Error("the watch ended")),
  );
  const c0 = await cpuSeconds(Deno.pid);
  const t0 = performance.now();
  await pool(
    count,
    40,
    (i) =>
      api.request("POST", `/api/v1/namespaces/${namespaces[i % namespaces.length]}/configmaps`, {
        body: {
          metadata: { name: `floor-${label}-${i}`, labels: { "bench-floor": label } },
          data: { payload },
        },
      }),
  );
  await allSeen.promise;
  console.log(
    JSON.stringify({
      cpuMs: ((await cpuSeconds(Deno.pid)) - c0) * 1000,
      wallS: (performance.now() - t0) / 1000,
    }),
  );
  stopWatch();
}

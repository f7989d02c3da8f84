/**
 * `deno task bench:scale`: figures at scale on the local control plane. 200 namespaces; sources each
 * mirrored to all of them, added in steps (`BENCH_MIRRORS`, default `1000`, e.g. `1000,5000,10000`): time to
 * converge from a cold start, time for one source edit to reach its 200 mirrors, API requests used, and the
 * controller's memory (RSS and V8 heap) idle and once converged at each step. Prints figures; asserts nothing.
 *
 * `BENCH_ENTRY=image` runs the image (`deno task image`, through podman: read-only root, user 65532,
 * in-cluster configuration) instead of `tools/run.sh`; `BENCH_ENV` adds environment (`K=V;K=V`), e.g.
 * the chart's `DENO_V8_FLAGS`.
 * @module
 */
import { byController, CM, Harness, loadImageIntoPodman, metricValue, sleep, source } from "./harness.ts";

const P = "kubemirror.raczylo.com/";
const NAMESPACES = 200;
const QPS = Number(Deno.env.get("BENCH_QPS") ?? 1000);
const STEPS = (Deno.env.get("BENCH_MIRRORS") ?? "1000").split(",").map(Number);
const ENTRY = Deno.env.get("BENCH_ENTRY") === "image" ? "image" : "source";
const ENV = Object.fromEntries(
  (Deno.env.get("BENCH_ENV") ?? "").split(";").filter((kv) => kv.includes("=")).map((kv) => {
    const i = kv.indexOf("=");
    return [kv.slice(0, i), kv.slice(i + 1)];
  }),
);
/** Seconds to wait after converging before reading memory (V8 gives back heap once the burst is over). */
const SETTLE_MS = Number(Deno.env.get("BENCH_SETTLE") ?? 30) * 1000;
const MiB = (bytes: number) => (bytes / 1048576).toFixed(1);

if (ENTRY === "image") console.log(`image: ${await loadImageIntoPodman()}`);
const h = await Harness.start();
try {
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `bench-${String(i).padStart(3, "0")}`);
  for (let i = 0; i < namespaces.length; i += 20) {
    await Promise.all(namespaces.slice(i, i + 20).map((ns) => h.createNamespace(ns)));
  }
  let sources = 0;
  const addSources = async (upTo: number) => {
    for (; sources < upTo; sources++) {
      await h.apply(
        CM("default"),
        source("ConfigMap", "default", `shared-${sources}`, {
          [`${P}target-namespaces`]: "bench-*",
          [`${P}max-targets`]: "500",
        }, {
          data: { index: String(sources), payload: "x".repeat(2048) },
        }),
      );
    }
  };
  const start = () =>
    h.startController(
      [
        "--leader-elect=false",
        `--rate-limit-qps=${QPS}`,
        `--rate-limit-burst=${QPS}`,
        "--worker-threads=5",
        "--max-targets=500",
        "--resource-types=ConfigMap.v1,Secret.v1",
      ],
      { LOG_LEVEL: "warn", ...ENV },
      { entry: ENTRY },
    );
  const memoryOf = async (ctl: { metrics(): Promise<string> }) => {
    const metrics = await ctl.metrics();
    const value = (name: string) => metricValue(metrics, `kubemirror_${name}`) ?? 0;
    return {
      rss: value("process_resident_memory_bytes"),
      heap: value("process_heap_used_bytes"),
      heapTotal: value("process_heap_total_bytes"),
      external: value("process_external_memory_bytes"),
      releases: value("heap_releases_total"),
    };
  };
  // Idle: 200 namespaces, nothing to mirror, ten seconds after ready.
  const idleCtl = await start();
  await sleep(10_000);
  const idle = await memoryOf(idleCtl);
  await idleCtl.stop();

  await addSources(STEPS[0] / NAMESPACES);
  const t0 = performance.now();
  const ctl = await start();
  const ready = performance.now();
  const memory = () => memoryOf(ctl);
  // The controller's own count of mirrors written: cheap to poll even at 10,000.
  const created = async () => {
    return metricValue(await ctl.metrics(), 'kubemirror_api_requests_total{verb="create",code="201"}') ?? 0;
  };
  const converge = async (mirrors: number) => {
    while ((await created()) < mirrors) await sleep(100);
  };
  await converge(STEPS[0]);
  const converged = performance.now();

  const edit = performance.now();
  await h.apply(
    CM("default"),
    source("ConfigMap", "default", "shared-0", {
      [`${P}target-namespaces`]: "bench-*",
      [`${P}max-targets`]: "500",
    }, {
      data: { index: "0", payload: "y".repeat(2048) },
    }),
  );
  while (true) {
    const list = await h.api.get<any>("/api/v1/configmaps", {
      query: { labelSelector: `${P}mirror=true`, fieldSelector: "metadata.name=shared-0" },
    });
    if (list.items.filter((m: any) => m.data.payload.startsWith("y")).length === NAMESPACES) break;
    await sleep(50);
  }
  const propagated = performance.now();
  await sleep(SETTLE_MS);
  const first = await memory();
  const events = (await h.cluster.auditEvents()).filter(byController);
  const byVerb = new Map<string, number>();
  for (const e of events) byVerb.set(e.verb, (byVerb.get(e.verb) ?? 0) + 1);
  console.log(`entry: ${ENTRY}${Object.keys(ENV).length ? `, environment ${JSON.stringify(ENV)}` : ""}`);
  console.log(
    `namespaces: ${NAMESPACES}, sources: ${sources}, mirrors: ${STEPS[0]}, --rate-limit-qps ${QPS}`,
  );
  console.log(`controller start to ready: ${((ready - t0) / 1000).toFixed(2)} s`);
  console.log(`cold start to ${STEPS[0]} mirrors converged: ${((converged - t0) / 1000).toFixed(2)} s`);
  console.log(
    `one source edit to all ${NAMESPACES} mirrors updated: ${((propagated - edit) / 1000).toFixed(2)} s`,
  );
  console.log(`API requests by verb: ${[...byVerb].map(([v, n]) => `${v} ${n}`).join(", ")}`);
  const row = (label: string, m: Awaited<ReturnType<typeof memory>>) =>
    console.log(
      `${label.padStart(7)}  ${MiB(m.rss).padStart(7)}  ${MiB(m.heap).padStart(8)}  ${
        MiB(m.heapTotal).padStart(14)
      }  ${MiB(m.external).padStart(12)}  ${String(m.releases).padStart(13)}`,
    );
  console.log(`mirrors  RSS MiB  heap MiB  heap total MiB  external MiB  heap releases`);
  row("0 idle", idle);
  row(String(STEPS[0]), first);
  for (const step of STEPS.slice(1)) {
    await addSources(step / NAMESPACES);
    // The edit above made one update per mirror of shared-0, not a create: creates count new mirrors.
    await converge(step);
    await sleep(SETTLE_MS);
    row(String(step), await memory());
  }
} finally {
  await h.stop();
}

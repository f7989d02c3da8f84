/**
 * `deno task bench:scale`: figures at scale on the local control plane. 200 namespaces and 5 sources each
 * mirrored to all of them (1,000 mirrors): time to converge from a cold start, time for one source edit to
 * reach its 200 mirrors, API requests used, and the controller's resident memory. Prints figures; asserts nothing.
 * @module
 */
import { CM, Harness, sleep, source } from "./harness.ts";

const P = "kubemirror.raczylo.com/";
const NAMESPACES = 200;
const SOURCES = 5;
const QPS = Number(Deno.env.get("BENCH_QPS") ?? 1000);

const h = await Harness.start();
try {
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `bench-${String(i).padStart(3, "0")}`);
  for (let i = 0; i < namespaces.length; i += 20) {
    await Promise.all(namespaces.slice(i, i + 20).map((ns) => h.createNamespace(ns)));
  }
  for (let s = 0; s < SOURCES; s++) {
    await h.apply(
      CM("default"),
      source("ConfigMap", "default", `shared-${s}`, {
        [`${P}target-namespaces`]: "bench-*",
        [`${P}max-targets`]: "500",
      }, {
        data: { index: String(s), payload: "x".repeat(2048) },
      }),
    );
  }
  const count = async () => {
    const list = await h.api.get("/api/v1/configmaps", { labelSelector: `${P}mirror=true` });
    return list.items.length as number;
  };
  const t0 = performance.now();
  const ctl = await h.startController([
    "--leader-elect=false",
    `--rate-limit-qps=${QPS}`,
    `--rate-limit-burst=${QPS}`,
    "--worker-threads=5",
    "--max-targets=500",
    "--resource-types=ConfigMap.v1,Secret.v1",
  ], { LOG_LEVEL: "warn" });
  const ready = performance.now();
  while ((await count()) < NAMESPACES * SOURCES) await sleep(100);
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
    const list = await h.api.get("/api/v1/configmaps", {
      labelSelector: `${P}mirror=true`,
      fieldSelector: "metadata.name=shared-0",
    });
    if (list.items.filter((m: any) => m.data.payload.startsWith("y")).length === NAMESPACES) break;
    await sleep(50);
  }
  const propagated = performance.now();
  await sleep(3000);
  const metrics = await ctl.metrics();
  const rss = Number(/^kubemirror_process_resident_memory_bytes (\d+)/m.exec(metrics)?.[1] ?? 0);
  const heap = Number(/^kubemirror_process_heap_used_bytes (\d+)/m.exec(metrics)?.[1] ?? 0);
  const events = (await h.cluster.auditEvents()).filter((e) => e.userAgent?.startsWith("kubemirror/"));
  const byVerb = new Map<string, number>();
  for (const e of events) byVerb.set(e.verb, (byVerb.get(e.verb) ?? 0) + 1);
  console.log(
    `namespaces: ${NAMESPACES}, sources: ${SOURCES}, mirrors: ${
      NAMESPACES * SOURCES
    }, --rate-limit-qps ${QPS}`,
  );
  console.log(`controller start to ready: ${((ready - t0) / 1000).toFixed(2)} s`);
  console.log(
    `cold start to ${NAMESPACES * SOURCES} mirrors converged: ${((converged - t0) / 1000).toFixed(2)} s`,
  );
  console.log(
    `one source edit to all ${NAMESPACES} mirrors updated: ${((propagated - edit) / 1000).toFixed(2)} s`,
  );
  console.log(
    `resident memory: ${(rss / 1048576).toFixed(1)} MiB (heap used ${(heap / 1048576).toFixed(1)} MiB)`,
  );
  console.log(`API requests by verb: ${[...byVerb].map(([v, n]) => `${v} ${n}`).join(", ")}`);
} finally {
  await h.stop();
}

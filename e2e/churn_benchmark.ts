/**
 * `deno task bench:churn`: memory under mixed churn, for `BENCH_MINUTES` (default 30) at 10,000 mirrors
 * (500 namespaces × 20 sources, 1 KiB ConfigMaps), on the production entry point (`BENCH_ENTRY=source` for
 * tools/run.sh). Every second one of: a source edited (a fan-out of 500 updates), a namespace created or
 * deleted in turn (20 mirrors made, then dropped: the count stays put), a mirror edited by hand (reverted),
 * or unrelated ConfigMaps written (noise the controller must ignore). RSS and heap are sampled every 30 s;
 * the RSS slope (least squares, MiB per hour) over the second half says whether memory grows with time.
 * Prints figures; asserts nothing.
 * @module
 */
import { CM, Harness, metricValue, sleep, source } from "./harness.ts";
import { CHART_V8_FLAGS } from "./hostile_workload.ts";

const P = "kubemirror.raczylo.com/";
const MINUTES = Number(Deno.env.get("BENCH_MINUTES") ?? 30);
const NAMESPACES = 500;
const SOURCES = 20;
const MiB = (b: number) => b / 1048576;
/** `bundle` (default): the production entry point, with the chart's DENO_V8_FLAGS; `source`: tools/run.sh. */
const ENTRY = (Deno.env.get("BENCH_ENTRY") ?? "bundle") as "bundle" | "source";
const ENV: Record<string, string> = {
  LOG_LEVEL: "warn",
  ...(ENTRY === "bundle" ? { DENO_V8_FLAGS: CHART_V8_FLAGS } : {}),
};

/** Least-squares slope of y over x. */
function slope(points: [number, number][]): number {
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

// A fixed sequence, so that two runs churn alike.
let seed = 42;
const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;

const h = await Harness.start();
try {
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `ch-${String(i).padStart(3, "0")}`);
  for (let i = 0; i < NAMESPACES; i += 25) {
    await Promise.all(namespaces.slice(i, i + 25).map((ns) => h.createNamespace(ns)));
  }
  await h.createNamespace("noise");
  const ctl = await h.startController(
    [
      "--leader-elect=false",
      "--rate-limit-qps=1000",
      "--rate-limit-burst=1000",
      "--max-targets=1000",
      "--resource-types=ConfigMap.v1",
    ],
    ENV,
    { entry: ENTRY },
  );
  for (let s = 0; s < SOURCES; s++) {
    await h.apply(
      CM("default"),
      source("ConfigMap", "default", `ch-src-${s}`, { [`${P}target-namespaces`]: "ch-*" }, {
        data: { v: "0", payload: "x".repeat(1024) },
      }),
    );
  }
  const creates = async () =>
    metricValue(await ctl.metrics(), 'kubemirror_api_requests_total{verb="create",code="201"}') ?? 0;
  while ((await creates()) < NAMESPACES * SOURCES) await sleep(200);
  console.log(`converged: ${NAMESPACES * SOURCES} mirrors; churning for ${MINUTES} min`);
  const samples: [number, number, number][] = [];
  const started = performance.now();
  const counts = { edits: 0, namespaces: 0, handEdits: 0, noise: 0 };
  const extra: string[] = [];
  let created = 0;
  let nextSample = 0;
  while (performance.now() - started < MINUTES * 60_000) {
    const r = random();
    if (r < 0.25) {
      const s = Math.floor(random() * SOURCES);
      await h.patch(CM("default", `ch-src-${s}`), { data: { v: String(Date.now()) } });
      counts.edits++;
    } else if (r < 0.5) {
      // Names are never reused: a deleted namespace terminates for a while. A creation and a deletion
      // alternate, so the number of mirrors stays put (10,000 to 10,020): memory is compared like for like.
      if (extra.length > 0) await h.remove(`/api/v1/namespaces/${extra.shift()}`);
      else {
        const ns = `ch-x${created++}`;
        await h.createNamespace(ns);
        extra.push(ns);
      }
      counts.namespaces++;
    } else if (r < 0.75) {
      const ns = namespaces[Math.floor(random() * NAMESPACES)];
      await h.patch(CM(ns, `ch-src-${Math.floor(random() * SOURCES)}`), { data: { v: "hand edit" } }).catch(
        () => {},
      );
      counts.handEdits++;
    } else {
      await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          h.apply(CM("noise"), {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: `n-${i}` },
            data: { t: String(Date.now()) },
          })),
      );
      counts.noise++;
    }
    const elapsed = (performance.now() - started) / 1000;
    if (elapsed >= nextSample) {
      const m = await ctl.metrics();
      samples.push([
        elapsed,
        MiB(metricValue(m, "kubemirror_process_resident_memory_bytes") ?? 0),
        MiB(metricValue(m, "kubemirror_process_heap_used_bytes") ?? 0),
      ]);
      nextSample += 30;
    }
    await sleep(1000);
  }
  const second = samples.slice(Math.floor(samples.length / 2));
  console.log(`actions: ${JSON.stringify(counts)}; entry: ${ENTRY}`);
  const mirrors = async () =>
    metricValue(await ctl.metrics(), 'kubemirror_mirror_resources_total{kind="ConfigMap"}') ?? 0;
  console.log(`mirrors at the end: ${await mirrors()}`);
  console.log("minute  RSS MiB  heap MiB");
  for (const [t, rss, heap] of samples.filter((_, i) => i % 4 === 0)) {
    console.log(
      `${(t / 60).toFixed(1).padStart(6)}  ${rss.toFixed(1).padStart(7)}  ${heap.toFixed(1).padStart(8)}`,
    );
  }
  const rssSlope = slope(second.map(([t, rss]) => [t / 3600, rss]));
  const heapSlope = slope(second.map(([t, , heap]) => [t / 3600, heap]));
  console.log(
    `RSS slope over the second half: ${rssSlope.toFixed(2)} MiB/hour; heap: ${
      heapSlope.toFixed(2)
    } MiB/hour ` +
      `(min ${Math.min(...samples.map((s) => s[1])).toFixed(1)}, max ${
        Math.max(...samples.map((s) => s[1])).toFixed(1)
      } MiB)`,
  );
  await ctl.stop();
} finally {
  await h.stop();
}

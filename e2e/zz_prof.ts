import { CM, eventually, Harness, metricValue, source } from "./harness.ts";
const P = "kubemirror.raczylo.com/";
const h = await Harness.start();
try {
  const N = 500;
  const names = Array.from({ length: N }, (_, i) => `p-${i}`);
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < N) await h.createNamespace(names[next++]);
  }));
  const ctl = await h.startController([
    "--leader-elect=false",
    "--rate-limit-qps=1000",
    "--rate-limit-burst=1000",
    "--max-targets=1000",
    "--resource-types=ConfigMap.v1",
  ], {
    LOG_LEVEL: "warn",
    DENO_V8_FLAGS: "--prof,--logfile=/tmp/prof/v8-%p.log",
    ...(Deno.env.get("ENTRY") === "bundle" ? {} : {}),
  }, { entry: (Deno.env.get("ENTRY") ?? "source") as "source" | "bundle" });
  const payload = "x".repeat(1024);
  await h.apply(
    CM("default"),
    source("ConfigMap", "default", "s", { [`${P}target-namespaces`]: "p-*" }, { data: { v: "0", payload } }),
  );
  await eventually(
    async () => {
      const m = await ctl.metrics();
      if ((metricValue(m, 'kubemirror_mirror_resources_total{kind="ConfigMap"}') ?? 0) < N) {
        throw new Error("wait");
      }
    },
    120_000,
    200,
  );
  const t0 = performance.now();
  for (let v = 1; v <= 10; v++) {
    await h.patch(`${CM("default")}/s`, { data: { v: String(v) } });
    await eventually(
      async () => {
        const o = await h.get(`${CM("p-499")}/s`);
        if (o.data.v !== String(v)) throw new Error("wait");
      },
      60_000,
      50,
    );
    await new Promise((r) => setTimeout(r, 500));
  }
  console.log(`10 edits x ${N}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
} finally {
  await h.stop();
}

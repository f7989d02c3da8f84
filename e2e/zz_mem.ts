import { CM, Harness, metricValue, source } from "./harness.ts";
import { CHART_V8_FLAGS } from "./hostile_workload.ts";
const P = "kubemirror.raczylo.com/";
const h = await Harness.start();
const show = async (ctl: any, label: string) => {
  const m = await ctl.metrics();
  const pid = ctl.child.pid;
  const smaps = await Deno.readTextFile(`/proc/${pid}/smaps`);
  let anonBig = 0, anonSmall = 0, heapSeg = 0;
  let cur = "";
  const sizes: number[] = [];
  for (const line of smaps.split("\n")) {
    if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) cur = line;
    else if (line.startsWith("Anonymous:")) {
      const kb = Number(line.split(/\s+/)[1]);
      if (cur.includes("[heap]")) heapSeg += kb;
      else if (kb > 4096) {
        anonBig += kb;
        sizes.push(kb);
      } else anonSmall += kb;
    }
  }
  console.log(
    label,
    "rss",
    ((metricValue(m, "kubemirror_process_resident_memory_bytes") ?? 0) / 2 ** 20).toFixed(1),
    "heapUsed",
    ((metricValue(m, "kubemirror_process_heap_used_bytes") ?? 0) / 2 ** 20).toFixed(1),
    "heapTotal",
    ((metricValue(m, "kubemirror_process_heap_total_bytes") ?? 0) / 2 ** 20).toFixed(1),
    "external",
    ((metricValue(m, "kubemirror_process_external_memory_bytes") ?? 0) / 2 ** 20).toFixed(1),
    "anon[heap]",
    (heapSeg / 1024).toFixed(1),
    "anon>4M",
    (anonBig / 1024).toFixed(1),
    JSON.stringify(sizes.map((s) => Math.round(s / 1024))),
    "anon small",
    (anonSmall / 1024).toFixed(1),
  );
};
try {
  const N = Number(Deno.env.get("N") ?? 500);
  const names = Array.from({ length: N }, (_, i) => `m-${i}`);
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < N) await h.createNamespace(names[next++]);
  }));
  const v8 = Deno.env.get("V8") ?? CHART_V8_FLAGS;
  const ctl = await h.startController(
    [
      "--leader-elect=false",
      "--rate-limit-qps=1000",
      "--rate-limit-burst=1000",
      "--max-targets=1000",
      "--resource-types=ConfigMap.v1",
    ],
    { LOG_LEVEL: "warn", DENO_V8_FLAGS: v8 },
    { entry: "bundle" },
  );
  await new Promise((r) => setTimeout(r, 8000));
  await show(ctl, "idle");
  if (Deno.env.get("IDLE_ONLY")) {
    const smaps = await Deno.readTextFile(`/proc/${ctl.child.pid}/smaps`);
    let cur = "";
    for (const line of smaps.split("\n")) {
      if (/^[0-9a-f]+-[0-9a-f]+ /.test(line)) cur = line;
      else if (line.startsWith("Anonymous:") && Number(line.split(/\s+/)[1]) > 4000) {
        console.log("region", line, cur);
      }
    }
    console.log(
      "cmdline",
      (await Deno.readTextFile(`/proc/${ctl.child.pid}/cmdline`)).replaceAll("\0", " ").slice(0, 300),
    );
    console.log(
      "environ",
      (await Deno.readTextFile(`/proc/${ctl.child.pid}/environ`)).split("\0").filter((e) =>
        /MALLOC|V8|DENO/.test(e)
      ).join(" "),
    );
    throw new Error("idle only");
  }
  const payload = "x".repeat(1024);
  for (let s = 0; s < 10; s++) {
    await h.apply(
      CM("default"),
      source("ConfigMap", "default", `s-${s}`, { [`${P}target-namespaces`]: "m-*" }, { data: { payload } }),
    );
  }
  while (
    (metricValue(await ctl.metrics(), 'kubemirror_mirror_resources_total{kind="ConfigMap"}') ?? 0) < 5000
  ) await new Promise((r) => setTimeout(r, 200));
  for (const t of [5, 20, 40]) {
    await new Promise((r) => setTimeout(r, t === 5 ? 5000 : t === 20 ? 15000 : 20000));
    await show(ctl, `+${t}s after 5000`);
  }
} finally {
  await h.stop();
}

/**
 * A hostile author's workload, shared by the memory benchmark and the fault suite: a 700 KiB Secret
 * mirrored into 20 namespaces, plus two sources whose templates run into the size and the time limit in
 * each of them, all edited every 2 s, while the controller's memory is sampled each second.
 * @module
 */
import { type Harness, metricValue, SECRET, sleep, source } from "./harness.ts";

const P = "kubemirror.raczylo.com/";

/** What the chart sets for its default 512Mi limit (the `kubemirror.v8Flags` helper). */
export const CHART_V8_FLAGS = "--max-old-space-size=204,--max-semi-space-size=16";

/** Memory figures in MiB. */
export interface MemoryFigures {
  rounds: number;
  idle: { rss: number; heap: number };
  rss: { max: number; mean: number };
  heap: { max: number; mean: number };
}

/** Runs the workload for `seconds` against a new controller started with `env`; stops it after. */
export async function hostileWorkload(
  h: Harness,
  seconds: number,
  env: Record<string, string>,
  during?: () => Promise<void>,
): Promise<MemoryFigures> {
  const namespaces = Array.from({ length: 20 }, (_, i) => `mem-${i}`);
  for (const n of namespaces) if (!(await h.find(`/api/v1/namespaces/${n}`))) await h.createNamespace(n);
  const ctl = await h.startController(["--leader-elect=false"], { LOG_LEVEL: "warn", ...env });
  const big = (seed: number) => {
    const bytes = new Uint8Array(700 * 1024);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 31 + seed) & 0xff;
    let binary = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
    }
    return btoa(binary);
  };
  const grow = `{{ $x := .TargetNamespace }}${'{{ $x = printf "%s%s" $x $x }}'.repeat(30)}{{ $x }}`;
  const spin = "{{ range 1000000000 }}{{ end }}";
  const apply = (round: number) =>
    Promise.all([
      h.apply(
        SECRET("default"),
        source("Secret", "default", "big", { [`${P}target-namespaces`]: "mem-*" }, {
          data: { blob: big(round) },
        }),
      ),
      ...[["grow", grow], ["spin", spin]].map(([name, template]) =>
        h.apply(
          SECRET("default"),
          source("Secret", "default", name, {
            [`${P}target-namespaces`]: "mem-*",
            [`${P}transform`]: `rules:\n  - path: data.out\n    template: '${template}'\n`,
          }, { data: { round: btoa(String(round)) } }),
        )
      ),
    ]);
  const sample = async () => {
    const text = await ctl.metrics();
    const value = (name: string) => (metricValue(text, name) ?? 0) / 2 ** 20;
    return {
      rss: value("kubemirror_process_resident_memory_bytes"),
      heap: value("kubemirror_process_heap_used_bytes"),
    };
  };
  const idle = await sample();
  const samples: { rss: number; heap: number }[] = [];
  const started = Date.now();
  let round = 0;
  try {
    while (Date.now() - started < seconds * 1000) {
      if ((Date.now() - started) / 2000 >= round) await apply(round++);
      samples.push(await sample());
      await sleep(1000);
    }
    await during?.();
  } finally {
    await ctl.stop();
    for (const name of ["big", "grow", "spin"]) await h.remove(SECRET("default", name));
  }
  const max = (k: "rss" | "heap") => Math.round(Math.max(...samples.map((s) => s[k])));
  const mean = (k: "rss" | "heap") => Math.round(samples.reduce((a, s) => a + s[k], 0) / samples.length);
  return {
    rounds: round,
    idle: { rss: Math.round(idle.rss), heap: Math.round(idle.heap) },
    rss: { max: max("rss"), mean: mean("rss") },
    heap: { max: max("heap"), mean: mean("heap") },
  };
}

/**
 * `deno task bench:profile`: where the controller's CPU goes, phase by phase, on the local plane. The
 * controller runs from source (`tools/run.sh`, named frames) with an inspector on loopback; V8's sampling
 * profiler (200 µs) is started just before each phase and stopped after it:
 * - `converge`: `BENCH_SOURCES` sources (default 10) over `BENCH_NAMESPACES` namespaces (default 500);
 * - `edits`: `BENCH_EDITS` edits of one source (default 5), after one edit left out (the code the updates
 *   run is compiled during the first);
 * - `namespaces`: 100 new namespaces, each getting every source's mirror;
 * - `delete`: every source deleted, their mirrors removed.
 * `PROFILE_PHASES` (comma-separated) profiles only some; the others still run. Each profile is written as a
 * `.cpuprofile` (Chrome's DevTools read it) in `PROFILE_DIR` (default: a new temporary directory) and summed
 * ({@link summarizeProfile}): the CPU per mirror written (from /proc, the inspector's own cost included),
 * the main thread's busy time by whose frame is on the stack, and the frames of ours the most falls under.
 * The inspector makes every request dearer (Deno reports each `fetch` to it): compare shares, and take CPU
 * figures from `bench:curve`. Prints figures; asserts nothing.
 * @module
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { freePort } from "../tools/testcluster/cluster.ts";
import { type CpuProfile, summarizeProfile } from "./cpu_profile_summary.ts";
import {
  CM,
  cpuSeconds,
  Harness,
  metricValue,
  pool,
  ROOT,
  scaleBenchFlags,
  sleep,
  source,
} from "./harness.ts";
import { CHART_V8_FLAGS } from "./hostile_workload.ts";

const P = "kubemirror.raczylo.com/";
const NAMESPACES = Number(Deno.env.get("BENCH_NAMESPACES") ?? 500);
const SOURCES = Number(Deno.env.get("BENCH_SOURCES") ?? 10);
const EDITS = Number(Deno.env.get("BENCH_EDITS") ?? 5);
const PHASES = Deno.env.get("PROFILE_PHASES")?.split(",") ?? ["converge", "edits", "namespaces", "delete"];
const DIR = Deno.env.get("PROFILE_DIR") ?? await Deno.makeTempDir({ prefix: "kubemirror-profile-" });
const POLL_MS = 100;

/** A `deno` that adds an inspector to the run of `mod.ts` (tools/run.sh runs `$DENO`), and only to it. */
async function inspectingDeno(port: number): Promise<string> {
  const path = join(DIR, "deno.sh");
  await Deno.writeTextFile(
    path,
    `#!/bin/sh
case "$*" in *mod.ts*) if [ "$1" = run ]; then shift; exec '${Deno.execPath()}' run --inspect=127.0.0.1:${port} "$@"; fi ;; esac
exec '${Deno.execPath()}' "$@"
`,
  );
  await Deno.chmod(path, 0o755);
  return path;
}

/** The inspector's protocol over its WebSocket: one method call at a time, its result back. */
async function inspector(port: number) {
  const [target] = await (await fetch(`http://127.0.0.1:${port}/json/list`)).json();
  const ws = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    ws.onopen = resolve;
    ws.onerror = reject;
  });
  let id = 0;
  const pending = new Map<number, (result: any) => void>();
  ws.onmessage = (m) => {
    const message = JSON.parse(m.data);
    pending.get(message.id)?.(message.result);
    pending.delete(message.id);
  };
  return {
    call: (method: string, params: Record<string, unknown> = {}) =>
      new Promise<any>((resolve) => {
        pending.set(++id, resolve);
        ws.send(JSON.stringify({ id, method, params }));
      }),
    close: () => ws.close(),
  };
}

const h = await Harness.start();
try {
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `c-${String(i).padStart(4, "0")}`);
  await pool(namespaces.length, 32, (i) => h.createNamespace(namespaces[i]));
  const port = freePort();
  const ctl = await h.startController(scaleBenchFlags(NAMESPACES), {
    LOG_LEVEL: "warn",
    DENO: await inspectingDeno(port),
    DENO_V8_FLAGS: CHART_V8_FLAGS,
  });
  const count = async (series: string) => metricValue(await ctl.metrics(), series) ?? 0;
  const written = async () =>
    await count('kubemirror_api_requests_total{verb="create",code="201"}') +
    await count('kubemirror_api_requests_total{verb="update",code="200"}') +
    await count('kubemirror_api_requests_total{verb="delete",code="200"}');
  const until = async (n: number) => {
    while ((await written()) < n) await sleep(POLL_MS);
  };
  const profiler = await inspector(port);
  await profiler.call("Profiler.enable");
  await profiler.call("Profiler.setSamplingInterval", { interval: 200 });
  const root = pathToFileURL(ROOT).href + "/";
  const ms = (us: number) => (us / 1000).toFixed(0);
  console.log(`namespaces: ${NAMESPACES}; sources: ${SOURCES}; profiles in ${DIR}`);

  /** Runs one phase of `writes` mirror writes, profiled when asked, and prints what the profile says. */
  const phase = async (name: string, writes: number, work: (before: number) => Promise<void>) => {
    const profiled = PHASES.includes(name);
    const before = await written();
    const cpu0 = await cpuSeconds(ctl.child.pid);
    const t0 = performance.now();
    if (profiled) await profiler.call("Profiler.start");
    await work(before);
    await until(before + writes);
    const profile: CpuProfile | undefined = profiled
      ? (await profiler.call("Profiler.stop")).profile
      : undefined;
    const s = (performance.now() - t0) / 1000;
    const cpu = (await cpuSeconds(ctl.child.pid)) - cpu0;
    console.log(
      `\n${name}: ${writes} mirrors written in ${s.toFixed(1)} s, ${cpu.toFixed(1)} CPU s, ${
        (cpu * 1000 / writes).toFixed(3)
      } ms per mirror${profiled ? " (profiled)" : ""}`,
    );
    if (!profile) return;
    const file = join(DIR, `${name}.cpuprofile`);
    await Deno.writeTextFile(file, JSON.stringify(profile));
    const { busy, idle, inspector, byOwnFrame } = summarizeProfile(profile, root);
    const total = Object.values(busy).reduce((a, b) => a + b, 0);
    const share = (us: number) => `${(100 * us / total).toFixed(1)} %`;
    console.log(
      `  main thread busy ${ms(total)} ms (idle ${ms(idle)}, the inspector's own ${ms(inspector)}): ` +
        `our code ${share(busy.ours)}, runtime and libraries called by it ${share(busy.underOurs)}, ` +
        `runtime with no frame of ours ${share(busy.runtime)}, collector ${share(busy.gc)}, ` +
        `(program) ${share(busy.program)}; ${file}`,
    );
    for (const [frame, us] of byOwnFrame.slice(0, 12)) console.log(`  ${share(us).padStart(7)}  ${frame}`);
  };

  await phase("converge", SOURCES * NAMESPACES, async () => {
    for (let s = 0; s < SOURCES; s++) {
      await h.apply(
        CM("default"),
        source("ConfigMap", "default", `s-${s}`, { [`${P}target-namespaces`]: "c-*" }, {
          data: { index: String(s), payload: "x".repeat(1024) },
        }),
      );
    }
  });
  await sleep(5000);
  let edited = 0;
  const edit = async () => {
    const before = await written();
    await h.patch(CM("default", "s-0"), { data: { payload: String(edited++ % 10).repeat(1024) } });
    await until(before + NAMESPACES);
  };
  await edit();
  await phase("edits", EDITS * NAMESPACES, async () => {
    for (let e = 0; e < EDITS; e++) await edit();
  });
  await sleep(5000);
  await phase("namespaces", 100 * SOURCES, async () => {
    await pool(100, 32, (i) => h.createNamespace(`c-${NAMESPACES + i}`));
  });
  await sleep(5000);
  await phase("delete", (NAMESPACES + 100) * SOURCES, async () => {
    for (let s = 0; s < SOURCES; s++) await h.remove(CM("default", `s-${s}`));
  });
  profiler.close();
  await ctl.stop();
} finally {
  await h.stop();
}

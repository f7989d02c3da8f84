/**
 * `deno task bench:curve`: the controller's cost per mirror at size, on the local plane, against a plain
 * client doing the same writes. For each step of `BENCH_MIRRORS` (default `1000,10000`) over
 * `BENCH_NAMESPACES` namespaces (default 1,000), each source targeting all of them:
 * - converge from a cold start: time, and its ratio to a plain client (16 at once) creating as many objects;
 * - the controller's CPU seconds (from /proc) per mirror written, and API requests per mirror (audit log);
 * - the runtime's floor ({@link runtimeFloor}): the CPU per object of a process that only creates as many
 *   objects and watches them, the least a controller on this runtime spends per mirror (and, printed
 *   beside the edit and the delete, what it spends per update and per delete of the same objects);
 * - RSS (and its anonymous and file-backed parts) and V8 heap once settled;
 * then, at the last step: one source's edits fanning out (the first, then more), 200 new namespaces at
 * once, a restart with everything in sync (time to ready, requests, writes), kube-apiserver restarted (the
 * controller's watches expire and it relists: time, requests, writes, CPU, peak RSS), and every source
 * deleted.
 * Prints figures; asserts nothing.
 * @module
 */
import { KubeApi } from "../shell/kube/kube_api.ts";
import { loadKubeConfig } from "../shell/kube/kube_config.ts";
import {
  byController as ours,
  CM,
  cpuSeconds,
  Harness,
  metricValue,
  pool,
  scaleBenchFlags,
  sleep,
  source,
} from "./harness.ts";
import { CHART_V8_FLAGS } from "./hostile_workload.ts";
import { type FloorFigures, runtimeFloor } from "./runtime_floor.ts";

const P = "kubemirror.raczylo.com/";
const NAMESPACES = Number(Deno.env.get("BENCH_NAMESPACES") ?? 1000);
const STEPS = (Deno.env.get("BENCH_MIRRORS") ?? "1000,10000").split(",").map(Number);
const SETTLE_MS = Number(Deno.env.get("BENCH_SETTLE") ?? 20) * 1000;
/** `bundle` (default): the production entry point (the Dockerfile's bundle, the binary's flags, the image's
 * MALLOC_ARENA_MAX and the chart's DENO_V8_FLAGS); `source`: tools/run.sh. */
const ENTRY = (Deno.env.get("BENCH_ENTRY") ?? "bundle") as "bundle" | "source";
const ENV: Record<string, string> = {
  LOG_LEVEL: "warn",
  // BENCH_V8_FLAGS tries other V8 flags in place of the chart's.
  ...(ENTRY === "bundle" ? { DENO_V8_FLAGS: Deno.env.get("BENCH_V8_FLAGS") ?? CHART_V8_FLAGS } : {}),
  // glibc's malloc tunables, passed through to try them (MALLOC_ARENA_MAX is the image's already).
  ...Object.fromEntries(Object.entries(Deno.env.toObject()).filter(([k]) => k.startsWith("MALLOC_"))),
};
/** How often the controller's metrics are read while waiting: each read costs it ~0.35 ms of CPU, which a
 * tighter poll adds to the figures (20 ms added ~0.035 ms per mirror to a 1,000-mirror edit). */
const POLL_MS = 100;
const MiB = (b: number) => (b / 1048576).toFixed(1);

const h = await Harness.start();
try {
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `c-${String(i).padStart(4, "0")}`);
  await pool(namespaces.length, 32, (i) => h.createNamespace(namespaces[i]));
  const plain = new KubeApi(loadKubeConfig(h.cluster.kubeconfigPath("admin")), {
    qps: 100_000,
    burst: 100_000,
    userAgent: "plain-client",
  });
  const payload = "x".repeat(1024);
  let sources = 0;
  const addSources = async (upTo: number) => {
    for (; sources < upTo; sources++) {
      await h.apply(
        CM("default"),
        source("ConfigMap", "default", `s-${sources}`, {
          [`${P}target-namespaces`]: "c-*",
        }, { data: { index: String(sources), payload } }),
      );
    }
  };
  const flags = scaleBenchFlags(NAMESPACES);
  let ctl = await h.startController(flags, ENV, { entry: ENTRY });
  const pid = () => ctl.child.pid;
  const count = async (series: string) => metricValue(await ctl.metrics(), series) ?? 0;
  const creates = () => count('kubemirror_api_requests_total{verb="create",code="201"}');
  const plans = async () => ({
    full: await count('kubemirror_plans_total{controller="configmap",scope="full"}'),
    namespaces: await count('kubemirror_plans_total{controller="configmap",scope="namespaces"}'),
  });
  const memory = async () => {
    const m = await ctl.metrics();
    // Resident memory in two parts: anonymous (heaps, buffers: the process's own) and file-backed (the
    // pages of the executable it has touched: clean, shared with any process running the same file).
    const status = await Deno.readTextFile(`/proc/${pid()}/status`);
    const kB = (field: string) =>
      Number(status.match(new RegExp(`^${field}:\\s+(\\d+) kB`, "m"))?.[1] ?? 0) * 1024;
    return {
      rss: metricValue(m, "kubemirror_process_resident_memory_bytes") ?? 0,
      heap: metricValue(m, "kubemirror_process_heap_used_bytes") ?? 0,
      anon: kB("RssAnon"),
      file: kB("RssFile"),
      /** The peak resident set since start, or since it was last reset (`clear_refs`). */
      peak: kB("VmHWM"),
    };
  };
  /** The controller's requests since an audit position (watches only when asked), by verb and resource. */
  const requestsSince = async (auditBefore: number, { watches = false } = {}) => {
    const events = (await h.cluster.auditEvents()).slice(auditBefore).filter(ours)
      .filter((e) => watches || e.verb !== "watch");
    const byVerb = new Map<string, number>();
    for (const e of events) {
      const k = `${e.verb} ${e.objectRef?.resource}`;
      byVerb.set(k, (byVerb.get(k) ?? 0) + 1);
    }
    return { events, text: `requests: ${[...byVerb].map(([k, n]) => `${n} ${k}`).join(", ")}` };
  };
  console.log(`namespaces: ${NAMESPACES}; transport: Deno's fetch; --rate-limit-qps 1000; 1 KiB ConfigMaps`);
  console.log(
    "mirrors  converge s  plain client s  ratio  CPU s  ms CPU/mirror  floor ms  requests/mirror  RSS MiB" +
      "  heap MiB  anon MiB  file MiB",
  );
  let done = 0;
  /** The last step's floor: the edit, the new namespaces and the delete are measured against it. */
  let floor: FloorFigures | undefined;
  const floorText = (phase: keyof FloorFigures) =>
    floor
      ? `; floor ${floor[phase].msPerObject.toFixed(3)} ms per ${phase} (${floor[phase].wallS.toFixed(1)} s)`
      : "";
  for (const step of STEPS) {
    // The plain client first: as many creates, 16 at once, into the same namespaces.
    const toCreate = step - done;
    const p0 = performance.now();
    await pool(
      toCreate,
      16,
      (i) =>
        plain.request("POST", `/api/v1/namespaces/${namespaces[i % NAMESPACES]}/configmaps`, {
          body: { metadata: { name: `plain-${step}-${i}` }, data: { payload } },
        }),
    );
    const plainS = (performance.now() - p0) / 1000;
    // The runtime's floor for as many objects: write and watch, nothing else (its own process).
    floor = await runtimeFloor(h.cluster.kubeconfigPath("admin"), toCreate, String(step), namespaces);
    const auditBefore = (await h.cluster.auditEvents()).length;
    const plans0 = await plans();
    const cpu0 = await cpuSeconds(pid());
    const t0 = performance.now();
    await addSources(step / NAMESPACES);
    while ((await creates()) < step) await sleep(POLL_MS);
    const convergeS = (performance.now() - t0) / 1000;
    const cpu = (await cpuSeconds(pid())) - cpu0;
    await sleep(SETTLE_MS);
    const requests = (await h.cluster.auditEvents()).slice(auditBefore).filter(ours).filter((e) =>
      e.verb !== "watch"
    ).length;
    const m = await memory();
    console.log(
      `${String(step).padStart(7)}  ${convergeS.toFixed(1).padStart(10)}  ${
        plainS.toFixed(1).padStart(14)
      }  ${(convergeS / plainS).toFixed(2).padStart(5)}  ${cpu.toFixed(1).padStart(5)}  ${
        (cpu * 1000 / toCreate).toFixed(3).padStart(13)
      }  ${floor.create.msPerObject.toFixed(3).padStart(8)}  ${
        (requests / toCreate).toFixed(3).padStart(15)
      }  ${MiB(m.rss).padStart(7)}  ${MiB(m.heap).padStart(8)}  ${MiB(m.anon).padStart(8)}  ${
        MiB(m.file).padStart(8)
      }`,
    );
    const plans1 = await plans();
    console.log(
      `         plans: ${plans1.full - plans0.full} full, ${
        plans1.namespaces - plans0.namespaces
      } of the namespaces that changed (each source's own mirror events among them)`,
    );
    done = step;
  }

  // With no source (`BENCH_MIRRORS=0`: idle memory) there is nothing to edit, add to or delete.
  if (sources > 0) {
    // One source's edits fanning out to every namespace, one after another: the first alone (the first
    // updates since start: the code they run is compiled as they go), then BENCH_EDITS more (default 5; a
    // single fan-out of a few hundred writes lasts under a second, and its figure varies from run to run).
    {
      const updates = () => count('kubemirror_api_requests_total{verb="update",code="200"}');
      let edited = 0;
      const edit = async (edits: number, what: string) => {
        const auditBefore = (await h.cluster.auditEvents()).length;
        const cpu0 = await cpuSeconds(pid());
        const t0 = performance.now();
        for (let e = 0; e < edits; e++, edited++) {
          const before = await updates();
          await h.patch(CM("default", "s-0"), { data: { payload: String(edited % 10).repeat(1024) } });
          while ((await updates()) - before < NAMESPACES) await sleep(POLL_MS);
        }
        const s = (performance.now() - t0) / 1000;
        const cpu = (await cpuSeconds(pid())) - cpu0;
        await sleep(3000);
        console.log(
          `${what} → ${NAMESPACES} mirrors each: ${s.toFixed(2)} s, ${
            (cpu * 1000 / (edits * NAMESPACES)).toFixed(3)
          } ms CPU per mirror${floorText("update")}; ${(await requestsSince(auditBefore)).text}`,
        );
      };
      await edit(1, "the first edit");
      const edits = Number(Deno.env.get("BENCH_EDITS") ?? 5);
      if (edits > 0) await edit(edits, `${edits} more edit(s)`);
    }

    // 200 new namespaces at once: each gets every source's mirror.
    {
      const before = await creates();
      const want = 200 * sources;
      const plans0 = await plans();
      const auditBefore = (await h.cluster.auditEvents()).length;
      const cpu0 = await cpuSeconds(pid());
      const t0 = performance.now();
      // Named as the sources' glob already matches: the namespace events alone wake them.
      await pool(200, 32, (i) => h.createNamespace(`c-${NAMESPACES + i}`));
      while ((await creates()) - before < want) await sleep(POLL_MS);
      const s = (performance.now() - t0) / 1000;
      const cpu = (await cpuSeconds(pid())) - cpu0;
      await sleep(3000);
      const plans1 = await plans();
      console.log(
        `200 new namespaces → ${want} mirrors: ${s.toFixed(1)} s, ${
          (cpu * 1000 / want).toFixed(3)
        } ms CPU per mirror${floorText("create")}; ${(await requestsSince(auditBefore)).text}; plans: ${
          plans1.namespaces - plans0.namespaces
        } of the namespaces that changed, ${plans1.full - plans0.full} full`,
      );
    }

    // A restart with everything in sync.
    {
      await sleep(5000);
      await ctl.stop();
      const auditBefore = (await h.cluster.auditEvents()).length;
      const t0 = performance.now();
      ctl = await h.startController(flags, ENV, { entry: ENTRY });
      const readyS = (performance.now() - t0) / 1000;
      await sleep(15_000);
      const { events, text } = await requestsSince(auditBefore, { watches: true });
      const writes = events.filter((e) =>
        ["create", "update", "patch", "delete"].includes(e.verb) && e.objectRef?.resource === "configmaps"
      );
      const m = await memory();
      console.log(
        `restart in sync (${done + 200 * sources} mirrors): ready in ${
          readyS.toFixed(1)
        } s; ${writes.length} writes to mirrors; in 15 s, ${text}; RSS ${MiB(m.rss)} MiB, heap ${
          MiB(m.heap)
        } MiB`,
      );
    }

    // kube-apiserver restarted with everything in sync: its new watch cache starts at etcd's current
    // revision, so the controller's watches resuming from older versions get 410 Gone and relist.
    {
      await sleep(5000);
      const lists = () => count('kubemirror_api_requests_total{verb="list",code="200"}');
      const restarts = async () => {
        const byReason: Record<string, number> = {};
        for (const reason of ["expired", "error", "closed", "failed"]) {
          for (const informer of ["sources", "mirrors"]) {
            byReason[reason] = (byReason[reason] ?? 0) +
              await count(
                `kubemirror_watch_restarts_total{resource="configmaps/${informer}",reason="${reason}"}`,
              );
          }
        }
        return byReason;
      };
      const lists0 = await lists();
      const restarts0 = await restarts();
      // Peak resident memory from here on (VmHWM), to see what a relist holds at once.
      await Deno.writeTextFile(`/proc/${pid()}/clear_refs`, "5");
      const cpu0 = await cpuSeconds(pid());
      const auditBefore = (await h.cluster.auditEvents()).length;
      const t0 = Date.now();
      await h.cluster.restartApiServer();
      const upS = (Date.now() - t0) / 1000;
      // Relisted once list pages have come and then stopped coming for 5 s (or nothing came in 60 s).
      let last = lists0;
      let still = 0;
      for (
        let waited = 0;
        waited < 60_000 && (last === lists0 || still < 5000);
        waited += 500, still += 500
      ) {
        await sleep(500);
        const now = await lists();
        if (now !== last) [last, still] = [now, 0];
      }
      const cpu = (await cpuSeconds(pid())) - cpu0;
      const { events, text } = await requestsSince(auditBefore);
      const pages = events.filter((e) => e.verb === "list" && e.objectRef?.resource === "configmaps");
      const lastPage = Math.max(...pages.map((e) => Date.parse(e.stageTimestamp ?? "")));
      const writes = events.filter((e) => ["create", "update", "patch", "delete"].includes(e.verb));
      const m = await memory();
      await sleep(30_000);
      const later = await memory();
      console.log(
        `kube-apiserver restarted (${done + 200 * sources} mirrors in sync): configmap watches restarted ${
          Object.entries(await restarts()).map(([reason, n]) => `${n - restarts0[reason]} ${reason}`).join(
            ", ",
          )
        }; relisted ${pages.length} pages of configmaps${
          pages.length
            ? `, the last ${
              ((lastPage - t0) / 1000).toFixed(1)
            } s after the restart began (the API server ready ${upS.toFixed(1)} s after it)`
            : "(none)"
        }; ${writes.length} writes; ${text}; ${cpu.toFixed(1)} CPU s; peak RSS ${
          MiB(m.peak)
        } MiB; after it RSS ${MiB(m.rss)} MiB (heap ${MiB(m.heap)}, anon ${MiB(m.anon)}, file ${
          MiB(m.file)
        }), 30 s later ${MiB(later.rss)} MiB (heap ${MiB(later.heap)}, anon ${MiB(later.anon)}, file ${
          MiB(later.file)
        })`,
      );
    }

    // Every source deleted: their mirrors go.
    {
      const deletes = () => count('kubemirror_api_requests_total{verb="delete",code="200"}');
      const want = done + 200 * sources;
      const before = await deletes();
      const cpu0 = await cpuSeconds(pid());
      const t0 = performance.now();
      for (let s = 0; s < sources; s++) await h.remove(CM("default", `s-${s}`));
      while ((await deletes()) - before < want) await sleep(POLL_MS);
      const s = (performance.now() - t0) / 1000;
      const cpu = (await cpuSeconds(pid())) - cpu0;
      console.log(
        `delete ${sources} sources → ${want} mirrors gone: ${s.toFixed(1)} s, ${
          (cpu * 1000 / want).toFixed(3)
        } ms CPU per mirror${floorText("delete")}`,
      );
    }
  }
  await ctl.stop();
} finally {
  await h.stop();
}

/**
 * A model-based property against the real API server: random sequences of what users and other writers
 * do (sources created, changed and deleted; namespaces created, opted out and deleted; mirrors edited and
 * deleted by hand; unowned objects in the way, some adopted; controller restarts). After each sequence
 * the cluster must hold exactly the mirrors a small independent model predicts, each with its source's
 * data, and every unowned object must be byte-identical to what its owner wrote.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import type { KubeObject } from "../core/types.ts";
import { CM, type ControllerProcess, eventually, Harness } from "./harness.ts";

const P = "kubemirror.raczylo.com/";
const NAMESPACES = ["ns-a", "ns-b", "ns-c", "ns-d"];
const TARGET_ITEMS = ["ns-a", "ns-b", "ns-c", "ns-d", "ns-*", "ns-?", "missing"];

type Command =
  | { op: "upsert"; source: number; items: string[]; v: number }
  | { op: "deleteSource"; source: number }
  | { op: "createNs" | "deleteNs"; ns: string }
  | { op: "optOut"; ns: string; out: boolean }
  | { op: "editMirror" | "deleteMirror" | "createUnowned" | "adopt"; ns: string; source: number }
  | { op: "restart" };

const ns = fc.constantFrom(...NAMESPACES);
const src = fc.constantFrom(0, 1);
const commandArb: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      op: fc.constant("upsert" as const),
      source: src,
      items: fc.subarray(TARGET_ITEMS, { minLength: 1, maxLength: 3 }),
      v: fc.nat(3),
    }),
  },
  fc.record({ op: fc.constant("deleteSource" as const), source: src }),
  fc.record({ op: fc.constantFrom("createNs" as const, "deleteNs" as const), ns: fc.constant("ns-d") }),
  fc.record({ op: fc.constant("optOut" as const), ns, out: fc.boolean() }),
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constantFrom(
        "editMirror" as const,
        "deleteMirror" as const,
        "createUnowned" as const,
        "adopt" as const,
      ),
      ns,
      source: src,
    }),
  },
  fc.constant({ op: "restart" as const }),
);

/** What the model knows. */
interface Model {
  sources: Map<string, { items: string[]; v: string }>;
  namespaces: Map<string, { optOut: boolean }>;
  /** Objects in the way, by `ns/name`, as their owner wrote them; `adopt` once consent was given. */
  unowned: Map<string, { body: string; adopt: boolean }>;
}

const globMatch = (pattern: string, name: string) =>
  new RegExp(`^${pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".")}$`)
    .test(name);

/** The mirrors the model expects: `ns/name` → data.v. */
function expected(m: Model): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, s] of m.sources) {
    for (const [ns, info] of m.namespaces) {
      if (info.optOut || !s.items.some((i) => i === ns || globMatch(i, ns))) continue;
      const u = m.unowned.get(`${ns}/${name}`);
      if (u && !u.adopt) continue; // a conflict: never written
      out.set(`${ns}/${name}`, s.v);
    }
  }
  return out;
}

const owned = (o: KubeObject) =>
  JSON.stringify({ d: o.data, l: o.metadata?.labels ?? {}, a: o.metadata?.annotations ?? {} });

Deno.test({
  name: "model: random user actions, then exactly the predicted mirrors and untouched unowned objects",
  ignore: Deno.env.get("KUBEMIRROR_TEST_KUBECONFIG") !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const h = await Harness.start();
    const args = ["--leader-elect=false", "--resync-period=3s"];
    let ctl: ControllerProcess = await h.startController(args);
    let run = 0;
    let commands = 0;
    const converge: number[] = [];
    try {
      await fc.assert(
        fc.asyncProperty(fc.array(commandArb, { minLength: 3, maxLength: 10 }), async (cmds) => {
          // Fresh names and namespaces per run: histories (fights, reports) never carry over.
          const r = run++;
          const nsName = (n: string) => `r${r}-${n}`;
          const name = (i: number) => `s${i}`;
          const model: Model = { sources: new Map(), namespaces: new Map(), unowned: new Map() };
          for (const n of NAMESPACES.slice(0, 3)) {
            await h.createNamespace(nsName(n));
            model.namespaces.set(n, { optOut: false });
          }
          const real = (n: string) => nsName(n);
          for (const c of cmds) {
            commands++;
            switch (c.op) {
              case "upsert": {
                const items = c.items.map((i) => (i === "missing" ? nsName("missing") : nsName(i)));
                model.sources.set(name(c.source), { items: c.items, v: String(c.v) });
                await h.apply(CM("default"), {
                  apiVersion: "v1",
                  kind: "ConfigMap",
                  metadata: {
                    name: `${nsName(name(c.source))}`,
                    namespace: "default",
                    labels: { [`${P}enabled`]: "true" },
                    annotations: { [`${P}sync`]: "true", [`${P}target-namespaces`]: items.join(",") },
                  },
                  data: { v: String(c.v) },
                });
                break;
              }
              case "deleteSource": {
                model.sources.delete(name(c.source));
                // As kubectl delete does: wait until the finalizer is released and the source is gone.
                const path = CM("default", nsName(name(c.source)));
                await h.remove(path);
                await eventually(async () => assert.equal(await h.find(path), undefined), 30_000, 100);
                break;
              }
              case "createNs":
                if (model.namespaces.has(c.ns)) break;
                await eventually(() => h.createNamespace(real(c.ns)), 60_000, 250);
                model.namespaces.set(c.ns, { optOut: false });
                break;
              case "deleteNs":
                if (!model.namespaces.has(c.ns)) break;
                model.namespaces.delete(c.ns);
                for (const k of [...model.unowned.keys()]) {
                  if (k.startsWith(`${c.ns}/`)) model.unowned.delete(k);
                }
                await h.remove(`/api/v1/namespaces/${real(c.ns)}`);
                await eventually(
                  async () => assert.equal(await h.find(`/api/v1/namespaces/${real(c.ns)}`), undefined),
                  60_000,
                  250,
                );
                break;
              case "optOut":
                if (!model.namespaces.has(c.ns)) break;
                model.namespaces.get(c.ns)!.optOut = c.out;
                await h.patch(`/api/v1/namespaces/${real(c.ns)}`, {
                  metadata: { labels: { [`${P}allow-mirrors`]: c.out ? "false" : null } },
                });
                break;
              case "editMirror":
              case "deleteMirror": {
                const path = CM(real(c.ns), nsName(name(c.source)));
                const m = await h.find(path);
                if (!m || m.metadata.labels?.[`${P}mirror`] !== "true") break;
                if (c.op === "editMirror") {
                  await h.patch(path, { data: { v: "edited by hand" } }).catch(() => {});
                } else await h.remove(path);
                break;
              }
              case "createUnowned": {
                if (!model.namespaces.has(c.ns) || model.unowned.has(`${c.ns}/${name(c.source)}`)) break;
                const body = {
                  apiVersion: "v1",
                  kind: "ConfigMap",
                  metadata: {
                    name: nsName(name(c.source)),
                    namespace: real(c.ns),
                    labels: { team: "theirs" },
                  },
                  data: { owner: "someone else" },
                };
                try {
                  const made = await h.api.request("POST", CM(real(c.ns)), { body });
                  model.unowned.set(`${c.ns}/${name(c.source)}`, { body: owned(made), adopt: false });
                } catch {
                  // a mirror is there already: nothing in the way
                }
                break;
              }
              case "adopt": {
                const u = model.unowned.get(`${c.ns}/${name(c.source)}`);
                if (!u || u.adopt) break;
                u.adopt = true;
                await h.patch(CM(real(c.ns), nsName(name(c.source))), {
                  metadata: { annotations: { [`${P}adopt`]: `default/${nsName(name(c.source))}` } },
                });
                break;
              }
              case "restart":
                await ctl.stop();
                ctl = await h.startController(args);
                break;
            }
          }
          const want = expected(model);
          const started = performance.now();
          await eventually(
            async () => {
              const mirrors =
                (await h.api.list("/api/v1/configmaps", { query: { labelSelector: `${P}mirror=true` } }))
                  .items
                  .filter((m) => m.metadata!.namespace!.startsWith(`r${r}-`));
              const got = new Map(mirrors.map((m) => [
                `${m.metadata!.namespace!.slice(`r${r}-`.length)}/${
                  m.metadata!.name!.slice(`r${r}-`.length)
                }`,
                (m.data as Record<string, string>).v,
              ]));
              assert.deepEqual(
                Object.fromEntries([...got].sort()),
                Object.fromEntries([...want].sort()),
                JSON.stringify(cmds),
              );
              for (const [key, u] of model.unowned) {
                if (u.adopt) continue;
                const [n, s] = key.split("/");
                const live = await h.find(CM(real(n), nsName(s)));
                assert.ok(live, `unowned ${key} is still there`);
                assert.equal(owned(live), u.body, `unowned ${key} is byte-identical`);
              }
            },
            90_000,
            300,
          );
          converge.push(performance.now() - started);
        }),
        { numRuns: 8, endOnFailure: true },
      );
      console.log(
        `  figures: ${run} random runs, ${commands} actions; converged after the last action in ${
          converge.map((ms) => (ms / 1000).toFixed(1)).join(", ")
        } s`,
      );
    } finally {
      await ctl.stop().catch(() => {});
      await h.stop();
    }
  },
});

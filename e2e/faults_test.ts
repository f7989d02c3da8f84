/**
 * Regressions found by a hostile user and a flaky cluster: a mirror deleted by hand always comes back
 * (also after a kube-apiserver restart mid fan-out), a writer fighting over a mirror is answered with
 * backoff and an Event naming it, and a huge max-targets means the global cap. Figures are printed so a
 * regression is visible in the test output.
 */
import assert from "node:assert/strict";
import { byController as ours, CM, eventually, Harness, metricValue, sleep, source } from "./harness.ts";
import { CHART_V8_FLAGS, hostileWorkload } from "./hostile_workload.ts";

const P = "kubemirror.raczylo.com/";

Deno.test({
  name: "faults: deleted mirrors come back, fights back off, max-targets past any cap",
  ignore: Deno.env.get("KUBEMIRROR_TEST_KUBECONFIG") !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const h = await Harness.start();
    try {
      for (const ns of ["app1", "app2"]) await h.createNamespace(ns);
      let ctl = await h.startController(["--leader-elect=false", "--max-targets=200"]);
      await eventually(async () => assert.ok(await ctl.ready()), 30_000);

      await t.step(
        "a mirror deleted by hand comes back every time, and no create meets its own mirror",
        async () => {
          await h.apply(
            CM("default"),
            source("ConfigMap", "default", "phoenix", { [`${P}target-namespaces`]: "app1,app2" }, {
              data: { v: "1" },
              immutable: true,
            }),
          );
          await eventually(async () => assert.ok(await h.find(CM("app1", "phoenix"))));
          const before = (await h.cluster.auditEvents()).length;
          const times: number[] = [];
          for (let i = 0; i < 8; i++) {
            const gone = (await h.get(CM("app1", "phoenix"))).metadata.uid;
            await h.remove(CM("app1", "phoenix"));
            const started = performance.now();
            await eventually(
              async () => {
                const back = await h.find(CM("app1", "phoenix"));
                assert.ok(back && back.metadata.uid !== gone, `deletion ${i + 1}: not back`);
              },
              10_000,
              20,
            );
            times.push(performance.now() - started);
            if (i === 3) {
              // A transform that changes an immutable mirror's data replaces it (delete + create): the path
              // that raced before.
              await h.patch(CM("default", "phoenix"), {
                metadata: {
                  annotations: { [`${P}transform`]: "rules:\n  - path: data.v\n    value: changed\n" },
                },
              });
              await sleep(300);
            }
          }
          const events = (await h.cluster.auditEvents()).slice(before).filter(ours).filter((e) =>
            e.verb === "create" && e.objectRef?.resource === "configmaps"
          );
          const conflicts = events.filter((e) => e.responseStatus?.code === 409);
          console.log(
            `  figures: mirror back after deletion in ${Math.round(Math.min(...times))}–${
              Math.round(Math.max(...times))
            } ms; ${events.length} creates, ${conflicts.length} met 409`,
          );
          assert.equal(conflicts.length, 0, "no create was sent for a mirror that already existed");
        },
      );

      await t.step(
        "kube-apiserver restarted mid fan-out: every mirror, deleted afterwards, comes back",
        async () => {
          const N = 150;
          await Promise.all(Array.from({ length: N }, (_, i) => h.createNamespace(`fan-${i}`)));
          const before = (await h.cluster.auditEvents()).length;
          const started = performance.now();
          await h.apply(
            CM("default"),
            source("ConfigMap", "default", "fan", {
              [`${P}target-namespaces`]: "fan-*",
              [`${P}max-targets`]: "200",
            }, {
              data: { v: "1" },
            }),
          );
          await sleep(150);
          await h.cluster.restartApiServer();
          await eventually(
            async () => {
              const list = await h.api.list("/api/v1/configmaps", {
                query: { labelSelector: `${P}mirror=true` },
              });
              assert.equal(list.items.filter((m) => m.metadata?.name === "fan").length, N);
            },
            60_000,
            250,
          );
          const converged = (performance.now() - started) / 1000;
          const creates = (await h.cluster.auditEvents()).slice(before).filter(ours).filter((e) =>
            e.verb === "create" && e.objectRef?.resource === "configmaps"
          );
          // Now delete every mirror by hand: each must come back.
          await Promise.all(Array.from({ length: N }, (_, i) => h.remove(CM(`fan-${i}`, "fan"))));
          await eventually(
            async () => {
              const list = await h.api.list("/api/v1/configmaps", {
                query: { labelSelector: `${P}mirror=true` },
              });
              assert.equal(list.items.filter((m) => m.metadata?.name === "fan").length, N);
            },
            30_000,
            250,
          );
          console.log(
            `  figures: ${N} mirrors through a kube-apiserver restart in ${converged.toFixed(1)} s, ` +
              `${creates.length} creates (${(creates.length / N).toFixed(2)} per mirror, ${
                creates.filter((e) => e.responseStatus?.code === 409).length
              } met 409); all ${N} back after deletion`,
          );
        },
      );

      await t.step(
        "a writer fighting over a mirror: reverted with backoff, named in an Event, counted",
        async () => {
          await h.apply(
            CM("default"),
            source("ConfigMap", "default", "contested", { [`${P}target-namespaces`]: "app2" }, {
              data: { v: "1" },
            }),
          );
          await eventually(async () => assert.ok(await h.find(CM("app2", "contested"))));
          const before = (await h.cluster.auditEvents()).length;
          // The other writer sets data.v back whenever it differs, for 20 s (the "e2e-test" field manager).
          const until = Date.now() + 20_000;
          let theirs = 0;
          while (Date.now() < until) {
            const m = await h.get(CM("app2", "contested"));
            if (m.data.v !== "theirs") {
              await h.patch(CM("app2", "contested"), { data: { v: "theirs" } }).catch(() => {});
              theirs++;
            }
            await sleep(25);
          }
          const updates = (await h.cluster.auditEvents()).slice(before).filter(ours).filter((e) =>
            ["update", "patch"].includes(e.verb) && e.objectRef?.name === "contested" &&
            e.objectRef?.namespace === "app2"
          );
          console.log(
            `  figures: in 20 s the other writer wrote ${theirs} times, the controller ${updates.length}`,
          );
          assert.ok(updates.length <= 10, `${updates.length} controller writes in 20 s`);
          assert.ok(updates.length >= 3, "edits are still reverted");
          const events = await h.events("default", "contested");
          const fight = events.find((e) => e.reason === "MirrorFight");
          assert.ok(fight, JSON.stringify(events.map((e) => e.reason)));
          assert.match(fight.message, /mirror app2\/contested keeps being changed \(data.v\) by "e2e-test"/);
          const metrics = await ctl.metrics();
          assert.match(metrics, /kubemirror_drift_backoffs_total\{controller="configmap"\} [1-9]/);
          assert.match(metrics, /kubemirror_drift_reverts_total\{controller="configmap"\} [1-9]/);
          // Once the other writer stops, the mirror is put right.
          await eventually(
            async () => assert.equal((await h.get(CM("app2", "contested"))).data.v, "1"),
            60_000,
            500,
          );
        },
      );

      await t.step(
        "a hostile author cannot push memory past the chart's limit, and others are still served",
        async () => {
          await ctl.stop();
          try {
            const f = await hostileWorkload(h, 30, { DENO_V8_FLAGS: CHART_V8_FLAGS }, async () => {
              // While the hostile sources churn, an ordinary source is still mirrored.
              await h.apply(
                CM("default"),
                source("ConfigMap", "default", "ordinary", { [`${P}target-namespaces`]: "app1" }, {
                  data: { v: "1" },
                }),
              );
              await eventually(async () => assert.ok(await h.find(CM("app1", "ordinary"))), 30_000);
            });
            console.log(
              `  figures: hostile author for 30 s with the chart's heap flags: RSS max ${f.rss.max} MiB (mean ${f.rss.mean}), ` +
                `heap max ${f.heap.max} MiB; idle ${f.idle.rss} MiB`,
            );
            // Past the chart's 512Mi limit the kubelet would OOM-kill the controller and stop mirroring for everyone.
            assert.ok(f.rss.max < 512, `RSS ${f.rss.max} MiB`);
          } finally {
            // The steps after this one need a controller, whatever happened here.
            ctl = await h.startController(["--leader-elect=false", "--max-targets=200"]);
          }
        },
      );

      await t.step("max-targets past any cap means the global cap", async () => {
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "huge-cap", {
            [`${P}target-namespaces`]: "app1,app2",
            [`${P}max-targets`]: "99999999999999999999999",
          }, { data: { v: "1" } }),
        );
        await eventually(async () => {
          assert.ok(await h.find(CM("app1", "huge-cap")));
          assert.ok(await h.find(CM("app2", "huge-cap")));
          const src = await h.get(CM("default", "huge-cap"));
          assert.equal(src.metadata.annotations[`${P}sync-status`], "reconciled:2,errors:0");
        });
      });
      await ctl.stop();

      await t.step(
        "etcd paused mid fan-out: the leader stops at the renew deadline and aborts its writes in flight",
        async () => {
          const leader = await h.startController(["--leader-elect=true", "--max-targets=200"], {
            POD_NAME: "frozen",
          });
          await eventually(async () => {
            const lease = await h.get(
              "/apis/coordination.k8s.io/v1/namespaces/default/leases/kubemirror-controller-leader",
            );
            assert.match(lease.spec.holderIdentity, /^frozen_/);
          });
          await h.apply(
            CM("default"),
            source("ConfigMap", "default", "frozen", { [`${P}target-namespaces`]: "fan-*" }, {
              data: { v: "1" },
            }),
          );
          await eventually(async () => assert.ok(await h.find(CM("fan-0", "frozen"))), 10_000, 10);
          h.cluster.pauseEtcd();
          let exited: number | undefined;
          try {
            const code = await leader.child.status;
            exited = Date.now();
            assert.equal(code.code, 1, "a leader that lost its Lease exits 1 and restarts clean");
          } finally {
            h.cluster.resumeEtcd();
          }
          const lines = (await leader.logs()).split("\n").filter((l) => l.startsWith("{")).map((l) =>
            JSON.parse(l)
          );
          const lost = lines.find((l) => /lost the lease/.test(l.msg));
          assert.ok(lost, "it says it lost the Lease");
          const afterLoss = exited! - Date.parse(lost.time);
          console.log(`  figures: lease lost → process exited in ${afterLoss} ms, with etcd still paused`);
          // Writes hanging on a paused etcd would otherwise hold the process for the API server's 60 s timeout.
          assert.ok(afterLoss < 5_000, `${afterLoss} ms`);
          assert.ok(
            !lines.some((l) =>
              Date.parse(l.time) > Date.parse(lost.time) && /^mirror (created|updated)/.test(l.msg)
            ),
          );
          await eventually(async () => assert.ok(await h.find(CM("default", "frozen"))), 30_000, 500);
        },
      );

      /** The mirrors of `name` now, by namespace (each must be there exactly once). */
      const mirrorsOf = async (name: string) => {
        const list = await h.api.list("/api/v1/configmaps", { query: { labelSelector: `${P}mirror=true` } });
        return list.items.filter((m) => m.metadata?.name === name).map((m) => m.metadata!.namespace!).sort();
      };
      const FAN = Array.from({ length: 150 }, (_, i) => `fan-${i}`).sort();
      const rss = async (c: { metrics(): Promise<string> }) =>
        Math.round(
          (metricValue(await c.metrics(), "kubemirror_process_resident_memory_bytes") ?? 0) / 2 ** 20,
        );
      /** Starts a fan-out of `name`, lets `hit` strike when `at` mirrors exist, then waits for exactly FAN. */
      const fanOutThrough = async (
        name: string,
        start: () => Promise<{ metrics(): Promise<string> }>,
        hit: () => Promise<{ metrics(): Promise<string> } | void>,
      ) => {
        let ctl = await start();
        const before = (await h.cluster.auditEvents()).length;
        const started = performance.now();
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", name, { [`${P}target-namespaces`]: "fan-*" }, { data: { v: "1" } }),
        );
        await eventually(async () => assert.ok((await mirrorsOf(name)).length >= 20), 20_000, 10);
        ctl = (await hit()) ?? ctl;
        await eventually(async () => assert.deepEqual(await mirrorsOf(name), FAN), 90_000, 250);
        const seconds = ((performance.now() - started) / 1000).toFixed(1);
        const creates = (await h.cluster.auditEvents()).slice(before).filter(ours).filter((e) =>
          e.verb === "create" && e.objectRef?.resource === "configmaps" && e.objectRef?.name === name
        ).length;
        return { seconds, creates, rss: await rss(ctl), ctl };
      };

      await t.step(
        "kill -9 mid fan-out: a new process converges to exactly the expected mirrors",
        async () => {
          let first: Awaited<ReturnType<typeof h.startController>>;
          const r = await fanOutThrough(
            "killed",
            async () => (first = await h.startController(["--leader-elect=false", "--max-targets=200"])),
            async () => {
              await first.stop("SIGKILL");
              return await h.startController(["--leader-elect=false", "--max-targets=200"]);
            },
          );
          console.log(
            `  figures: kill -9 mid fan-out → 150 mirrors in ${r.seconds} s, ${r.creates} creates, RSS ${r.rss} MiB`,
          );
          await (r.ctl as Awaited<ReturnType<typeof h.startController>>).stop();
        },
      );

      await t.step("etcd restarted mid fan-out: converges to exactly the expected mirrors", async () => {
        let c: Awaited<ReturnType<typeof h.startController>>;
        const r = await fanOutThrough(
          "etcd-restart",
          async () => (c = await h.startController(["--leader-elect=false", "--max-targets=200"])),
          async () =>
            await h.cluster.restartEtcd(),
        );
        console.log(
          `  figures: etcd restart mid fan-out → 150 mirrors in ${r.seconds} s, ${r.creates} creates, RSS ${r.rss} MiB`,
        );
        await c!.stop();
      });

      await t.step(
        "leader killed mid fan-out (two replicas): the standby takes over and converges",
        async () => {
          const args = ["--leader-elect=true", "--max-targets=200"];
          const a = await h.startController(args, { POD_NAME: "replica-a" });
          const b = await h.startController(args, { POD_NAME: "replica-b" });
          const holder = async () =>
            String(
              (await h.get(
                "/apis/coordination.k8s.io/v1/namespaces/default/leases/kubemirror-controller-leader",
              ))
                .spec.holderIdentity ?? "",
            );
          await eventually(async () => assert.match(await holder(), /^replica-[ab]_/), 40_000);
          const leaderIsA = (await holder()).startsWith("replica-a");
          const [leader, standby] = leaderIsA ? [a, b] : [b, a];
          const r = await fanOutThrough("leader-kill", () => Promise.resolve(leader), async () => {
            await leader.stop("SIGKILL");
            return standby;
          });
          assert.match(await holder(), leaderIsA ? /^replica-b_/ : /^replica-a_/);
          console.log(
            `  figures: leader kill -9 mid fan-out → 150 mirrors in ${r.seconds} s (a 15 s lease to expire), ` +
              `${r.creates} creates, standby RSS ${r.rss} MiB`,
          );
          // No leftovers: the sources gone, every one of their mirrors goes.
          for (const name of ["killed", "etcd-restart", "leader-kill", "frozen", "fan"]) {
            await h.remove(CM("default", name));
          }
          await eventually(
            async () => {
              for (const name of ["killed", "etcd-restart", "leader-kill"]) {
                assert.deepEqual(await mirrorsOf(name), []);
              }
            },
            60_000,
            500,
          );
          await standby.stop();
        },
      );
    } finally {
      await h.stop();
    }
  },
});

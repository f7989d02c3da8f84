/**
 * Regressions found by a hostile user and a flaky cluster: a mirror deleted by hand always comes back
 * (also after a kube-apiserver restart mid fan-out), a writer fighting over a mirror is answered with
 * backoff and an Event naming it, and a huge max-targets means the global cap. Figures are printed so a
 * regression is visible in the test output.
 */
import assert from "node:assert/strict";
import { CM, eventually, Harness, sleep, source } from "./harness.ts";

const P = "kubemirror.raczylo.com/";
const ours = (e: { userAgent?: string }) => e.userAgent?.startsWith("kubemirror/") ?? false;

Deno.test({
  name: "faults: deleted mirrors come back, fights back off, max-targets past any cap",
  ignore: Deno.env.get("KUBEMIRROR_TEST_KUBECONFIG") !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const h = await Harness.start();
    try {
      for (const ns of ["app1", "app2"]) await h.createNamespace(ns);
      const ctl = await h.startController(["--leader-elect=false", "--max-targets=200"]);
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
              const list = await h.api.list("/api/v1/configmaps", { labelSelector: `${P}mirror=true` });
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
              const list = await h.api.list("/api/v1/configmaps", { labelSelector: `${P}mirror=true` });
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
    } finally {
      await h.stop();
    }
  },
});

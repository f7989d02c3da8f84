/**
 * High availability and recovery: two replicas with leader election (only the leader writes; kill -9 of
 * the leader hands over), SIGTERM releases the Lease at once, and a kube-apiserver restart mid-run.
 */
import assert from "node:assert/strict";
import { byController as ours, CM, eventually, Harness, sleep, source } from "./harness.ts";

const P = "kubemirror.raczylo.com/";

Deno.test({
  name: "leader election and recovery, end to end",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const h = await Harness.start();
    try {
      for (const ns of ["app1", "app2"]) await h.createNamespace(ns);
      const a = await h.startController(["--leader-elect=true", "--resync-period=5s"], {
        POD_NAME: "replica-a",
      });
      const b = await h.startController(["--leader-elect=true", "--resync-period=5s"], {
        POD_NAME: "replica-b",
      });
      const lease = () =>
        h.get("/apis/coordination.k8s.io/v1/namespaces/default/leases/kubemirror-controller-leader");
      const holder = async () => String((await lease()).spec.holderIdentity ?? "");
      const leaderGauge = async (c: typeof a) =>
        Number(/^kubemirror_leader (\d)/m.exec(await c.metrics())?.[1]);

      await t.step("one replica leads; only the leader writes", async () => {
        const first = await eventually(async () => {
          const id = await holder();
          assert.match(id, /^replica-[ab]_/);
          return id;
        });
        const [leader, standby] = first.startsWith("replica-a") ? [a, b] : [b, a];
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "ha", { [`${P}target-namespaces`]: "app1,app2" }, {
            data: { v: "1" },
          }),
        );
        await eventually(async () => assert.equal((await h.get(CM("app2", "ha"))).data.v, "1"));
        assert.equal(await leaderGauge(leader), 1);
        assert.equal(await leaderGauge(standby), 0);
        assert.ok(await standby.ready(), "the standby keeps warm caches");
        const events = await h.cluster.auditEvents();
        const writers = new Set(
          events.filter((e) =>
            ours(e) && ["create", "update", "patch"].includes(e.verb) &&
            e.objectRef?.resource === "configmaps"
          ).map((e) => e.userAgent),
        );
        assert.equal(writers.size, 1, "ConfigMap writes come from one process only");
      });

      await t.step("kill -9 of the leader: the other takes over and converges", async () => {
        const id = await holder();
        const [leader, standby] = id.startsWith("replica-a") ? [a, b] : [b, a];
        await leader.stop("SIGKILL");
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "ha", { [`${P}target-namespaces`]: "app1,app2" }, {
            data: { v: "2" },
          }),
        );
        await eventually(async () => {
          assert.notEqual(await holder(), id);
          assert.equal((await h.get(CM("app1", "ha"))).data.v, "2");
          assert.equal((await h.get(CM("app2", "ha"))).data.v, "2");
        }, 40_000);
        assert.equal(await leaderGauge(standby), 1);
      });

      await t.step("SIGTERM of the leader releases the Lease and exits 0", async () => {
        const id = await holder();
        const leader = id.startsWith("replica-a") ? a : b;
        assert.equal(await leader.stop("SIGTERM"), 0);
        const released = await lease();
        assert.equal(released.spec.holderIdentity ?? "", "", "released for an instant hand-over");
      });

      await t.step({
        name: "kube-apiserver restarted mid-run: the controller recovers and converges",
        // Only the local plane can restart its API server.
        ignore: !h.cluster.local,
        fn: async () => {
          const c = await h.startController(["--leader-elect=false", "--resync-period=5s"]);
          await h.apply(
            CM("default"),
            source("ConfigMap", "default", "survivor", { [`${P}target-namespaces`]: "app1" }, {
              data: { v: "1" },
            }),
          );
          await eventually(async () => assert.ok(await h.find(CM("app1", "survivor"))));
          await sleep(1000);
          const before = (await h.cluster.auditEvents()).length;
          await h.cluster.restartApiServer();
          // Its watches resume from versions older than the new API server's watch cache (410 Gone), or
          // fail three times while it is down: either way the controller lists again. Everything is in
          // sync, so the relist writes nothing.
          const since = async () => (await h.cluster.auditEvents()).slice(before).filter(ours);
          await eventually(async () => {
            const listed = (await since()).filter((e) =>
              e.verb === "list" && e.objectRef?.resource === "configmaps"
            );
            assert.ok(listed.length >= 2, "sources and mirrors listed again");
          }, 60_000);
          await sleep(2000);
          const writes = (await since()).filter((e) => !["get", "list", "watch"].includes(e.verb))
            .map((e) => `${e.verb} ${e.objectRef?.resource} ${e.objectRef?.namespace}/${e.objectRef?.name}`);
          // Leases: the other replica of the steps above, still leading (its heartbeat is no mirror's write).
          const mirrorWrites = writes.filter((w) => !/ (selfsubjectaccessreviews|leases) /.test(w));
          assert.deepEqual(mirrorWrites, [], "no write");
          await h.apply(
            CM("default"),
            source("ConfigMap", "default", "survivor", { [`${P}target-namespaces`]: "app1,app2" }, {
              data: { v: "2" },
            }),
          );
          await eventually(async () => {
            assert.equal((await h.get(CM("app1", "survivor"))).data.v, "2");
            assert.equal((await h.get(CM("app2", "survivor"))).data.v, "2");
          }, 60_000);
          assert.match(
            await c.metrics(),
            /kubemirror_watch_restarts_total\{resource="[^"]+",reason="(error|closed|expired)"\} [1-9]/,
          );
          await sleep(100);
        },
      });

      await t.step("a silent watch is restarted, counted, and mirroring goes on", async () => {
        for (const c of h.controllers) await c.stop();
        const c = await h.startController([
          "--leader-elect=false",
          "--watch-idle-timeout=1s",
          "--resource-types=ConfigMap.v1",
        ]);
        await eventually(
          async () => {
            assert.match(
              await c.metrics(),
              /kubemirror_watch_restarts_total\{resource="namespaces",reason="idle"\} [1-9]/,
            );
          },
          20_000,
          500,
        );
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "after-idle", { [`${P}target-namespaces`]: "app1" }, { data: {} }),
        );
        await eventually(async () => assert.ok(await h.find(CM("app1", "after-idle"))));
        assert.equal(await c.stop(), 0);
      });
    } finally {
      await h.stop();
    }
  },
});

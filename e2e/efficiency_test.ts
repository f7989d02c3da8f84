/**
 * The API server's view of the controller, from its audit log: converging N mirrors costs N creates plus
 * a constant; a resync with nothing changed makes no request at all; unlabelled objects cause no reconcile.
 */
import assert from "node:assert/strict";
import {
  byController as ours,
  CM,
  eventually,
  Harness,
  metricValue,
  ROOT,
  SECRET,
  sleep,
  source,
} from "./harness.ts";

const P = "kubemirror.raczylo.com/";

function heapReleases(metrics: string): number {
  return metricValue(metrics, "kubemirror_heap_releases_total") ?? NaN;
}

function reconciles(metrics: string): number {
  let total = 0;
  for (const m of metrics.matchAll(/^kubemirror_reconcile_total\{[^}]*\} (\d+)/gm)) total += Number(m[1]);
  return total;
}

Deno.test({
  name: "efficiency against the audit log",
  ignore: Deno.env.get("KUBEMIRROR_TEST_KUBECONFIG") !== undefined, // needs the local plane's audit log
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const h = await Harness.start();
    try {
      const N = 30;
      const namespaces = Array.from({ length: N }, (_, i) => `team-${String(i).padStart(2, "0")}`);
      for (const ns of namespaces) await h.createNamespace(ns);
      const ctl = await h.startController([
        "--leader-elect=false",
        "--resync-period=2s",
        "--resource-types=ConfigMap.v1,Secret.v1",
      ]);
      await sleep(1000);

      await t.step(
        "once synced and idle, the start-up garbage is collected once, and not again",
        async () => {
          // Sampled every 5 s: the first sample after the caches sync collects.
          await eventually(async () => assert.equal(heapReleases(await ctl.metrics()), 1), 12_000);
          await sleep(6000);
          assert.equal(heapReleases(await ctl.metrics()), 1, "an idle controller does not collect again");
        },
      );

      await t.step(`converging ${N} mirrors costs ${N} creates plus a constant`, async () => {
        const before = (await h.cluster.auditEvents()).length;
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "wide", { [`${P}target-namespaces`]: "team-*" }, {
            data: { a: "1" },
          }),
        );
        await eventually(async () => {
          for (const ns of namespaces) assert.ok(await h.find(CM(ns, "wide")), ns);
        });
        await sleep(2500);
        const events = (await h.cluster.auditEvents()).slice(before).filter(ours);
        const byVerb = (v: string) => events.filter((e) => e.verb === v);
        const creates = byVerb("create").filter((e) => e.objectRef?.resource === "configmaps");
        assert.equal(creates.length, N, "one create per mirror");
        const others = events.filter((e) => e.verb !== "watch" && !creates.includes(e));
        console.log(
          `converging ${N} mirrors: ${creates.length} creates + ${others.length} other requests (${
            others.map((e) => `${e.verb} ${e.objectRef?.resource}`).join(", ")
          })`,
        );
        assert.ok(others.length <= 3, `a constant number of other requests, got ${others.length}`);
        assert.equal(byVerb("list").length, 0, "no LIST: reads come from the caches");
      });

      await t.step("a resync with nothing changed makes no request: no write, no GET, no LIST", async () => {
        // Pulled copies too (§9): five namespaces pull a source; once filled, they cost nothing either.
        await h.apply(CM("default"), {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: {
            name: "pulled",
            namespace: "default",
            labels: { [`${P}enabled`]: "true" },
            annotations: { [`${P}pull-allowed-namespaces`]: "team-*" },
          },
          data: { a: "1" },
        });
        for (const ns of namespaces.slice(0, 5)) {
          await h.apply(CM(ns), {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: {
              name: "my-copy",
              namespace: ns,
              labels: { [`${P}enabled`]: "true" },
              annotations: { [`${P}pull-from`]: "default/pulled" },
            },
          });
        }
        await eventually(async () => {
          for (const ns of namespaces.slice(0, 5)) {
            assert.equal((await h.get(CM(ns, "my-copy"))).data?.a, "1", ns);
          }
        });
        await sleep(2500);
        const before = (await h.cluster.auditEvents()).length;
        const reconcilesBefore = reconciles(await ctl.metrics());
        await sleep(7000); // three resyncs at --resync-period=2s
        const after = reconciles(await ctl.metrics());
        assert.ok(after > reconcilesBefore, "resyncs did run");
        const events = (await h.cluster.auditEvents()).slice(before).filter(ours).filter((e) =>
          e.verb !== "watch"
        );
        assert.deepEqual(events.map((e) => `${e.verb} ${e.requestURI}`), []);
      });

      await t.step(
        "1,000 unlabelled Secrets created and updated cause no reconcile and no request",
        async () => {
          await h.createNamespace("noise");
          const before = (await h.cluster.auditEvents()).length;
          const reconcilesBefore = reconciles(await ctl.metrics());
          const batch = async (fn: (i: number) => Promise<unknown>) => {
            for (let i = 0; i < 1000; i += 50) {
              await Promise.all(Array.from({ length: 50 }, (_, j) => fn(i + j)));
            }
          };
          await batch((i) =>
            h.apply(SECRET("noise"), {
              apiVersion: "v1",
              kind: "Secret",
              metadata: { name: `s-${i}` },
              data: { v: btoa("1") },
            })
          );
          await batch((i) => h.patch(SECRET("noise", `s-${i}`), { data: { v: btoa("2") } }));
          // Only ConfigMap sources exist, so every reconcile is a ConfigMap's; a Secret event reaching the
          // queue would show as a Secret reconcile.
          const secretReconciles = /kubemirror_reconcile_total\{controller="secret",[^}]*\} (\d+)/.exec(
            await ctl.metrics(),
          );
          assert.equal(secretReconciles, null, "no Secret was ever reconciled");
          assert.ok(reconciles(await ctl.metrics()) >= reconcilesBefore);
          const events = (await h.cluster.auditEvents()).slice(before).filter(ours).filter((e) =>
            e.verb !== "watch"
          );
          assert.deepEqual(events.map((e) => `${e.verb} ${e.requestURI}`), [], "no request about the noise");
          const text = await ctl.metrics();
          assert.doesNotMatch(
            text,
            /kubemirror_mirror_resources_total\{kind="Secret"\} [1-9]/,
            "no Secret is taken for a mirror",
          );
        },
      );

      await t.step(
        "a transformed source: a new namespace costs one create; no other mirror is written again",
        async () => {
          // The template renders every annotation the source has: its own change of sync-status must not
          // count as one (it would render, and write, every mirror again).
          for (const ns of ["shape-1", "shape-2", "shape-3"]) await h.createNamespace(ns);
          const before = (await h.cluster.auditEvents()).length;
          await h.apply(
            CM("default"),
            source("ConfigMap", "default", "shaped", {
              [`${P}target-namespaces`]: "shape-*",
              [`${P}transform`]: "rules:\n  - path: data.notes\n" +
                "    template: '{{ range $k, $v := .Annotations }}{{ $k }}={{ $v }};{{ end }}'\n",
              "team.example.com/owner": "a",
            }, { data: { a: "1" } }),
          );
          const status = async () =>
            (await h.get(CM("default", "shaped"))).metadata.annotations?.[`${P}sync-status`];
          await eventually(async () => assert.equal(await status(), "reconciled:3,errors:0"));
          const mirror = await h.get(CM("shape-1", "shaped"));
          assert.match(mirror.data.notes, /team\.example\.com\/owner=a;/);
          assert.doesNotMatch(mirror.data.notes, /sync-status/);
          await h.createNamespace("shape-4");
          await eventually(async () => assert.equal(await status(), "reconciled:4,errors:0"));
          await sleep(3000); // a resync (2 s) too
          const writes = (await h.cluster.auditEvents()).slice(before).filter(ours)
            .filter((e) => ["create", "update", "patch", "delete"].includes(e.verb))
            .filter((e) => e.objectRef?.resource === "configmaps" && e.objectRef?.name === "shaped")
            .map((e) => `${e.verb} ${e.objectRef?.namespace}`);
          assert.deepEqual(writes.filter((w) => !w.endsWith(" default")).sort(), [
            "create shape-1",
            "create shape-2",
            "create shape-3",
            "create shape-4",
          ]);
        },
      );

      await t.step(
        "kubemirror plan against the live cluster prints the same plan and writes nothing",
        async () => {
          await h.apply(
            CM("default"),
            source("ConfigMap", "default", "pending-edit", { [`${P}target-namespaces`]: "team-00" }, {
              data: {},
            }),
          );
          // A long value (a certificate's size): the plan compares it by its digest, as the controller does.
          await h.apply(
            CM("default"),
            source("ConfigMap", "default", "long", { [`${P}target-namespaces`]: "team-00,team-01" }, {
              data: { cert: "c".repeat(3000) },
            }),
          );
          await eventually(async () => {
            assert.ok(await h.find(CM("team-00", "pending-edit")));
            for (const ns of ["team-00", "team-01"]) assert.ok(await h.find(CM(ns, "long")), ns);
          });
          assert.equal(await ctl.stop(), 0);
          await h.patch(CM("team-01", "wide"), { data: { a: "hand edit" } });
          await h.patch(CM("team-00", "long"), { data: { cert: "d".repeat(3000) } });
          const before = (await h.cluster.auditEvents()).length;
          const out = await new Deno.Command("sh", {
            args: [
              `${ROOT}/tools/run.sh`,
              "plan",
              `--kubeconfig=${h.cluster.kubeconfigPath("admin")}`,
              "-o",
              "json",
            ],
            env: { DENO: Deno.execPath() },
            stdout: "piped",
            stderr: "piped",
          }).output();
          assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
          const doc = JSON.parse(new TextDecoder().decode(out.stdout));
          const wide = doc.actions.filter((a: any) => a.source.name === "wide");
          assert.equal(wide.length, N);
          assert.deepEqual(
            wide.filter((a: any) => a.action !== "unchanged").map((a: any) =>
              `${a.action} ${a.target.namespace}`
            ),
            [
              "update team-01",
            ],
          );
          assert.deepEqual(
            doc.actions.filter((a: any) => a.source.name === "long").map((a: any) =>
              `${a.action} ${a.target.namespace}`
            ).sort(),
            ["unchanged team-01", "update team-00"],
          );
          // The pulled copies of the resync step are there too, in sync.
          const pulls = doc.actions.filter((a: any) => a.direction === "pull");
          assert.deepEqual(
            pulls.map((a: any) => `${a.action} ${a.target.namespace}/${a.target.name} ← ${a.source.name}`)
              .sort(),
            namespaces.slice(0, 5).map((ns) => `unchanged ${ns}/my-copy ← pulled`),
          );
          const writes = (await h.cluster.auditEvents()).slice(before).filter((e) =>
            ["create", "update", "patch", "delete"].includes(e.verb)
          );
          assert.deepEqual(writes.filter(ours).map((e) => e.requestURI), [], "plan writes nothing");
        },
      );

      await t.step(
        "flags take effect: included namespaces, opt-in, stripped prefixes, source freshness",
        async () => {
          await h.createNamespace("in-opted", { [`${P}allow-mirrors`]: "true" });
          await h.createNamespace("in-plain");
          await h.createNamespace("out-opted", { [`${P}allow-mirrors`]: "true" });
          const before = (await h.cluster.auditEvents()).length;
          const c = await h.startController([
            "--leader-elect=false",
            "--resource-types=ConfigMap.v1",
            "--included-namespaces=in-*",
            "--require-namespace-opt-in",
            "--strip-label-prefixes=team.example.com/",
            "--strip-annotation-prefixes=notes.example.com/",
            "--verify-source-freshness",
          ]);
          await h.apply(
            CM("default"),
            source(
              "ConfigMap",
              "default",
              "flagged",
              {
                [`${P}target-namespaces`]: "all",
                "notes.example.com/ticket": "123",
                "kept.example.com/x": "y",
              },
              { data: { a: "1" } },
              { "team.example.com/owner": "a", app: "web" },
            ),
          );
          const m = await eventually(async () => await h.get(CM("in-opted", "flagged")));
          assert.equal(await h.find(CM("in-plain", "flagged")), undefined, "--require-namespace-opt-in");
          assert.equal(await h.find(CM("out-opted", "flagged")), undefined, "--included-namespaces");
          assert.equal(m.metadata.labels["team.example.com/owner"], undefined);
          assert.equal(m.metadata.labels.app, "web");
          assert.equal(m.metadata.annotations["notes.example.com/ticket"], undefined);
          assert.equal(m.metadata.annotations["kept.example.com/x"], "y");
          const reads = (await h.cluster.auditEvents()).slice(before).filter(ours).filter((e) =>
            e.verb === "get" && e.objectRef?.resource === "configmaps" && e.objectRef?.name === "flagged" &&
            e.objectRef?.namespace === "default"
          );
          assert.ok(reads.length > 0, "--verify-source-freshness reads the source from the API server");
          assert.equal(await c.stop(), 0);
        },
      );
    } finally {
      await h.stop();
    }
  },
});

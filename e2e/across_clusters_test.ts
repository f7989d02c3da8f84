/**
 * Across clusters (docs/CONTRACT.md §10) end to end, on two real planes at once: an upstream ("hub")
 * with its own controller and the chart's read-only upstream reader, a downstream ("edge") whose
 * controller links the hub with that reader's token. What lands where, ownership, drift, conflicts, the
 * upstream going away for 30 s, the link revoked, what it costs the upstream (its audit log), and the lag.
 */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "../core/types.ts";
import type { AuditEvent } from "../tools/testcluster/cluster.ts";
import { ESCALATIONS } from "./escalations.ts";
import { CM, eventually, Harness, metricValue, ROOT, run, SECRET, sleep, source } from "./harness.ts";

const P = "kubemirror.raczylo.com/";
const READER_NS = "kubemirror";
const READER = "kubemirror-upstream-reader";
const READER_USER = `system:serviceaccount:${READER_NS}:${READER}`;

/**
 * Asserts that the link asked nothing of the upstream in `events` (a window while it was idle) but its open
 * watches and the re-checks of the kinds its identity may not list upstream (§10: one refused list per kind
 * and replica, 30 s apart at least, doubling up to 5 minutes), which an idle window may happen to meet.
 * Returns how many re-checks it met.
 */
function assertIdle(events: AuditEvent[], message: string): number {
  const mine = events.filter((e) => e.user?.username === READER_USER && e.verb !== "watch");
  const recheck = (e: AuditEvent) =>
    e.verb === "list" && e.responseStatus?.code === 403 &&
    !["configmaps", "secrets"].includes(e.objectRef?.resource ?? "");
  assert.deepEqual(mine.filter((e) => !recheck(e)).map((e) => `${e.verb} ${e.requestURI}`), [], message);
  const perKind = new Map<string, number>();
  for (const e of mine.filter(recheck)) {
    perKind.set(e.objectRef?.resource ?? "", (perKind.get(e.objectRef?.resource ?? "") ?? 0) + 1);
  }
  for (const [kind, n] of perKind) {
    assert.ok(n <= 2, `${kind} re-checked ${n} times in one idle window (two replicas, 30 s apart at least)`);
  }
  return mine.length;
}

Deno.test({
  name: "across clusters: a downstream cluster pulls its mirrors from an upstream one, read-only",
  ignore: Deno.env.get("KUBEMIRROR_TEST_KUBECONFIG") !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const [up, down] = await Promise.all([Harness.start(), Harness.start()]);
    try {
      // Upstream: the chart's upstream reader, rendered and applied as a platform team would.
      const rendered = await run(up.cluster.binaries!.helm, [
        "template",
        "kubemirror",
        `${ROOT}/charts/kubemirror`,
        "-n",
        READER_NS,
        "--kube-version",
        "1.36.3",
        "--set",
        "clusterLinks.upstreamReader.enabled=true",
        "--show-only",
        "templates/upstream-reader.yaml",
      ]);
      assert.equal(rendered.code, 0, rendered.err);
      await up.createNamespace(READER_NS);
      for (const doc of parseAllDocuments(rendered.out)) {
        const o = doc.toJS() as KubeObject | null;
        if (o) await up.apply(await up.pathFor(o), o);
      }
      for (const ns of ["platform", "app-1"]) await up.createNamespace(ns);
      const optIn = { [`${P}allow-mirrors`]: "true" };
      await down.createNamespace("app-1", optIn);
      await down.createNamespace("app-2"); // no opt-in
      await down.createNamespace("app-3", optIn);
      await down.createNamespace("app-4", optIn); // outside the link's allowed namespaces
      await down.createNamespace("local-src");

      const upCtl = await up.startController([
        "--leader-elect=false",
        "--cluster-name=hub",
        "--resync-period=5s",
      ]);
      // Two replicas downstream, as the chart runs them: the leader writes, the standby keeps warm caches.
      // Discovery, as the chart runs it: kinds the upstream reader may not list are left out of the link.
      const downFlags = ["--leader-elect=true", "--cluster-name=edge", "--resync-period=5s"];
      let downCtl = await down.startController(downFlags);
      await eventually(
        async () => assert.equal(metricValue(await downCtl.metrics(), "kubemirror_leader"), 1),
        30_000,
      );
      // The standby under its own identity, so that the audit log tells its requests apart.
      await down.serviceAccountWithRole("default", "standby", { clusterRole: "cluster-admin" });
      const standbyKubeconfig = await down.serviceAccountKubeconfig("default", "standby");
      const standby = await down.startController([...downFlags, `--kubeconfig=${standbyKubeconfig}`]);
      const kubeconfig = await Deno.readTextFile(await up.serviceAccountKubeconfig(READER_NS, READER));
      const linkSecret = (allowed = "app-1,app-3,local-*") => ({
        apiVersion: "v1",
        kind: "Secret",
        metadata: {
          name: "link-hub",
          namespace: "default",
          labels: { [`${P}cluster-link`]: "true" },
          annotations: { [`${P}cluster-name`]: "hub", [`${P}allowed-namespaces`]: allowed },
        },
        data: { kubeconfig: btoa(kubeconfig) },
      });
      const auditStart = (await up.cluster.auditEvents()).length;
      const started = performance.now();
      await down.apply(SECRET("default"), linkSecret());

      const registry = source("Secret", "platform", "registry", {
        [`${P}target-namespaces`]: "all",
        [`${P}target-clusters`]: "edge",
      }, { type: "Opaque", data: { token: btoa("s3cr3t") } });
      const common = source("ConfigMap", "platform", "common", {
        [`${P}target-namespaces`]: "app-*",
        [`${P}target-clusters`]: "e*, prod-*",
      }, { data: { level: "info" } });
      const elsewhere = source("ConfigMap", "platform", "elsewhere", {
        [`${P}target-namespaces`]: "all",
        [`${P}target-clusters`]: "edge-*, prod-*",
      }, { data: { x: "1" } });
      for (const s of [registry, common, elsewhere]) {
        await up.apply(s.kind === "Secret" ? SECRET("platform") : CM("platform"), s);
      }

      await t.step(
        "a Secret and a ConfigMap reach opted-in namespaces inside the link only, marked with their cluster",
        async () => {
          await eventually(async () => {
            for (const ns of ["app-1", "app-3"]) {
              const s = await down.get(`${SECRET(ns)}/registry`);
              assert.equal(atob(s.data.token), "s3cr3t");
              assert.equal(s.metadata.annotations[`${P}source-cluster`], "hub");
              assert.equal(s.metadata.annotations[`${P}source-namespace`], "platform");
              assert.equal(s.metadata.labels[`${P}mirror`], "true");
              const c = await down.get(`${CM(ns)}/common`);
              assert.equal(c.data.level, "info");
            }
          }, 30_000);
          console.log(`  converge through the link: ${((performance.now() - started) / 1000).toFixed(2)} s`);
          for (const ns of ["app-2", "app-4", "local-src", "default"]) {
            assert.equal(await down.find(`${SECRET(ns)}/registry`), undefined, `nothing in ${ns}`);
          }
        },
      );

      await t.step(
        "target-clusters: a cluster the source does not name gets nothing; the upstream keeps its own",
        async () => {
          await sleep(2000);
          for (const ns of ["app-1", "app-3"]) {
            assert.equal(await down.find(`${CM(ns)}/elsewhere`), undefined);
          }
          // Upstream, these sources name other clusters only: nothing is mirrored there, and sync-status
          // counts local mirrors only.
          assert.equal(await up.find(`${SECRET("app-1")}/registry`), undefined);
          const s = await up.get(`${SECRET("platform")}/registry`);
          assert.equal(s.metadata.annotations[`${P}sync-status`], "reconciled:0,errors:0");
        },
      );

      await t.step("the link's status and metric say what it carries", async () => {
        await eventually(async () => {
          const l = await down.get(`${SECRET("default")}/link-hub`);
          assert.equal(l.metadata.annotations[`${P}link-status`], "sources:2,mirrors:4,errors:0");
          assert.equal(metricValue(await downCtl.metrics(), 'kubemirror_cluster_link_up{cluster="hub"}'), 1);
        }, 20_000);
      });

      await t.step("a source change upstream reaches downstream", async () => {
        const before = performance.now();
        await up.patch(`${CM("platform")}/common`, { data: { level: "debug" } });
        await eventually(
          async () => {
            for (const ns of ["app-1", "app-3"]) {
              assert.equal((await down.get(`${CM(ns)}/common`)).data.level, "debug");
            }
          },
          20_000,
          20,
        );
        console.log(
          `  upstream edit → downstream mirrors: ${((performance.now() - before) / 1000).toFixed(2)} s`,
        );
      });

      await t.step("drift downstream is reverted", async () => {
        await down.patch(`${CM("app-1")}/common`, { data: { level: "hacked" } });
        await eventually(
          async () => assert.equal((await down.get(`${CM("app-1")}/common`)).data.level, "debug"),
          20_000,
        );
      });

      await t.step(
        "an object that is not a mirror is left alone, with a conflict Event on the link",
        async () => {
          await down.createNamespace("app-5", optIn);
          await down.patch(`${SECRET("default")}/link-hub`, {
            metadata: { annotations: { [`${P}allowed-namespaces`]: "app-1,app-3,app-5,local-*" } },
          });
          await down.apply(CM("app-5"), {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "common", namespace: "app-5" },
            data: { mine: "yes" },
          });
          await eventually(async () => {
            const events = await down.events("default", "link-hub");
            assert.ok(
              events.some((e) => e.reason === "Conflict" && e.message.includes("app-5")),
              JSON.stringify(events),
            );
            assert.ok(await down.find(`${SECRET("app-5")}/registry`), "the Secret still lands there");
          }, 20_000);
          const mine = await down.get(`${CM("app-5")}/common`);
          assert.deepEqual(mine.data, { mine: "yes" });
          assert.equal(mine.metadata.labels?.[`${P}mirror`], undefined);
        },
      );

      await t.step("a local source and a link source claiming one name: one conflict, no fight", async () => {
        await up.apply(
          CM("platform"),
          source("ConfigMap", "platform", "shared", {
            [`${P}target-namespaces`]: "app-1,app-3",
            [`${P}target-clusters`]: "all",
          }, { data: { from: "hub" } }),
        );
        await down.apply(
          CM("local-src"),
          source("ConfigMap", "local-src", "shared", {
            [`${P}target-namespaces`]: "app-1",
          }, { data: { from: "edge" } }),
        );
        await eventually(async () => {
          assert.equal((await down.get(`${CM("app-3")}/shared`)).data.from, "hub");
          const a1 = await down.get(`${CM("app-1")}/shared`);
          assert.ok(a1.data.from === "edge" || a1.data.from === "hub");
        }, 20_000);
        const owner = (await down.get(`${CM("app-1")}/shared`)).metadata;
        await sleep(7000); // past a resync: nobody takes it from the other
        const after = (await down.get(`${CM("app-1")}/shared`)).metadata;
        assert.equal(after.resourceVersion, owner.resourceVersion, "no fight over app-1/shared");
      });

      await t.step(
        "what it costs the upstream: lists and watches, no write, nothing while idle",
        async () => {
          const mine = (await up.cluster.auditEvents()).slice(auditStart).filter((e) =>
            e.user?.username === READER_USER
          );
          const verbs = new Map<string, number>();
          for (const e of mine) verbs.set(e.verb, (verbs.get(e.verb) ?? 0) + 1);
          console.log(`  upstream requests by the link so far: ${JSON.stringify(Object.fromEntries(verbs))}`);
          assert.deepEqual([...verbs.keys()].filter((v) => v !== "list" && v !== "watch"), []);
          const idleFrom = (await up.cluster.auditEvents()).length;
          await sleep(10_000); // two resyncs
          assertIdle(
            (await up.cluster.auditEvents()).slice(idleFrom),
            "an in-sync link costs nothing but its watches",
          );
        },
      );

      await t.step("kubemirror plan in the downstream cluster includes the link's sources", async () => {
        const plan = (...extra: string[]) =>
          run(Deno.execPath(), [
            "run",
            "--allow-all",
            `${ROOT}/mod.ts`,
            "plan",
            `--kubeconfig=${down.cluster.kubeconfigPath("admin")}`,
            "--cluster-name=edge",
            "--leader-election-namespace=default",
            "--resource-types=ConfigMap.v1,Secret.v1",
            ...extra,
          ]);
        const r = await plan();
        const doc = JSON.parse(r.out) as {
          actions: {
            action: string;
            source: { cluster?: string; name: string };
            target: { namespace: string };
          }[];
        };
        const viaLink = doc.actions.filter((a) => a.source.cluster === "hub");
        const at = (name: string, ns: string) =>
          viaLink.find((a) => a.source.name === name && a.target.namespace === ns)?.action;
        assert.equal(at("registry", "app-1"), "unchanged", r.out);
        assert.equal(at("common", "app-5"), "conflict", r.out);
        assert.equal(at("registry", "app-2"), "skip", r.out);
        assert.match((await plan("-o", "table")).out, /hub:platform\/registry/);
      });

      await t.step("100 mirrors through the link: what it costs the upstream, and how long", async () => {
        const from = (await up.cluster.auditEvents()).length;
        const t0 = performance.now();
        for (let i = 0; i < 50; i++) {
          await up.apply(
            CM("platform"),
            source("ConfigMap", "platform", `bulk-${i}`, {
              [`${P}target-namespaces`]: "app-1,app-3",
              [`${P}target-clusters`]: "edge",
            }, { data: { i: String(i) } }),
          );
        }
        const count = async (ns: string) =>
          (await down.api.list(CM(ns), { query: { labelSelector: `${P}mirror=true` } })).items
            .filter((o) => o.metadata?.name?.startsWith("bulk-")).length;
        await eventually(
          async () => assert.equal((await count("app-1")) + (await count("app-3")), 100),
          60_000,
          50,
        );
        const seconds = (performance.now() - t0) / 1000;
        const requests = (await up.cluster.auditEvents()).slice(from).filter((e) =>
          e.user?.username === READER_USER
        );
        console.log(
          `  100 mirrors through the link in ${
            seconds.toFixed(2)
          } s (50 sources created upstream one by one); ` +
            `upstream requests by the link meanwhile: ${requests.length}`,
        );
        assert.deepEqual(requests.filter((e) => e.verb !== "watch"), [], "the open watches carry them");
        const idleFrom = (await up.cluster.auditEvents()).length;
        await sleep(6000);
        const rechecks = assertIdle(
          (await up.cluster.auditEvents()).slice(idleFrom),
          "100 mirrors in sync cost nothing but the watches",
        );
        console.log(
          `  idle 6 s with 100 mirrors: no upstream request besides the open watches` +
            (rechecks ? ` and ${rechecks} re-checks of refused kinds` : ""),
        );
      });

      await t.step(
        "the upstream's read-only identity may get, list and watch the kinds, nothing else",
        async () => {
          const may = async (attrs: Record<string, string>) => {
            const review = await up.api.request<{ status: { allowed?: boolean } }>(
              "POST",
              "/apis/authorization.k8s.io/v1/subjectaccessreviews",
              {
                body: {
                  apiVersion: "authorization.k8s.io/v1",
                  kind: "SubjectAccessReview",
                  spec: {
                    user: READER_USER,
                    groups: [
                      "system:serviceaccounts",
                      `system:serviceaccounts:${READER_NS}`,
                      "system:authenticated",
                    ],
                    resourceAttributes: attrs,
                  },
                },
              },
            );
            return review.status.allowed === true;
          };
          for (const resource of ["secrets", "configmaps"]) {
            for (const verb of ["get", "list", "watch"]) {
              assert.ok(await may({ verb, resource }), `${verb} ${resource}`);
            }
            for (const verb of ["create", "update", "patch", "delete", "deletecollection"]) {
              assert.ok(
                !(await may({ verb, resource, namespace: "platform" })),
                `may not ${verb} ${resource}`,
              );
            }
          }
          const allowed: string[] = [];
          for (const e of ESCALATIONS) {
            if (await may(e.attrs)) allowed.push(e.what);
          }
          assert.deepEqual(allowed, [], `the upstream reader may ${allowed.join(", ")}`);
          for (const resource of ["pods", "serviceaccounts", "leases"]) {
            assert.ok(!(await may({ verb: "list", resource })), `may not list ${resource}`);
          }
        },
      );

      await t.step(
        "the upstream away for 30 s: mirrors kept, link down with an Event, then resumed and converged",
        async () => {
          const restarted = up.cluster.restartApiServer({ downMs: 30_000 });
          await eventually(async () => {
            assert.equal(
              metricValue(await downCtl.metrics(), 'kubemirror_cluster_link_up{cluster="hub"}'),
              0,
            );
            const events = await down.events("default", "link-hub");
            assert.ok(
              events.some((e) => e.reason === "LinkUnreachable" && e.type === "Warning"),
              JSON.stringify(events),
            );
          }, 30_000);
          assert.match(await downCtl.logs(), /cluster link is down/);
          for (const ns of ["app-1", "app-3"]) {
            assert.ok(await down.find(`${SECRET(ns)}/registry`), `kept in ${ns}`);
          }
          await restarted;
          for (const ns of ["app-1", "app-3"]) {
            assert.ok(await down.find(`${SECRET(ns)}/registry`), `kept in ${ns}`);
          }
          await eventually(async () => {
            assert.equal(
              metricValue(await downCtl.metrics(), 'kubemirror_cluster_link_up{cluster="hub"}'),
              1,
              (await downCtl.logs()).split("\n").filter((l) => /link|watch/.test(l)).slice(-40).join("\n"),
            );
          }, 60_000);
          await up.patch(`${SECRET("platform")}/registry`, { data: { token: btoa("rotated") } });
          await eventually(async () => {
            for (const ns of ["app-1", "app-3"]) {
              assert.equal(atob((await down.get(`${SECRET(ns)}/registry`)).data.token), "rotated");
            }
            const events = await down.events("default", "link-hub");
            assert.ok(
              events.some((e) => e.reason === "LinkResumed" && e.type === "Normal"),
              JSON.stringify(events),
            );
          }, 30_000);
        },
      );

      await t.step("the source deleted upstream: its downstream mirrors are deleted", async () => {
        await up.remove(`${CM("platform")}/common`);
        await eventually(async () => {
          for (const ns of ["app-1", "app-3"]) assert.equal(await down.find(`${CM(ns)}/common`), undefined);
        }, 20_000);
        assert.deepEqual(
          (await down.get(`${CM("app-5")}/common`)).data,
          { mine: "yes" },
          "not ours: still there",
        );
      });

      await t.step("per-link reconcile and error metrics carry the cluster", async () => {
        const text = await downCtl.metrics();
        assert.match(text, /kubemirror_reconcile_total\{[^}]*cluster="hub"[^}]*\} [1-9]/);
        assert.match(
          text,
          /kubemirror_sync_errors_total\{[^}]*error_type="conflict"[^}]*cluster="hub"[^}]*\} [1-9]/,
        );
      });

      await t.step(
        "the link's kubeconfig rotated: its watches restart, nothing is deleted or rewritten",
        async () => {
          const before = (await down.get(`${SECRET("app-1")}/registry`)).metadata.resourceVersion;
          const rotated = await Deno.readTextFile(await up.serviceAccountKubeconfig(READER_NS, READER));
          assert.notEqual(rotated, kubeconfig);
          const from = (await up.cluster.auditEvents()).length;
          await down.patch(`${SECRET("default")}/link-hub`, { data: { kubeconfig: btoa(rotated) } });
          await eventually(async () => {
            const lists = (await up.cluster.auditEvents()).slice(from).filter((e) =>
              e.user?.username === READER_USER && e.verb === "list" && e.responseStatus?.code === 200
            );
            assert.ok(lists.length >= 2, "the link listed again with its new credentials");
          }, 20_000);
          await sleep(3000);
          assert.equal(metricValue(await downCtl.metrics(), 'kubemirror_cluster_link_up{cluster="hub"}'), 1);
          assert.equal((await down.get(`${SECRET("app-1")}/registry`)).metadata.resourceVersion, before);
        },
      );

      await t.step(
        "the standby kept the link warm and wrote nothing; it takes over when the leader stops",
        async () => {
          const text = await standby.metrics();
          assert.equal(metricValue(text, "kubemirror_leader"), 0);
          assert.equal(metricValue(text, 'kubemirror_cluster_link_up{cluster="hub"}'), 1);
          const writes = (await down.cluster.auditEvents()).filter((e) =>
            e.user?.username === "system:serviceaccount:default:standby" &&
            ["create", "update", "patch", "delete"].includes(e.verb) &&
            !(e.objectRef?.resource ?? "").endsWith("accessreviews")
          ).map((e) => `${e.verb} ${e.requestURI}`);
          assert.deepEqual(writes, [], "a standby writes nothing (access reviews aside)");
          assert.equal(await downCtl.stop(), 0);
          await eventually(
            async () => assert.equal(metricValue(await standby.metrics(), "kubemirror_leader"), 1),
            45_000,
          );
          downCtl = standby;
          await up.patch(`${SECRET("platform")}/registry`, { data: { token: btoa("after-takeover") } });
          await eventually(async () => {
            assert.equal(atob((await down.get(`${SECRET("app-1")}/registry`)).data.token), "after-takeover");
          }, 20_000);
        },
      );

      await t.step("the link Secret deleted: its mirrors go, the local source's stay", async () => {
        const local = await down.get(`${CM("app-1")}/shared`);
        await down.remove(`${SECRET("default")}/link-hub`);
        await eventually(async () => {
          for (const ns of ["app-1", "app-3", "app-5"]) {
            assert.equal(await down.find(`${SECRET(ns)}/registry`), undefined);
          }
          assert.equal(await down.find(`${CM("app-3")}/shared`), undefined);
        }, 20_000);
        if (local.metadata.annotations[`${P}source-cluster`] === undefined) {
          assert.ok(await down.find(`${CM("app-1")}/shared`), "the local source's mirror stays");
        } else {
          // The link's mirror held the name; with the link gone, the local source takes it.
          await eventually(
            async () => assert.equal((await down.get(`${CM("app-1")}/shared`)).data.from, "edge"),
            20_000,
          );
        }
        const text = await downCtl.metrics();
        assert.equal(
          text.includes('kubemirror_cluster_link_up{cluster="hub"}'),
          false,
          "the series goes with the link",
        );
      });
      void upCtl;
    } finally {
      await Promise.all([up.stop(), down.stop()]);
    }
  },
});

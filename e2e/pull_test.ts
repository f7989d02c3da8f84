/**
 * Pull (docs/CONTRACT.md §9) end to end against a real API server: a namespace's own object asks to be
 * filled from a source, the source's author says who may; every refusal, revocation, a source edit, a
 * revert, push and pull of one source at once, a restart in the middle, and what it costs (audit log).
 */
import assert from "node:assert/strict";
import type { KubeObject } from "../core/types.ts";
import type { AuditEvent } from "../tools/testcluster/cluster.ts";
import { byController as ours, CM, eventually, Harness, SECRET, sleep } from "./harness.ts";

const P = "kubemirror.raczylo.com/";

/** A source that only allows pulling (no `sync`). */
function pullSource(
  kind: "ConfigMap" | "Secret",
  ns: string,
  name: string,
  allowed: string,
  body: object,
): KubeObject {
  return {
    apiVersion: "v1",
    kind,
    metadata: {
      name,
      namespace: ns,
      labels: { [`${P}enabled`]: "true" },
      annotations: { [`${P}pull-allowed-namespaces`]: allowed },
    },
    ...body,
  };
}

/** An object that asks to be filled from `from`. */
function puller(
  kind: "ConfigMap" | "Secret",
  ns: string,
  name: string,
  from: string,
  extra: object = {},
  annotations = {},
) {
  return {
    apiVersion: "v1",
    kind,
    metadata: {
      name,
      namespace: ns,
      labels: { [`${P}enabled`]: "true", team: ns },
      annotations: { [`${P}pull-from`]: from, "team.example.com/owner": ns, ...annotations },
    },
    ...extra,
  };
}

Deno.test({
  name: "pull end to end",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const h = await Harness.start();
    try {
      for (const ns of ["platform", "team-a", "team-b", "other", "blocked", "app-x", "team-c"]) {
        await h.createNamespace(ns);
      }
      let ctl = await h.startController([
        "--leader-elect=false",
        "--resync-period=3s",
        "--excluded-namespaces=blocked",
        "--resource-types=ConfigMap.v1,Secret.v1",
      ]);
      const status = async (path: string) => (await h.get(path)).metadata.annotations?.[`${P}sync-status`];
      const reasons = async (ns: string, name: string) => (await h.events(ns, name)).map((e) => e.reason);

      await t.step(
        "an allowed namespace's object is filled: content, markers, pulled; its own name, labels, annotations kept",
        async () => {
          await h.apply(
            SECRET("platform"),
            pullSource("Secret", "platform", "registry", "team-*", {
              type: "kubernetes.io/dockerconfigjson",
              data: { ".dockerconfigjson": btoa('{"auths":{}}') },
            }),
          );
          await h.apply(
            SECRET("team-a"),
            puller("Secret", "team-a", "regcred", "platform/registry", {
              type: "kubernetes.io/dockerconfigjson",
              data: { ".dockerconfigjson": btoa("{}") },
            }),
          );
          const copy = await eventually(async () => {
            const c = await h.get(SECRET("team-a", "regcred"));
            assert.equal(c.metadata.annotations[`${P}sync-status`], "pulled");
            return c;
          });
          assert.equal(atob(copy.data[".dockerconfigjson"]), '{"auths":{}}');
          const source = await h.get(SECRET("platform", "registry"));
          assert.equal(copy.metadata.annotations[`${P}source-namespace`], "platform");
          assert.equal(copy.metadata.annotations[`${P}source-name`], "registry");
          assert.equal(copy.metadata.annotations[`${P}source-uid`], source.metadata.uid);
          assert.match(copy.metadata.annotations[`${P}source-content-hash`], /^[0-9a-f]{64}$/);
          assert.match(copy.metadata.annotations[`${P}last-sync-time`], /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
          assert.equal(copy.metadata.annotations["team.example.com/owner"], "team-a");
          assert.equal(copy.metadata.labels.team, "team-a");
          assert.equal(copy.metadata.labels[`${P}mirror`], undefined, "a pulled copy is not a mirror");
          assert.equal(
            source.metadata.annotations[`${P}sync-status`],
            undefined,
            "the source records nothing",
          );
        },
      );

      await t.step(
        "refused for each reason of §9, with a Warning Event and error:<Reason>; nothing is copied",
        async () => {
          await h.apply(
            CM("platform"),
            pullSource("ConfigMap", "platform", "settings", "team-a,team-b", { data: { level: "info" } }),
          );
          await h.apply(
            SECRET("platform"),
            pullSource("Secret", "platform", "helm-state", "all", {
              type: "helm.sh/release.v1",
              data: { release: btoa("x") },
            }),
          );
          await h.apply(CM("team-a"), puller("ConfigMap", "team-a", "chained", "platform/settings"));
          const cases: [string, string, KubeObject, string][] = [
            [
              "other",
              "not-allowed",
              puller("ConfigMap", "other", "not-allowed", "platform/settings"),
              "PullNotAllowed",
            ],
            [
              "team-a",
              "missing",
              puller("ConfigMap", "team-a", "missing", "platform/nope"),
              "SourceNotFound",
            ],
            ["team-a", "bad-ref", puller("ConfigMap", "team-a", "bad-ref", "just-a-name"), "InvalidPullFrom"],
            ["team-b", "chain", puller("ConfigMap", "team-b", "chain", "team-a/chained"), "PullChain"],
            [
              "team-a",
              "wrong-kind",
              puller("ConfigMap", "team-a", "wrong-kind", "platform/registry"),
              "KindMismatch",
            ],
            [
              "blocked",
              "excluded",
              puller("ConfigMap", "blocked", "excluded", "platform/settings"),
              "PullNotAllowed",
            ],
            [
              "team-a",
              "helm",
              puller("Secret", "team-a", "helm", "platform/helm-state", { type: "helm.sh/release.v1" }),
              "PullNotAllowed",
            ],
          ];
          for (const [ns, name, obj] of cases) await h.apply(name === "helm" ? SECRET(ns) : CM(ns), obj);
          for (const [ns, name, , reason] of cases) {
            const path = name === "helm" ? SECRET(ns, name) : CM(ns, name);
            await eventually(async () => {
              assert.equal(await status(path), `error:${reason}`, name);
              assert.ok((await reasons(ns, name)).includes(reason), `${name}: Event ${reason}`);
            });
            const obj = await h.get(path);
            assert.equal(obj.data, undefined, `${name}: nothing copied`);
          }
          await eventually(async () => assert.equal(await status(CM("team-a", "chained")), "pulled"));
        },
      );

      await t.step("a source change reaches the copy; an edit of the copy is reverted", async () => {
        await h.patch(SECRET("platform", "registry"), {
          data: { ".dockerconfigjson": btoa('{"auths":{"r":{}}}') },
        });
        await eventually(async () =>
          assert.equal(
            atob((await h.get(SECRET("team-a", "regcred"))).data[".dockerconfigjson"]),
            '{"auths":{"r":{}}}',
          )
        );
        await h.patch(SECRET("team-a", "regcred"), {
          data: { ".dockerconfigjson": btoa('{"auths":{"hand":{}}}') },
        });
        await eventually(async () =>
          assert.equal(
            atob((await h.get(SECRET("team-a", "regcred"))).data[".dockerconfigjson"]),
            '{"auths":{"r":{}}}',
          )
        );
      });

      await t.step(
        "revocation: unlabelled, no longer allowed or deleted, the source's data leaves the copy, which stays",
        async () => {
          const copy = () => h.get(SECRET("team-a", "regcred"));
          // A docker-config Secret must hold a valid document: the emptied one names no registry.
          const emptied = { ".dockerconfigjson": btoa('{"auths":{}}') };
          await h.patch(SECRET("platform", "registry"), { metadata: { labels: { [`${P}enabled`]: null } } });
          await eventually(async () => {
            const c = await copy();
            assert.deepEqual(c.data, emptied);
            assert.equal(c.metadata.annotations[`${P}sync-status`], "error:SourceNotFound");
          });
          await h.patch(SECRET("platform", "registry"), {
            metadata: { labels: { [`${P}enabled`]: "true" } },
          });
          await eventually(async () =>
            assert.equal((await copy()).metadata.annotations[`${P}sync-status`], "pulled")
          );
          assert.ok((await copy()).data[".dockerconfigjson"], "filled again");
          await h.patch(SECRET("platform", "registry"), {
            metadata: { annotations: { [`${P}pull-allowed-namespaces`]: "team-b" } },
          });
          await eventually(async () => {
            const c = await copy();
            assert.deepEqual(c.data, emptied);
            assert.equal(c.metadata.annotations[`${P}sync-status`], "error:PullNotAllowed");
          });
          await h.patch(SECRET("platform", "registry"), {
            metadata: { annotations: { [`${P}pull-allowed-namespaces`]: "team-*" } },
          });
          await eventually(async () =>
            assert.equal((await copy()).metadata.annotations[`${P}sync-status`], "pulled")
          );
          await h.remove(SECRET("platform", "registry"));
          await eventually(async () => {
            const c = await copy();
            assert.deepEqual(c.data, emptied);
            assert.equal(c.metadata.annotations[`${P}sync-status`], "error:SourceNotFound");
          });
          assert.ok(await h.find(SECRET("team-a", "regcred")), "the pulling object is never deleted");
        },
      );

      await t.step(
        "an immutable copy that must change is left alone with an Event; sync on a pulling object is ignored",
        async () => {
          await h.apply(CM("team-b"), puller("ConfigMap", "team-b", "frozen", "platform/settings"));
          await eventually(async () => assert.equal(await status(CM("team-b", "frozen")), "pulled"));
          await h.patch(CM("team-b", "frozen"), { immutable: true });
          await h.patch(CM("platform", "settings"), { data: { level: "debug" } });
          await eventually(async () => {
            assert.equal(await status(CM("team-b", "frozen")), "error:Immutable");
            assert.ok((await reasons("team-b", "frozen")).includes("Immutable"));
          });
          assert.equal((await h.get(CM("team-b", "frozen"))).data.level, "info", "left as it was");
          await h.apply(
            CM("team-b"),
            puller("ConfigMap", "team-b", "also-sync", "platform/settings", {}, {
              [`${P}sync`]: "true",
              [`${P}target-namespaces`]: "app-x",
            }),
          );
          await eventually(async () => {
            assert.equal(await status(CM("team-b", "also-sync")), "pulled");
            assert.ok((await reasons("team-b", "also-sync")).includes("PullIgnoresSync"));
          });
          await sleep(1000);
          assert.equal(await h.find(CM("app-x", "also-sync")), undefined, "never pushed");
        },
      );

      await t.step("one source pushed and pulled at once", async () => {
        await h.apply(CM("platform"), {
          ...pullSource("ConfigMap", "platform", "both", "team-c", { data: { k: "v" } }),
          metadata: {
            name: "both",
            namespace: "platform",
            labels: { [`${P}enabled`]: "true" },
            annotations: {
              [`${P}sync`]: "true",
              [`${P}target-namespaces`]: "app-x",
              [`${P}pull-allowed-namespaces`]: "team-c",
            },
          },
        });
        await h.apply(CM("team-c"), puller("ConfigMap", "team-c", "my-both", "platform/both"));
        await eventually(async () => {
          assert.equal((await h.get(CM("app-x", "both"))).data.k, "v");
          assert.equal((await h.get(CM("team-c", "my-both"))).data.k, "v");
        });
        await h.patch(CM("platform", "both"), { data: { k: "w" } });
        await eventually(async () => {
          assert.equal((await h.get(CM("app-x", "both"))).data.k, "w");
          assert.equal((await h.get(CM("team-c", "my-both"))).data.k, "w");
        });
        await eventually(async () =>
          assert.equal(
            (await h.get(CM("platform", "both"))).metadata.annotations[`${P}sync-status`],
            "reconciled:1,errors:0",
          )
        );
      });

      await t.step(
        "100 pulling objects of one source: 100 patches and nothing else; in sync, not one request",
        async () => {
          const N = 100;
          const namespaces = Array.from({ length: N }, (_, i) => `pull-${String(i).padStart(3, "0")}`);
          for (const ns of namespaces) await h.createNamespace(ns);
          await h.apply(
            CM("platform"),
            pullSource("ConfigMap", "platform", "shared", "pull-*", { data: { v: "1" } }),
          );
          // The pulling objects exist before the controller does anything for them: only the copies' writes count.
          await ctl.stop();
          for (let i = 0; i < N; i += 25) {
            await Promise.all(
              namespaces.slice(i, i + 25).map((ns) =>
                h.apply(CM(ns), puller("ConfigMap", ns, "shared", "platform/shared"))
              ),
            );
          }
          const before = (await h.cluster.auditEvents()).length;
          ctl = await h.startController([
            "--leader-elect=false",
            "--resync-period=3s",
            "--excluded-namespaces=blocked",
            "--resource-types=ConfigMap.v1,Secret.v1",
          ]);
          await eventually(async () => {
            for (const ns of namespaces) assert.equal((await h.get(CM(ns, "shared"))).data?.v, "1", ns);
          }, 60_000);
          await sleep(2000);
          const fill = (await h.cluster.auditEvents()).slice(before).filter(ours);
          const writes = fill.filter((e) => ["create", "update", "patch", "delete"].includes(e.verb));
          const toCopies = writes.filter((e) =>
            e.verb === "patch" && e.objectRef?.name === "shared" &&
            e.objectRef?.namespace?.startsWith("pull-")
          );
          assert.equal(toCopies.length, N, "one patch per pulling object");
          const others = new Map<string, number>();
          for (const e of writes.filter((e) => !toCopies.includes(e))) {
            const what = `${e.verb} ${e.objectRef?.resource}`;
            others.set(what, (others.get(what) ?? 0) + 1);
          }
          console.log(
            `  figures: ${N} pulling objects filled with ${toCopies.length} patches; other writes: ${
              [...others].map(([what, n]) => `${n} ${what}`).join(", ") || "none"
            } (start-up access reviews, and the Events of the objects refused above)`,
          );

          // The source changes: every copy follows, one patch each, and the time is the lag a user sees.
          const editBefore = (await h.cluster.auditEvents()).length;
          const started = performance.now();
          await h.patch(CM("platform", "shared"), { data: { v: "2" } });
          await eventually(
            async () => {
              const list = await h.api.list("/api/v1/configmaps", {
                query: { fieldSelector: "metadata.name=shared" },
              });
              const updated = list.items.filter((c) =>
                c.metadata?.namespace?.startsWith("pull-") && (c.data as Record<string, string>)?.v === "2"
              );
              assert.equal(updated.length, N);
            },
            60_000,
            50,
          );
          const lag = performance.now() - started;
          await sleep(1000);
          // The refused objects of the steps before repeat their Events once per resync period (3 s here, as
          // for any source with an error); everything else is the copies' patches.
          const repeated = (e: AuditEvent) =>
            e.verb === "create" && e.objectRef?.resource === "events" &&
            !e.objectRef?.namespace?.startsWith("pull-");
          const edit = (await h.cluster.auditEvents()).slice(editBefore).filter(ours).filter((e) =>
            e.verb !== "watch" && !repeated(e)
          );
          assert.deepEqual(
            [...new Set(edit.map((e) => `${e.verb} ${e.objectRef?.resource}`))],
            ["patch configmaps"],
            "a source edit costs patches of its copies and nothing else",
          );
          assert.equal(edit.length, N);
          console.log(
            `  figures: source edit → all ${N} copies in ${
              (lag / 1000).toFixed(2)
            } s, ${edit.length} requests`,
          );

          const idleBefore = (await h.cluster.auditEvents()).length;
          await sleep(7000); // two resyncs
          const idle = (await h.cluster.auditEvents()).slice(idleBefore).filter(ours).filter((e) =>
            e.verb !== "watch" && !repeated(e)
          );
          assert.deepEqual(idle.map((e) => `${e.verb} ${e.requestURI}`), [], "in sync: no request");
        },
      );

      await t.step(
        "a controller restart in the middle: the copies converge once it is back, and nothing is rewritten",
        async () => {
          assert.equal(await ctl.stop(), 0);
          await h.patch(CM("platform", "settings"), { data: { level: "warn" } });
          const before = (await h.cluster.auditEvents()).length;
          ctl = await h.startController([
            "--leader-elect=false",
            "--resync-period=3s",
            "--excluded-namespaces=blocked",
            "--resource-types=ConfigMap.v1,Secret.v1",
          ]);
          await eventually(async () =>
            assert.equal((await h.get(CM("team-a", "chained"))).data.level, "warn")
          );
          await sleep(2000);
          const writes = (await h.cluster.auditEvents()).slice(before).filter(ours).filter((e) =>
            ["create", "update", "patch", "delete"].includes(e.verb) && e.objectRef?.resource === "configmaps"
          );
          // Only the copies of the edited source are written (the immutable one is refused, not written).
          const written = [...new Set(writes.map((e) => `${e.objectRef?.namespace}/${e.objectRef?.name}`))]
            .sort();
          assert.deepEqual(written, ["team-a/chained", "team-b/also-sync"]);
        },
      );
    } finally {
      await h.stop();
    }
  },
});

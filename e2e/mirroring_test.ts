/**
 * The controller end to end against a real API server: targeting, drift, clean-up, conflicts, adoption,
 * kinds, transformations. One control plane and one controller process for the whole file.
 */
import assert from "node:assert/strict";
import { CM, eventually, Harness, SECRET, sleep, source } from "./harness.ts";

const P = "kubemirror.raczylo.com/";

Deno.test({
  name: "controller end to end",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const h = await Harness.start();
    try {
      for (const ns of ["app-1", "app-2", "web", "legacy", "prod-a"]) {
        await h.createNamespace(ns, ns === "prod-a" ? { env: "prod", [`${P}allow-mirrors`]: "true" } : {});
      }
      await h.createNamespace("opted-out", { [`${P}allow-mirrors`]: "false", env: "prod" });
      const ctl = await h.startController([
        "--leader-elect=false",
        "--resync-period=4s",
        "--excluded-namespaces=legacy",
      ]);

      const mirrorsOf = async (
        path: (ns: string, name?: string) => string,
        name: string,
        namespaces: string[],
      ) => {
        const found: string[] = [];
        for (const ns of namespaces) if (await h.find(path(ns, name))) found.push(ns);
        return found;
      };
      // The sources live in default, so it is not among the namespaces checked for mirrors.
      const ALL = ["app-1", "app-2", "web", "legacy", "prod-a", "opted-out", "kube-system", "kube-public"];

      await t.step("names, globs, all, all-labeled and a selector choose the targets", async () => {
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "by-name", { [`${P}target-namespaces`]: "app-1,web" }, {
            data: { a: "1" },
          }),
        );
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "by-glob", { [`${P}target-namespaces`]: "app-*" }, {
            data: { a: "1" },
          }),
        );
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "to-all", { [`${P}target-namespaces`]: "all" }, {
            data: { a: "1" },
          }),
        );
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "labeled", { [`${P}target-namespaces`]: "all-labeled" }, {
            data: { a: "1" },
          }),
        );
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "selected", { [`${P}target-namespace-selector`]: "env=prod" }, {
            data: { a: "1" },
          }),
        );
        await eventually(async () => {
          assert.deepEqual(await mirrorsOf(CM, "by-name", ALL), ["app-1", "web"]);
          assert.deepEqual(await mirrorsOf(CM, "by-glob", ALL), ["app-1", "app-2"]);
          assert.deepEqual(await mirrorsOf(CM, "to-all", ALL), ["app-1", "app-2", "web", "prod-a"]);
          assert.deepEqual(await mirrorsOf(CM, "labeled", ALL), ["prod-a"]);
          assert.deepEqual(await mirrorsOf(CM, "selected", ALL), ["prod-a"]);
        });
        // The source's status is written once its mirrors are: moments after the last of them.
        await eventually(async () => {
          const src = await h.get(CM("default", "by-name"));
          assert.ok(src.metadata.finalizers?.includes(`${P}finalizer`));
          assert.equal(src.metadata.annotations[`${P}sync-status`], "reconciled:2,errors:0");
        });
        const src = await h.get(CM("default", "by-name"));
        const mirror = await h.get(CM("web", "by-name"));
        assert.equal(mirror.metadata.labels[`${P}managed-by`], "kubemirror");
        assert.equal(mirror.metadata.annotations[`${P}source-uid`], src.metadata.uid);
        assert.match(mirror.metadata.annotations[`${P}source-content-hash`], /^[0-9a-f]{64}$/);
        assert.equal(mirror.metadata.ownerReferences, undefined);
        assert.equal(mirror.metadata.finalizers, undefined);
      });

      await t.step("a new namespace gets its mirrors; opt-in and opt-out by label", async () => {
        await h.createNamespace("app-3");
        await eventually(async () => assert.ok(await h.find(CM("app-3", "by-glob"))));
        await eventually(async () => assert.ok(await h.find(CM("app-3", "to-all"))));
        await h.patch("/api/v1/namespaces/web", { metadata: { labels: { [`${P}allow-mirrors`]: "true" } } });
        await eventually(async () => assert.ok(await h.find(CM("web", "labeled"))));
        await h.patch("/api/v1/namespaces/web", { metadata: { labels: { [`${P}allow-mirrors`]: "false" } } });
        await eventually(async () => {
          assert.equal(await h.find(CM("web", "labeled")), undefined);
          assert.equal(await h.find(CM("web", "to-all")), undefined);
          assert.equal(await h.find(CM("web", "by-name")), undefined, "opt-out wins over an exact name");
        });
      });

      await t.step("the target list shrinks: stale mirrors are deleted", async () => {
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "by-glob", { [`${P}target-namespaces`]: "app-1" }, {
            data: { a: "1" },
          }),
        );
        await eventually(async () =>
          assert.deepEqual(await mirrorsOf(CM, "by-glob", [...ALL, "app-3"]), ["app-1"])
        );
      });

      await t.step(
        "a source update reaches every mirror; edits are reverted; deleted mirrors come back",
        async () => {
          await h.apply(
            CM("default"),
            source("ConfigMap", "default", "to-all", { [`${P}target-namespaces`]: "all" }, {
              data: { a: "2" },
            }),
          );
          await eventually(async () => {
            for (const ns of ["app-1", "app-2", "app-3", "prod-a"]) {
              assert.equal((await h.get(CM(ns, "to-all"))).data.a, "2", ns);
            }
          });
          await h.patch(CM("app-1", "to-all"), { data: { a: "hand edit", extra: "x" } });
          await h.remove(CM("app-2", "to-all"));
          await eventually(async () => {
            assert.deepEqual((await h.get(CM("app-1", "to-all"))).data, { a: "2" });
            assert.equal((await h.get(CM("app-2", "to-all"))).data.a, "2");
          });
        },
      );

      await t.step(
        "an unmanaged object of the same name is untouched and reported; adopt takes it over",
        async () => {
          const theirs = await h.apply(CM("app-1"), {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: { name: "shared-cfg", namespace: "app-1" },
            data: { mine: "yes" },
          });
          await h.apply(
            CM("default"),
            source("ConfigMap", "default", "shared-cfg", { [`${P}target-namespaces`]: "app-1,app-2" }, {
              data: { from: "source" },
            }),
          );
          await eventually(async () => assert.ok(await h.find(CM("app-2", "shared-cfg"))));
          await eventually(async () => {
            const events = await h.events("default", "shared-cfg");
            assert.ok(
              events.some((e) =>
                e.reason === "Conflict" && /app-1\/shared-cfg exists and is not managed/.test(e.message)
              ),
              JSON.stringify(events),
            );
            assert.equal(
              (await h.get(CM("default", "shared-cfg"))).metadata.annotations[`${P}sync-status`],
              "reconciled:1,errors:1",
            );
          });
          await sleep(5000); // a resync passes
          const after = await h.get(CM("app-1", "shared-cfg"));
          assert.equal(
            after.metadata.resourceVersion,
            theirs.metadata!.resourceVersion,
            "byte-for-byte untouched",
          );
          assert.deepEqual(after.data, { mine: "yes" });
          await h.patch(CM("app-1", "shared-cfg"), {
            metadata: { annotations: { [`${P}adopt`]: "default/shared-cfg" } },
          });
          await eventually(async () => {
            const adopted = await h.get(CM("app-1", "shared-cfg"));
            assert.deepEqual(adopted.data, { from: "source" });
            assert.equal(adopted.metadata.uid, theirs.metadata!.uid, "adopted in place");
            assert.equal(adopted.metadata.annotations[`${P}source-name`], "shared-cfg");
          });
        },
      );

      await t.step(
        "two sources claim one name: the existing mirror stays, the other gets a conflict, no flapping",
        async () => {
          await h.createNamespace("team-b");
          await h.apply(
            CM("default"),
            source("ConfigMap", "default", "claimed", { [`${P}target-namespaces`]: "app-2" }, {
              data: { owner: "default" },
            }),
          );
          await eventually(async () =>
            assert.equal((await h.get(CM("app-2", "claimed"))).data.owner, "default")
          );
          await h.apply(
            CM("team-b"),
            source("ConfigMap", "team-b", "claimed", { [`${P}target-namespaces`]: "app-2" }, {
              data: { owner: "team-b" },
            }),
          );
          await eventually(async () => {
            const events = await h.events("team-b", "claimed");
            assert.ok(
              events.some((e) => e.reason === "Conflict" && /mirror of default\/claimed/.test(e.message)),
              JSON.stringify(events),
            );
          });
          const before = await h.get(CM("app-2", "claimed"));
          await sleep(9000); // two resyncs
          const after = await h.get(CM("app-2", "claimed"));
          assert.equal(after.metadata.resourceVersion, before.metadata.resourceVersion, "no flapping");
          assert.equal(after.data.owner, "default");
        },
      );

      await t.step("an immutable Secret's change recreates its mirror", async () => {
        // An immutable Secret's data cannot change, but its annotations can: a new transform changes
        // what the mirror holds, and the immutable mirror must be deleted and created again.
        const secret = (v: string) =>
          source("Secret", "default", "frozen", {
            [`${P}target-namespaces`]: "app-1",
            [`${P}transform`]: `rules:\n  - path: data.stage\n    value: "${v}"\n`,
          }, { immutable: true, data: { k: btoa("fixed") } });
        await h.apply(SECRET("default"), secret("one"));
        const first = await eventually(async () => {
          const m = await h.get(SECRET("app-1", "frozen"));
          assert.equal(atob(m.data.stage), "one");
          assert.equal(m.immutable, true);
          return m;
        });
        await h.apply(SECRET("default"), secret("two"));
        await eventually(async () => {
          const m = await h.get(SECRET("app-1", "frozen"));
          assert.equal(atob(m.data.stage), "two");
          assert.notEqual(m.metadata.uid, first.metadata.uid, "recreated, not updated in place");
        });
      });

      await t.step("source deleted: every mirror gone and the finalizer released", async () => {
        await h.remove(CM("default", "to-all"));
        await eventually(async () => {
          assert.deepEqual(await mirrorsOf(CM, "to-all", [...ALL, "app-3"]), []);
          assert.equal(
            await h.find(CM("default", "to-all")),
            undefined,
            "the source itself is gone: finalizer removed",
          );
        });
      });

      await t.step("source disabled by label or by annotation: mirrors gone, finalizer removed", async () => {
        await h.patch(CM("default", "by-name"), { metadata: { labels: { [`${P}enabled`]: null } } });
        await h.patch(CM("default", "selected"), { metadata: { annotations: { [`${P}sync`]: "false" } } });
        await eventually(async () => {
          assert.deepEqual(await mirrorsOf(CM, "by-name", ALL), []);
          assert.deepEqual(await mirrorsOf(CM, "selected", ALL), []);
          const a = await h.get(CM("default", "by-name"));
          const b = await h.get(CM("default", "selected"));
          assert.ok(!(a.metadata.finalizers ?? []).includes(`${P}finalizer`));
          assert.ok(!(b.metadata.finalizers ?? []).includes(`${P}finalizer`));
        });
      });

      await t.step(
        "a mirror left by the earlier Go implementation is adopted with its uid unchanged",
        async () => {
          const src = await h.apply(CM("default"), {
            ...source("ConfigMap", "default", "legacy-go", { [`${P}target-namespaces`]: "app-2" }, {
              data: { v: "new" },
            }),
          });
          // Pretend the Go controller made this mirror: same markers, an old hash.
          await h.remove(CM("app-2", "legacy-go"));
          const goMirror = await h.apply(CM("app-2"), {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: {
              name: "legacy-go",
              namespace: "app-2",
              labels: { [`${P}managed-by`]: "kubemirror", [`${P}mirror`]: "true" },
              annotations: {
                [`${P}source-namespace`]: "default",
                [`${P}source-name`]: "legacy-go",
                [`${P}source-uid`]: src.metadata!.uid!,
                [`${P}source-content-hash`]: "0".repeat(64),
              },
            },
            data: { v: "old" },
          });
          await eventually(async () => {
            const m = await h.get(CM("app-2", "legacy-go"));
            assert.equal(m.data.v, "new");
            assert.equal(m.metadata.uid, goMirror.metadata!.uid);
          });
        },
      );

      await t.step("excluded namespaces never get mirrors", async () => {
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "wants-legacy", { [`${P}target-namespaces`]: "legacy,app-1" }, {
            data: {},
          }),
        );
        await eventually(async () => assert.ok(await h.find(CM("app-1", "wants-legacy"))));
        assert.equal(await h.find(CM("legacy", "wants-legacy")), undefined);
      });

      await t.step("max-targets cuts the sorted list and reports it", async () => {
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "capped", {
            [`${P}target-namespaces`]: "app-*",
            [`${P}max-targets`]: "2",
          }, { data: {} }),
        );
        await eventually(async () =>
          assert.deepEqual(await mirrorsOf(CM, "capped", [...ALL, "app-3"]), ["app-1", "app-2"])
        );
        await eventually(async () => {
          const events = await h.events("default", "capped");
          assert.ok(
            events.some((e) => e.reason === "TargetsTruncated" && /app-3/.test(e.message)),
            JSON.stringify(events),
          );
        });
      });

      await t.step("transformations apply per namespace; a strict failure keeps the old mirror", async () => {
        const rules = `rules:
  - path: data.URL
    template: "https://{{.TargetNamespace}}.example.com"
  - path: data.LEVEL
    value: error
    namespacePattern: "prod-*"
`;
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "shaped", {
            [`${P}target-namespaces`]: "app-1,prod-a",
            [`${P}transform`]: rules,
            [`${P}transform-strict`]: "true",
          }, { data: { LEVEL: "debug" } }),
        );
        await eventually(async () => {
          assert.deepEqual((await h.get(CM("app-1", "shaped"))).data, {
            LEVEL: "debug",
            URL: "https://app-1.example.com",
          });
          assert.deepEqual((await h.get(CM("prod-a", "shaped"))).data, {
            LEVEL: "error",
            URL: "https://prod-a.example.com",
          });
        });
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "shaped", {
            [`${P}target-namespaces`]: "app-1,prod-a",
            [`${P}transform`]: rules + "  - path: data.list[4]\n    value: x\n",
            [`${P}transform-strict`]: "true",
          }, { data: { LEVEL: "info" } }),
        );
        await eventually(async () => {
          const events = await h.events("default", "shaped");
          assert.ok(events.some((e) => e.reason === "TransformFailed"), JSON.stringify(events));
        });
        assert.equal(
          (await h.get(CM("app-1", "shaped"))).data.LEVEL,
          "debug",
          "the old mirror stays as it was",
        );
      });

      await t.step("/metrics shows the reconcile counters", async () => {
        const text = await ctl.metrics();
        assert.match(text, /kubemirror_reconcile_total\{controller="configmap",result="success"\} [1-9]/);
        assert.match(text, /kubemirror_mirror_resources_total\{kind="ConfigMap"\} [1-9]/);
        assert.match(text, /workqueue_adds_total\{name="sources"\} [1-9]/);
        assert.match(text, /kubemirror_api_requests_total\{verb="create",code="201"\}/);
        assert.match(text, /kubemirror_watch_seconds_since_last_event\{resource="namespaces"\}/);
        assert.match(text, /kubemirror_process_resident_memory_bytes [1-9]/);
      });

      await t.step("SIGTERM: the controller stops cleanly with exit code 0", async () => {
        assert.equal(await ctl.stop("SIGTERM"), 0);
      });
    } finally {
      await h.stop();
    }
  },
});

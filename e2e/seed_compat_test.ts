/**
 * Drop-in for users of the earlier Go implementation: the controller started with every flag its binary
 * accepted, its Go templates with control flow mirrored per namespace, and where the contract is silent,
 * what the earlier implementation did, as a warning Event rather than an error.
 */
import assert from "node:assert/strict";
import { CM, eventually, Harness } from "./harness.ts";

const P = "kubemirror.raczylo.com/";

/** The earlier binary's flags, as its Deployment passed them (addresses are set by the harness). */
const SEED_FLAGS = [
  "--leader-elect=false",
  "--leader-election-id=kubemirror-controller-leader",
  "--excluded-namespaces=legacy-*",
  "--resource-types=Secret.v1,ConfigMap.v1",
  "--discovery-interval=5m",
  "--max-targets=100",
  "--worker-threads=5",
  "--rate-limit-qps=50.0",
  "--rate-limit-burst=100",
  "--resync-period=10m",
  "--verify-source-freshness=false",
  "--lazy-watcher-init=true",
  "--watcher-scan-interval=5m",
  "--zap-devel=false",
  "--zap-encoder=json",
  "--zap-log-level=debug",
  "--zap-stacktrace-level=error",
  "--zap-time-encoding=iso8601",
];

const LOG_LEVEL_TEMPLATE = `{{- if hasPrefix .TargetNamespace "prod-" -}}
error
{{- else if hasPrefix .TargetNamespace "staging-" -}}
warn
{{- else -}}
debug
{{- end }}`;

Deno.test({
  name: "drop-in for seed users: their flags, templates and silent cases",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const h = await Harness.start();
    try {
      for (const ns of ["prod-eu", "staging-1", "dev-2"]) await h.createNamespace(ns);
      // LOG_LEVEL says error: debug lines can only come from --zap-log-level=debug.
      const ctl = await h.startController(SEED_FLAGS, { LOG_LEVEL: "error" });

      await t.step(
        "the earlier binary's flags start the controller; the no-op ones are said once",
        async () => {
          await eventually(async () => assert.ok(await ctl.ready()), 30_000);
          const logs = await ctl.logs();
          for (
            const flag of [
              "lazy-watcher-init",
              "watcher-scan-interval",
              "zap-stacktrace-level",
              "zap-time-encoding",
            ]
          ) {
            const said = logs.split("\n").filter((l) =>
              l.includes(`--${flag} is accepted for compatibility and does nothing`)
            );
            assert.equal(said.length, 1, flag);
            assert.equal(JSON.parse(said[0]).level, "warn");
          }
        },
      );

      await t.step(
        "the earlier implementation's environment template renders per target namespace",
        async () => {
          await h.apply(CM("default"), {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: {
              name: "app-config",
              namespace: "default",
              labels: { [`${P}enabled`]: "true" },
              annotations: {
                [`${P}sync`]: "true",
                [`${P}target-namespaces`]: "prod-*,staging-*,dev-*",
                [`${P}transform`]: `rules:
  - path: data.LOG_LEVEL
    template: |
${LOG_LEVEL_TEMPLATE.split("\n").map((l) => "      " + l).join("\n")}
  - path: data.DB
    template: '{{ replace .TargetNamespace "-" "_" }}_db'
  - path: data.LABELS
    template: '{{ range $k, $v := .Labels }}{{ $k }}={{ $v }};{{ end }}'
`,
              },
            },
            data: { LOG_LEVEL: "info" },
          });
          await eventually(async () => {
            const got = Object.fromEntries(
              await Promise.all(
                ["prod-eu", "staging-1", "dev-2"].map(async (
                  ns,
                ) => [ns, (await h.get(CM(ns, "app-config"))).data]),
              ),
            );
            assert.deepEqual(got["prod-eu"], {
              LOG_LEVEL: "error\n",
              DB: "prod_eu_db",
              LABELS: `${P}enabled=true;`,
            });
            assert.equal(got["staging-1"].LOG_LEVEL, "warn\n");
            assert.equal(got["dev-2"].LOG_LEVEL, "debug\n");
          });
          await eventually(async () => {
            const src = await h.get(CM("default", "app-config"));
            assert.equal(src.metadata.annotations[`${P}sync-status`], "reconciled:3,errors:0");
          });
          const debug = (await ctl.logs()).split("\n").filter((l) => l.includes('"level":"debug"'));
          assert.ok(
            debug.some((l) => JSON.parse(l).msg === "reconciled"),
            "--zap-log-level=debug took effect",
          );
        },
      );

      await t.step(
        "a source with sync and no target mirrors nothing and gets a warning Event, not an error",
        async () => {
          await h.apply(CM("default"), {
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: {
              name: "no-targets",
              namespace: "default",
              labels: { [`${P}enabled`]: "true" },
              annotations: { [`${P}sync`]: "true" },
            },
            data: { a: "1" },
          });
          await eventually(async () => {
            const events = await h.events("default", "no-targets");
            const e = events.find((x) => x.reason === "NoTargets");
            assert.ok(e, JSON.stringify(events));
            assert.equal(e.type, "Warning");
            assert.match(e.message, /nothing is mirrored: no target namespaces/);
            const src = await h.get(CM("default", "no-targets"));
            assert.equal(src.metadata.annotations[`${P}sync-status`], "reconciled:0,errors:0");
          });
        },
      );

      await t.step("an unknown transform-strict value means not strict, and says so", async () => {
        await h.apply(CM("default"), {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: {
            name: "odd-strict",
            namespace: "default",
            labels: { [`${P}enabled`]: "true" },
            annotations: {
              [`${P}sync`]: "true",
              [`${P}target-namespaces`]: "dev-2",
              [`${P}transform-strict`]: "yes",
              [`${P}transform`]:
                "rules:\n  - path: data.a\n    value: changed\n  - path: data.list[3]\n    value: x\n",
            },
          },
          data: { a: "1" },
        });
        await eventually(async () => {
          // Not strict: the good rule applies although the other fails.
          assert.equal((await h.get(CM("dev-2", "odd-strict"))).data.a, "changed");
          const events = await h.events("default", "odd-strict");
          const e = events.find((x) => x.reason === "StrictValueNotUnderstood");
          assert.ok(e, JSON.stringify(events));
          assert.match(
            e.message,
            /"yes" is not one of "true", "1", "false", "0": transformations are not strict/,
          );
        });
      });
      await ctl.stop();
    } finally {
      await h.stop();
    }
  },
});

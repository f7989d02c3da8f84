/**
 * What a platform team installs and watches: the Helm chart (lint, several value sets applied with a
 * server-side dry run, installed, its RBAC used for real), deploy/, the Dockerfile's permissions, and
 * monitoring (promtool checks and tests, a real Prometheus scraping the controller).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parse, parseAllDocuments } from "yaml";
import { renderDeploy } from "../tools/render_deploy.ts";
import { entrypoint, RUNTIME_ENV, runtimeFlags } from "../tools/image.ts";
import { freePort } from "../tools/testcluster/cluster.ts";
import { isStatus } from "../shell/kube/client.ts";
import { KubeApi } from "../shell/kube/kube_api.ts";
import { loadKubeConfig } from "../shell/kube/kube_config.ts";
import { SYSTEM_CA_BUNDLES } from "../shell/kube/system_ca.ts";
import type { KubeObject } from "../core/types.ts";
import { CM, eventually, Harness, ROOT, run, SECRET, sleep, source } from "./harness.ts";

const P = "kubemirror.raczylo.com/";
const CHART = join(ROOT, "charts/kubemirror");
const NS = "kubemirror-system";

/** Every key of the earlier chart, set on the command line as a migrating user would. */
const SEED_SETS = [
  "replicaCount=1",
  "image.repository=ghcr.io/lukaszraczylo/kubemirror",
  "image.pullPolicy=IfNotPresent",
  "image.tag=0.1.0",
  "imagePullSecrets[0].name=regcred",
  "nameOverride=seed",
  "fullnameOverride=seed-full",
  "serviceAccount.create=true",
  "serviceAccount.annotations.team=platform",
  "serviceAccount.name=seed-sa",
  "podAnnotations.prometheus\\.io/path=/metrics",
  "podSecurityContext.runAsNonRoot=true",
  "podSecurityContext.runAsUser=65532",
  "podSecurityContext.fsGroup=65532",
  "podSecurityContext.seccompProfile.type=RuntimeDefault",
  "securityContext.allowPrivilegeEscalation=false",
  "securityContext.readOnlyRootFilesystem=true",
  "securityContext.runAsNonRoot=true",
  "securityContext.capabilities.drop={ALL}",
  "controller.metricsBindAddress=:8080",
  "controller.healthProbeBindAddress=:8081",
  "controller.leaderElect=true",
  "controller.leaderElectionID=seed-leader",
  "controller.resourceTypes={Secret.v1,ConfigMap.v1}",
  "controller.discoveryInterval=5m",
  "controller.resyncPeriod=10m",
  "controller.maxTargets=42",
  "controller.workerThreads=5",
  "controller.rateLimitQPS=50.0",
  "controller.rateLimitBurst=100",
  "controller.verifySourceFreshness=false",
  "controller.lazyWatcherInit=true",
  "controller.watcherScanInterval=5m",
  "controller.excludedNamespaces=legacy",
  "controller.includedNamespaces=",
  "service.type=NodePort",
  "service.metricsPort=9090",
  "service.healthPort=9091",
  "resources.limits.cpu=500m",
  "resources.limits.memory=512Mi",
  "resources.requests.cpu=100m",
  "resources.requests.memory=128Mi",
  "nodeSelector.kubernetes\\.io/os=linux",
  "tolerations[0].operator=Exists",
  "affinity.nodeAffinity=null",
  "priorityClassName=system-cluster-critical",
];

Deno.test({
  name: "ship it: chart, deploy/, image, monitoring",
  ignore: Deno.env.get("KUBEMIRROR_TEST_KUBECONFIG") !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const h = await Harness.start();
    const helm = h.cluster.binaries!.helm;
    const kubeconfig = h.cluster.kubeconfigPath("admin");
    const helmRelease = (verb: "install" | "upgrade", ...extra: string[]) =>
      h.helmRelease(verb, NS, ...extra);
    try {
      await h.createNamespace(NS, { [`${P}allow-mirrors`]: "false" });
      await h.applyFile(join(ROOT, "testdata/crds/servicemonitor.yaml"));
      await h.waitServed("monitoring.coreos.com/v1", "ServiceMonitor");

      await t.step("helm lint", async () => {
        const r = await run(helm, ["lint", "--strict", CHART]);
        assert.equal(r.code, 0, r.out + r.err);
      });

      const valueSets: Record<string, string[]> = {
        defaults: [],
        "narrowed resource types": [
          "--set",
          "controller.resourceTypes={Secret.v1,ConfigMap.v1,Ingress.v1.networking.k8s.io}",
        ],
        "service monitor": ["--set", "metrics.serviceMonitor.enabled=true"],
        "development (seed README)": [
          "--set",
          "controller.leaderElect=false",
          "--set",
          "replicaCount=1",
          "--set",
          "controller.maxTargets=20",
          "--set",
          "controller.workerThreads=2",
          "--set",
          "controller.rateLimitQPS=10.0",
          "--set",
          "controller.discoveryInterval=1m",
        ],
        "the earlier chart's values file": ["-f", join(ROOT, "testdata/seed-values.yaml")],
        "the earlier chart's keys, each with --set": SEED_SETS.flatMap((kv) => ["--set", kv]),
        "an older server (no ValidatingAdmissionPolicy)": ["--kube-version", "1.29.0"],
        "multi-tenant (seed README)": [
          "--set",
          "controller.maxTargets=50",
          "--set",
          "controller.excludedNamespaces=kube-system\\,kube-public\\,kubemirror-system",
          "--set",
          "controller.resourceTypes={Secret.v1,ConfigMap.v1}",
          "--set",
          "controller.requireNamespaceOptIn=true",
        ],
      };
      for (const [name, args] of Object.entries(valueSets)) {
        await t.step(`helm template (${name}) applies with a server-side dry run`, async () => {
          const r = await run(helm, [
            "template",
            "kubemirror",
            CHART,
            "-n",
            NS,
            "--kubeconfig",
            kubeconfig,
            ...(args.includes("--kube-version") ? [] : ["--kube-version", "1.36.3"]),
            ...args,
          ]);
          assert.equal(r.code, 0, r.err);
          const objects = parseAllDocuments(r.out).map((d) => d.toJS() as KubeObject).filter(Boolean);
          assert.ok(objects.some((o) => o.kind === "Deployment"));
          for (const o of objects) {
            const path = (await h.pathFor(o)).replace(`/namespaces/default/`, `/namespaces/${NS}/`);
            await h.api.request("POST", path, { body: o, query: { dryRun: "All" } });
          }
          const policy = objects.some((o) => o.kind === "ValidatingAdmissionPolicy");
          assert.equal(
            policy,
            !name.includes("older server"),
            "the admission policy only from Kubernetes 1.30",
          );
          if (name.startsWith("the earlier chart's")) {
            const deploy = objects.find((o) => o.kind === "Deployment") as any;
            const pod = deploy.spec.template;
            const args: string[] = pod.spec.containers[0].args;
            const service = objects.find((o) => o.kind === "Service") as any;
            const seedSet = name.includes("--set");
            assert.ok(
              args.includes(
                `--leader-election-id=${seedSet ? "seed-leader" : "kubemirror-controller-leader"}`,
              ),
            );
            assert.equal(
              pod.metadata.annotations[seedSet ? "prometheus.io/path" : "prometheus.io/scrape"],
              seedSet ? "/metrics" : "true",
            );
            assert.deepEqual(
              service.spec.ports.map((p: any) => [p.name, p.port]),
              [["metrics", seedSet ? 9090 : 8080], ["health", seedSet ? 9091 : 8081]],
            );
            assert.equal(service.spec.type, seedSet ? "NodePort" : "ClusterIP");
            if (seedSet) {
              assert.equal(deploy.metadata.name, "seed-full");
              assert.equal(pod.spec.priorityClassName, "system-cluster-critical");
              assert.ok(args.includes("--max-targets=42"));
            }
          }
          if (name === "narrowed resource types") {
            // The controller's ClusterRole holds the chart's rules; the aggregated one only kinds added later.
            const pieces = objects.filter((o) => o.kind === "ClusterRole") as any[];
            assert.deepEqual(
              pieces.filter((o) => o.aggregationRule).map((o) => [o.metadata.name, o.rules]),
              [["kubemirror-added-kinds", []]],
            );
            assert.ok(
              !pieces.some((o) => o.metadata?.labels?.[`${P}aggregate-to-controller`]),
              "no piece in the release",
            );
            const resources = pieces.flatMap((p) => p.rules.flatMap((r: any) => r.resources));
            assert.ok(!resources.includes("*"), "no wildcard when resource types are named");
            assert.deepEqual(
              resources.filter((r: string) =>
                !["namespaces", "customresourcedefinitions", "events"].includes(r)
              ),
              [
                "secrets",
                "configmaps",
                "ingresses",
              ],
            );
          }
        });
      }

      await t.step(
        "deploy/ is the chart's default rendering and applies with a server-side dry run",
        async () => {
          const rendered = await renderDeploy(helm);
          for (const [file, text] of Object.entries(rendered)) {
            assert.equal(
              await Deno.readTextFile(join(ROOT, "deploy", file)),
              text,
              `deploy/${file} is stale: deno task deploy:render`,
            );
          }
          const kustomization = parse(await Deno.readTextFile(join(ROOT, "deploy/kustomization.yaml")));
          for (const file of kustomization.resources as string[]) {
            for (const d of parseAllDocuments(await Deno.readTextFile(join(ROOT, "deploy", file)))) {
              const o = d.toJS() as KubeObject;
              if (!o || o.kind === "Namespace") continue;
              await h.api.request(
                "POST",
                (await h.pathFor(o)).replace("/namespaces/default/", `/namespaces/${NS}/`),
                {
                  body: o,
                  query: { dryRun: "All" },
                },
              );
            }
          }
        },
      );

      await t.step(
        "the Dockerfile's build script bundles and compiles with the controller's permissions; the bundle runs",
        async () => {
          const docker = await Deno.readTextFile(join(ROOT, "Dockerfile"));
          assert.match(
            docker,
            /^RUN sh tools\/build_binary\.sh \/out\/kubemirror$/m,
            "the Dockerfile runs the script",
          );
          assert.match(docker, /^FROM gcr\.io\/distroless\/[^\n]*nonroot/m);
          assert.match(docker, /^USER 65532/m);
          // The image built here (tools/image.ts) sets the same runtime environment as the Dockerfile.
          assert.deepEqual(
            [...docker.matchAll(/^ENV (\S+)$/gm)].map((m) => m[1]),
            [...RUNTIME_ENV],
            "the Dockerfile's ENV lines are the image's runtime environment",
          );
          // The flags compiled in come from the script itself; the image (tools/image.ts) starts with them too.
          const flags = await runtimeFlags();
          assert.deepEqual(flags.slice(0, 4), [
            "--no-prompt",
            "--no-code-cache",
            "--allow-net",
            "--allow-env",
          ]);
          assert.match(
            flags.join(" "),
            /--allow-read=\/var\/run\/secrets\/kubernetes.io\/serviceaccount,\/etc\/ssl\/certs\/ca-certificates.crt/,
          );
          assert.doesNotMatch(flags.join(" "), /--allow-(write|run|ffi|all|sys)|-A\b/);
          assert.equal(
            flags.find((f) => f.startsWith("--allow-read=")),
            `--allow-read=/var/run/secrets/kubernetes.io/serviceaccount,${SYSTEM_CA_BUNDLES.join(",")}`,
            "the binary may read the service-account files and every system CA bundle the client looks for",
          );
          assert.deepEqual(
            (await entrypoint()).slice(2, -1),
            flags,
            "the image starts with the binary's flags",
          );
          const run = await Deno.readTextFile(join(ROOT, "tools/run.sh"));
          assert.match(
            run,
            /--allow-net --allow-env --allow-read=/,
            "deno task start runs with the same permissions",
          );
          assert.match(run, /shell\/kube\/system_ca\.ts/, "deno task start reads the same CA list");
          // The same script, with the local deno standing in for the runtime download (out of reach here).
          const dir = await Deno.makeTempDir();
          try {
            const built = await new Deno.Command("sh", {
              args: [join(ROOT, "tools/build_binary.sh"), join(dir, "kubemirror")],
              env: { DENORT_BIN: Deno.execPath(), NO_COLOR: "1" },
              stdout: "piped",
              stderr: "piped",
            }).output();
            assert.equal(built.code, 0, new TextDecoder().decode(built.stderr));
            assert.ok((await Deno.stat(join(dir, "kubemirror"))).size > 10 * 2 ** 20, "a binary is written");
            // The bundle it compiles runs, under the same permissions.
            const bundle = join(dir, "kubemirror.js");
            const b = await new Deno.Command(Deno.execPath(), {
              args: ["bundle", "--frozen", "--minify", "--platform=deno", "-o", bundle, join(ROOT, "mod.ts")],
              stdout: "null",
              stderr: "piped",
            }).output();
            assert.equal(b.code, 0, new TextDecoder().decode(b.stderr));
            const planned = await new Deno.Command(Deno.execPath(), {
              args: [
                "run",
                "--no-prompt",
                "--allow-net",
                "--allow-env",
                `--allow-read=${join(ROOT, "examples")}`,
                bundle,
                "plan",
                "-f",
                join(ROOT, "examples/namespaces.yaml"),
                "-f",
                join(ROOT, "examples/secret-specific-namespaces.yaml"),
                "-o",
                "table",
              ],
              env: { NO_COLOR: "1" },
              stdout: "piped",
              stderr: "piped",
            }).output();
            assert.equal(planned.code, 0, new TextDecoder().decode(planned.stderr));
            assert.match(
              new TextDecoder().decode(planned.stdout),
              /create\s+Secret\s+default\/database-credentials/,
            );
          } finally {
            await Deno.remove(dir, { recursive: true });
          }
        },
      );

      let saKubeconfig = "";
      let ctlPort = 0;
      await t.step(
        "helm install; the controller runs with the chart's ServiceAccount token and mirrors",
        async () => {
          const r = await helmRelease("install");
          assert.equal(r.code, 0, r.err);
          assert.match(r.out, /STATUS: deployed/);
          assert.match(r.out, /sync-status/, "NOTES.txt tells how to check a source");
          saKubeconfig = await h.serviceAccountKubeconfig(NS, "kubemirror");
          for (const ns of ["team-1", "team-2"]) await h.createNamespace(ns);
          const ctl = await h.startController([
            `--kubeconfig=${saKubeconfig}`,
            "--leader-elect=true",
            `--leader-election-namespace=${NS}`,
          ]);
          ctlPort = ctl.metricsPort;
          await h.apply(
            CM("default"),
            source("ConfigMap", "default", "via-chart", { [`${P}target-namespaces`]: "team-*" }, {
              data: { a: "1" },
            }),
          );
          await eventually(async () => {
            assert.ok(await h.find(CM("team-1", "via-chart")));
            assert.ok(await h.find(CM("team-2", "via-chart")));
          });
          const lease = await h.get(
            `/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/kubemirror-controller-leader`,
          );
          assert.match(lease.spec.holderIdentity, /_/);
        },
      );

      await t.step(
        "helm upgrade -f the earlier chart's values file: accepted, NOTES say which keys do nothing",
        async () => {
          const r = await helmRelease("upgrade", "-f", join(ROOT, "testdata/seed-values.yaml"));
          assert.equal(r.code, 0, r.err);
          assert.match(
            r.out,
            /lazyWatcherInit and controller.watcherScanInterval are accepted .* do nothing/s,
          );
          const deploy = await h.get(`/apis/apps/v1/namespaces/${NS}/deployments/kubemirror`);
          assert.ok(
            deploy.spec.template.spec.containers[0].args.includes(
              "--leader-election-id=kubemirror-controller-leader",
            ),
          );
        },
      );

      await t.step("helm install with every key of the earlier chart set on the command line", async () => {
        await h.createNamespace("seed-system");
        const base = ["-n", "seed-system", "--kubeconfig", kubeconfig, "--no-hooks"];
        const r = await run(helm, [
          "install",
          "seed",
          CHART,
          ...base,
          ...SEED_SETS.flatMap((kv) => ["--set", kv]),
        ]);
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /lazyWatcherInit and controller.watcherScanInterval are accepted .* do nothing/s);
        const deploy = await h.get("/apis/apps/v1/namespaces/seed-system/deployments/seed-full");
        const args: string[] = deploy.spec.template.spec.containers[0].args;
        assert.ok(args.includes("--leader-election-id=seed-leader"));
        assert.ok(args.includes("--max-targets=42"));
        assert.equal(deploy.spec.template.spec.serviceAccountName, "seed-sa");
        const svc = await h.get("/api/v1/namespaces/seed-system/services/seed-full");
        assert.equal(svc.spec.type, "NodePort");
        const u = await run(helm, ["uninstall", "seed", ...base]);
        assert.equal(u.code, 0, u.err);
        await eventually(async () =>
          assert.equal(await h.find("/apis/apps/v1/namespaces/seed-system/deployments/seed-full"), undefined)
        );
      });

      await t.step("a real Prometheus scrapes the controller and loads the rules", async () => {
        const dir = await Deno.makeTempDir();
        const port = freePort();
        await Deno.copyFile(
          join(ROOT, "monitoring/rules/kubemirror.rules.yaml"),
          join(dir, "kubemirror.rules.yaml"),
        );
        await Deno.writeTextFile(
          join(dir, "prometheus.yml"),
          `global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: [kubemirror.rules.yaml]
scrape_configs:
  - job_name: kubemirror
    static_configs:
      - targets: ["127.0.0.1:${ctlPort}"]
`,
        );
        const prom = new Deno.Command("prometheus", {
          args: [
            `--config.file=${join(dir, "prometheus.yml")}`,
            `--storage.tsdb.path=${join(dir, "data")}`,
            `--web.listen-address=127.0.0.1:${port}`,
          ],
          stdout: "null",
          stderr: "null",
        }).spawn();
        try {
          const query = async (q: string) => {
            const res = await fetch(`http://127.0.0.1:${port}/api/v1/query?query=${encodeURIComponent(q)}`);
            return (await res.json()).data.result as {
              metric: Record<string, string>;
              value: [number, string];
            }[];
          };
          const result = await eventually(
            async () => {
              const r = await query("kubemirror_reconcile_total");
              assert.ok(r.length > 0, "no kubemirror_reconcile_total yet");
              return r;
            },
            60_000,
            500,
          );
          assert.ok(result.some((s) => s.metric.controller === "configmap" && s.metric.job === "kubemirror"));
          await eventually(
            async () => assert.equal((await query('up{job="kubemirror"}'))[0]?.value[1], "1"),
            30_000,
            500,
          );
          const rules = await (await fetch(`http://127.0.0.1:${port}/api/v1/rules`)).json();
          const names = rules.data.groups.flatMap((g: any) => g.rules.map((r: any) => r.name));
          assert.ok(
            names.includes("KubeMirrorWatchStalled") &&
              names.includes("kubemirror:reconcile_errors:ratio_rate5m"),
          );
          await eventually(
            async () => {
              const down = await query('ALERTS{alertname="KubeMirrorDown"}');
              assert.equal(down.length, 0, "KubeMirrorDown does not fire while the controller is up");
              assert.ok(
                (await query("kubemirror:api_requests:rate5m")).length > 0,
                "recording rules evaluate",
              );
            },
            30_000,
            1000,
          );
        } finally {
          prom.kill("SIGTERM");
          await prom.status;
          await Deno.remove(dir, { recursive: true });
        }
      });

      await t.step(
        "with narrowed controller.resourceTypes the chart's RBAC forbids other kinds",
        async () => {
          for (const c of h.controllers) await c.stop();
          const r = await helmRelease("upgrade", "--set", "controller.resourceTypes={Secret.v1}");
          assert.equal(r.code, 0, r.err);
          const sa = new KubeApi(loadKubeConfig(saKubeconfig), { qps: 50, burst: 50 });
          await assert.rejects(sa.get("/api/v1/configmaps"), (e) => isStatus(e, 403));
          await assert.rejects(
            sa.request("POST", CM("team-1"), { body: { metadata: { name: "nope" }, data: {} } }),
            (e) => isStatus(e, 403),
          );
          await h.startController([
            `--kubeconfig=${saKubeconfig}`,
            "--leader-elect=true",
            `--leader-election-namespace=${NS}`,
            "--resource-types=Secret.v1",
          ]);
          await h.apply(
            SECRET("default"),
            source("Secret", "default", "narrow", { [`${P}target-namespaces`]: "team-1" }, {
              data: { k: btoa("v") },
            }),
          );
          await eventually(async () => assert.ok(await h.find(SECRET("team-1", "narrow"))), 40_000);
          await sleep(100);
        },
      );

      await t.step("promtool checks the rules and runs a test for every alert", async () => {
        const rulesDir = join(ROOT, "monitoring/rules");
        const check = await run("promtool", ["check", "rules", "kubemirror.rules.yaml"], rulesDir);
        assert.equal(check.code, 0, check.out + check.err);
        const test = await run("promtool", ["test", "rules", "kubemirror.rules.test.yaml"], rulesDir);
        assert.equal(test.code, 0, test.out + test.err);
        const rules = parse(await Deno.readTextFile(join(rulesDir, "kubemirror.rules.yaml")));
        const tests = await Deno.readTextFile(join(rulesDir, "kubemirror.rules.test.yaml"));
        const alerts = rules.groups.flatMap((g: any) =>
          g.rules.filter((r: any) => r.alert).map((r: any) => r.alert)
        );
        for (const a of alerts) {
          assert.match(tests, new RegExp(`alertname: ${a}\\b`), `no promtool test for ${a}`);
        }
        const operator = parse(await Deno.readTextFile(join(ROOT, "monitoring/prometheusrule.yaml")));
        assert.deepEqual(
          operator.spec.groups,
          rules.groups,
          "prometheusrule.yaml and the rule file hold the same rules",
        );
      });

      await t.step("every metric the rules and the dashboard use is one the controller exports", async () => {
        const text = await (await fetch(`http://127.0.0.1:${h.controllers.at(-1)!.metricsPort}/metrics`))
          .text();
        const exported = new Set(
          [...text.matchAll(/^# TYPE (\S+) (\w+)/gm)].flatMap((m) =>
            m[2] === "histogram" ? [m[1], `${m[1]}_bucket`, `${m[1]}_sum`, `${m[1]}_count`] : [m[1]]
          ),
        );
        const rules = parse(await Deno.readTextFile(join(ROOT, "monitoring/rules/kubemirror.rules.yaml")));
        const recorded = new Set(
          rules.groups.flatMap((g: any) => g.rules.filter((r: any) => r.record).map((r: any) => r.record)),
        );
        const dashboard = JSON.parse(
          await Deno.readTextFile(join(ROOT, "monitoring/grafana-dashboard.json")),
        );
        const exprs = [
          ...rules.groups.flatMap((g: any) => g.rules.map((r: any) => r.expr as string)),
          ...dashboard.panels.flatMap((p: any) => p.targets.map((t: any) => t.expr as string)),
        ];
        const used = new Set(
          exprs.flatMap((e) =>
            [...e.matchAll(/\b((?:kubemirror[_:]|workqueue_)[a-z_:0-9]*)/g)].map((m) => m[1])
          ),
        );
        for (const name of used) {
          assert.ok(exported.has(name) || recorded.has(name), `${name} is neither exported nor recorded`);
        }
      });
    } finally {
      await h.stop();
    }
  },
});

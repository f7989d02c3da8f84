/**
 * Kinds beyond ConfigMaps and Secrets, a CRD installed while the controller runs, every example under
 * examples/ applied and checked against the plan, and --source-namespaces.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { runPlan } from "../shell/plan/plan_command.ts";
import { CM, eventually, Harness, ROOT, SECRET, sleep, source } from "./harness.ts";

const P = "kubemirror.raczylo.com/";

Deno.test({
  name: "kinds, new CRDs and the examples, end to end",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const h = await Harness.start();
    try {
      await h.applyFile(join(ROOT, "examples/namespaces.yaml"));
      await h.applyFile(join(ROOT, "testdata/crds/traefik-middleware.yaml"));
      await h.applyFile(join(ROOT, "testdata/crds/external-secrets.yaml"));
      await h.waitServed("traefik.io/v1alpha1", "Middleware");
      await h.waitServed("external-secrets.io/v1", "ExternalSecret");
      const ctl = await h.startController(["--leader-elect=false", "--resync-period=4s"]);

      await t.step("a Service is mirrored without the fields the API server allocates", async () => {
        await h.apply("/api/v1/namespaces/default/services", {
          apiVersion: "v1",
          kind: "Service",
          metadata: {
            name: "web",
            namespace: "default",
            labels: { [`${P}enabled`]: "true" },
            annotations: { [`${P}sync`]: "true", [`${P}target-namespaces`]: "app1" },
          },
          spec: { type: "NodePort", selector: { app: "web" }, ports: [{ port: 80, targetPort: 8080 }] },
        });
        const src = await h.get("/api/v1/namespaces/default/services/web");
        const mirror = await eventually(async () => await h.get("/api/v1/namespaces/app1/services/web"));
        assert.notEqual(mirror.spec.clusterIP, src.spec.clusterIP, "the mirror got its own cluster IP");
        assert.notEqual(mirror.spec.ports[0].nodePort, src.spec.ports[0].nodePort, "and its own node port");
        assert.equal(mirror.spec.ports[0].targetPort, 8080);
        const rv = mirror.metadata.resourceVersion;
        await sleep(5000);
        assert.equal(
          (await h.get("/api/v1/namespaces/app1/services/web")).metadata.resourceVersion,
          rv,
          "defaults are not drift",
        );
      });

      await t.step("an Ingress is mirrored", async () => {
        await h.apply("/apis/networking.k8s.io/v1/namespaces/default/ingresses", {
          apiVersion: "networking.k8s.io/v1",
          kind: "Ingress",
          metadata: {
            name: "site",
            namespace: "default",
            labels: { [`${P}enabled`]: "true" },
            annotations: { [`${P}sync`]: "true", [`${P}target-namespaces`]: "app2" },
          },
          spec: {
            rules: [{
              host: "example.com",
              http: {
                paths: [{
                  path: "/",
                  pathType: "Prefix",
                  backend: { service: { name: "web", port: { number: 80 } } },
                }],
              },
            }],
          },
        });
        const m = await eventually(async () =>
          await h.get("/apis/networking.k8s.io/v1/namespaces/app2/ingresses/site")
        );
        assert.equal(m.spec.rules[0].host, "example.com");
      });

      await t.step(
        "a CRD installed after the controller started is picked up without a restart",
        async () => {
          await h.applyFile(join(ROOT, "testdata/crds/widget.yaml"));
          await h.waitServed("example.com/v1", "Widget");
          await h.apply("/apis/example.com/v1/namespaces/default/widgets", {
            apiVersion: "example.com/v1",
            kind: "Widget",
            metadata: {
              name: "gear",
              namespace: "default",
              labels: { [`${P}enabled`]: "true" },
              annotations: { [`${P}sync`]: "true", [`${P}target-namespaces`]: "app1,app2" },
            },
            spec: { size: 3 },
          });
          const m = await eventually(
            async () => await h.get("/apis/example.com/v1/namespaces/app2/widgets/gear"),
            45_000,
          );
          assert.equal(m.spec.size, 3);
          assert.equal(m.spec.color, "blue", "the CRD's default");
          const rv = m.metadata.resourceVersion;
          await sleep(5000);
          assert.equal(
            (await h.get("/apis/example.com/v1/namespaces/app2/widgets/gear")).metadata.resourceVersion,
            rv,
          );
        },
      );

      await t.step("a CRD deleted while the controller runs: its watches stop", async () => {
        const watched = async () => Number(/^kubemirror_watched_kinds (\d+)/m.exec(await ctl.metrics())![1]);
        const before = await watched();
        await h.remove("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com");
        await eventually(async () => assert.equal(await watched(), before - 1), 45_000, 500);
        await eventually(async () => assert.match(await ctl.logs(), /stopped watching kind.*Widget/));
      });

      await t.step("every example under examples/ is mirrored as the plan says", async () => {
        const files = [...Deno.readDirSync(join(ROOT, "examples"))].map((e) => e.name).filter((n) =>
          n.endsWith(".yaml")
        ).sort();
        for (const f of files) await h.applyFile(join(ROOT, "examples", f));
        // What the External Secrets Operator would make from the ExternalSecret's template.
        await h.apply(SECRET("default"), {
          apiVersion: "v1",
          kind: "Secret",
          metadata: {
            name: "multi-registry-secret",
            namespace: "default",
            labels: { [`${P}enabled`]: "true" },
            annotations: { [`${P}sync`]: "true", [`${P}target-namespaces`]: "all" },
            ownerReferences: [{
              apiVersion: "external-secrets.io/v1",
              kind: "ExternalSecret",
              name: "1p-docker-config",
              uid: (await h.get(
                "/apis/external-secrets.io/v1/namespaces/default/externalsecrets/1p-docker-config",
              )).metadata.uid,
              controller: true,
            }],
          },
          type: "kubernetes.io/dockerconfigjson",
          data: { ".dockerconfigjson": btoa('{"auths":{"ghcr.io":{"username":"me","auth":"bWU6cHc="}}}') },
        });
        let out = "";
        const code = await runPlan(["-f", join(ROOT, "examples"), "-o", "json"], {
          write: (s) => (out += s),
        });
        // The seed's Deployment example runs code in its targets: mirrored only when its kind is named.
        assert.equal(code, 1);
        assert.deepEqual(JSON.parse(out).errors.map((e: any) => e.source.name), ["sample-app"]);
        const creates = (JSON.parse(out).actions as any[]).filter((a) => a.action === "create");
        assert.ok(creates.length > 20);
        for (const a of creates) {
          const path = (await h.pathFor(a.object)).replace(/\/$/, "");
          await eventually(async () => {
            const m = await h.get(`${path}/${a.target.name}`);
            for (const field of ["data", "spec"]) {
              if (a.object[field] === undefined) continue;
              const want = a.object.kind === "Service" ? a.object[field].ports : a.object[field];
              const got = a.object.kind === "Service" ? m[field].ports : m[field];
              assert.deepEqual(
                field === "spec" ? pick(got, want) : got,
                want,
                `${a.object.kind} ${a.target.namespace}/${a.target.name}`,
              );
            }
          }, 45_000);
        }
        // The pulling objects of the examples hold what the plan said they would (§9).
        const pulls = (JSON.parse(out).actions as any[]).filter((a) => a.action === "pull");
        assert.ok(pulls.length >= 1, "the examples show a pull");
        for (const a of pulls) {
          const path = (await h.pathFor(a.object)).replace(/\/$/, "");
          await eventually(async () => {
            const copy = await h.get(`${path}/${a.target.name}`);
            assert.deepEqual(copy.data, a.object.data, `${a.target.namespace}/${a.target.name}`);
            assert.equal(copy.metadata.annotations[`${P}sync-status`], "pulled");
          }, 45_000);
        }
        // The controller, in discovery mode, left the Deployment alone as the plan said.
        assert.equal(await h.find("/apis/apps/v1/namespaces/app1/deployments/sample-app"), undefined);
        const ns = (await h.get("/api/v1/namespaces")).items.map((n: any) => n.metadata.name);
        await eventually(async () => {
          for (const n of ns) {
            if (["default", "kube-system", "kube-public", "kube-node-lease", "legacy"].includes(n)) continue;
            const m = await h.get(SECRET(n, "multi-registry-secret"));
            assert.equal(m.type, "kubernetes.io/dockerconfigjson");
            assert.equal(m.metadata.ownerReferences, undefined, "ownerReferences are never copied");
          }
          assert.equal(
            await h.find(SECRET("legacy", "multi-registry-secret")),
            undefined,
            "legacy opted out",
          );
        });
      });

      await t.step("--source-namespaces: sources elsewhere are refused with an Event", async () => {
        assert.equal(await ctl.stop(), 0);
        await h.createNamespace("shared-config");
        await h.startController(["--leader-elect=false", "--source-namespaces=shared-*"]);
        await h.apply(
          CM("shared-config"),
          source("ConfigMap", "shared-config", "allowed", { [`${P}target-namespaces`]: "app1" }, {
            data: {},
          }),
        );
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "refused", { [`${P}target-namespaces`]: "app1" }, { data: {} }),
        );
        await eventually(async () => assert.ok(await h.find(CM("app1", "allowed"))));
        await eventually(async () => {
          const events = await h.events("default", "refused");
          assert.ok(
            events.some((e) => /not allowed to hold sources/.test(e.message)),
            JSON.stringify(events),
          );
        });
        assert.equal(await h.find(CM("app1", "refused")), undefined);
        assert.equal(
          await h.find(CM("app1", "global-config")),
          undefined,
          "existing mirrors of refused sources are removed",
        );
      });
    } finally {
      await h.stop();
    }
  },
});

/** The part of `got` that `want` names (the server adds defaults to specs). */
function pick(got: any, want: any): any {
  if (Array.isArray(want)) return Array.isArray(got) ? want.map((w, i) => pick(got[i], w)) : got;
  if (want && typeof want === "object") {
    if (!got || typeof got !== "object") return got;
    return Object.fromEntries(Object.keys(want).map((k) => [k, pick(got[k], want[k])]));
  }
  return got;
}

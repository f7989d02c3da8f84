/**
 * Secure by default, on a real API server with RBAC on: the chart's ServiceAccount holds no escalation
 * in the default rendering or any narrowed one (asked of the API server with SubjectAccessReviews); the
 * controller serves only the kinds it may, skipping the rest without a Forbidden loop, and picks up a
 * kind granted later through an aggregated ClusterRole; the admission policy lets a source target only
 * namespaces where its author may create the resource, tried as the unprivileged test user.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { isStatus } from "../shell/kube/client.ts";
import { KubeApi } from "../shell/kube/kube_api.ts";
import { loadKubeConfig } from "../shell/kube/kube_config.ts";
import type { KubeObject } from "../core/types.ts";
import { ESCALATIONS } from "./escalations.ts";
import { CM, type ControllerProcess, eventually, Harness, ROOT, run, SECRET, source } from "./harness.ts";

const P = "kubemirror.raczylo.com/";
const CHART = join(ROOT, "charts/kubemirror");
const NS = "kubemirror-system";
const SA_USER = `system:serviceaccount:${NS}:kubemirror`;
const MIDDLEWARES = "/apis/traefik.io/v1alpha1/namespaces";

Deno.test({
  name: "secure by default: least-privilege RBAC and author authorization",
  ignore: Deno.env.get("KUBEMIRROR_TEST_KUBECONFIG") !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const h = await Harness.start();
    const helm = h.cluster.binaries!.helm;
    const release = (verb: "install" | "upgrade", ...extra: string[]) => h.helmRelease(verb, NS, ...extra);
    const template = async (...extra: string[]) => {
      const r = await run(helm, [
        "template",
        "kubemirror",
        CHART,
        "-n",
        NS,
        "--kube-version",
        "1.36.3",
        ...extra,
      ]);
      assert.equal(r.code, 0, r.err);
      return parseAllDocuments(r.out).map((d) => d.toJS() as KubeObject).filter(Boolean);
    };
    const may = async (attrs: Record<string, string>) => {
      const review = await h.api.request<any>("POST", "/apis/authorization.k8s.io/v1/subjectaccessreviews", {
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: {
            user: SA_USER,
            groups: ["system:serviceaccounts", `system:serviceaccounts:${NS}`, "system:authenticated"],
            resourceAttributes: attrs,
          },
        },
      });
      return review.status.allowed === true;
    };
    const noEscalation = async (label: string) => {
      const allowed: string[] = [];
      for (const e of ESCALATIONS) if (await may(e.attrs)) allowed.push(e.what);
      assert.deepEqual(allowed, [], `${label}: the ServiceAccount may ${allowed.join(", ")}`);
    };
    const nobody = new KubeApi(loadKubeConfig(h.cluster.kubeconfigPath("nobody")), { qps: 50, burst: 50 });
    let ctl: ControllerProcess | undefined;
    try {
      await h.createNamespace(NS, { [`${P}allow-mirrors`]: "false" });
      for (const ns of ["team-a", "team-a2", "team-b"]) await h.createNamespace(ns);
      await h.applyFile(join(ROOT, "testdata/crds/traefik-middleware.yaml"));
      await h.waitServed("traefik.io/v1alpha1", "Middleware");

      await t.step(
        "no rendering grants a wildcard with write verbs; the broad switch is the only one",
        async () => {
          const renderings: Record<string, string[]> = {
            defaults: [],
            "named resource types": [
              "--set",
              "controller.resourceTypes={Secret.v1,Ingress.v1.networking.k8s.io}",
            ],
            "configmaps only": ["--set", "rbac.resourceTypes={ConfigMap.v1}"],
            "no admission policy": ["--set", "admissionPolicy.enabled=false"],
          };
          for (const [label, args] of Object.entries(renderings)) {
            for (const o of await template(...args)) {
              for (const rule of ((o as any).rules ?? []) as { resources?: string[]; verbs: string[] }[]) {
                const writes = rule.verbs.some((v) => !["get", "list", "watch"].includes(v));
                assert.ok(
                  !(writes && rule.resources?.includes("*")),
                  `${label}: ${o.kind} ${o.metadata?.name}`,
                );
              }
            }
          }
          const broad = await template("--set", "rbac.broadDiscovery=true");
          assert.ok(broad.some((o) => (o as any).rules?.some((r: any) => r.resources.includes("*"))));
        },
      );

      await t.step("helm install with default values: the ServiceAccount holds no escalation", async () => {
        const r = await release("install");
        assert.equal(r.code, 0, r.err);
        assert.match(r.out, /checked at admission/, "NOTES say sources are checked at admission");
        await eventually(async () => {
          assert.ok(await may({ verb: "create", resource: "secrets", namespace: "team-b" }));
          assert.ok(await may({ verb: "watch", resource: "configmaps" }));
        });
        await noEscalation("defaults");
        assert.ok(!(await may({ verb: "list", group: "traefik.io", resource: "middlewares" })));
        assert.ok(
          !(await may({ verb: "create", group: "apps", resource: "deployments", namespace: "team-b" })),
        );
        assert.ok(
          await may({
            verb: "update",
            group: "coordination.k8s.io",
            resource: "leases",
            namespace: NS,
            name: "kubemirror-controller-leader",
          }),
        );
        assert.ok(
          !(await may({
            verb: "update",
            group: "coordination.k8s.io",
            resource: "leases",
            namespace: NS,
            name: "another",
          })),
        );
      });

      let saKubeconfig = "";
      await t.step(
        "the controller with the chart's token mirrors Secrets and ConfigMaps, and skips Middlewares without a Forbidden loop",
        async () => {
          saKubeconfig = await h.serviceAccountKubeconfig(NS, "kubemirror");
          ctl = await h.startController([
            `--kubeconfig=${saKubeconfig}`,
            `--leader-election-namespace=${NS}`,
            "--discovery-interval=2s",
          ]);
          await eventually(async () => assert.ok(await ctl!.ready()), 30_000);
          await h.apply(
            SECRET("default"),
            source("Secret", "default", "creds", { [`${P}target-namespaces`]: "team-b" }, {
              data: { k: btoa("v") },
            }),
          );
          await h.apply(
            CM("default"),
            source("ConfigMap", "default", "cfg", { [`${P}target-namespaces`]: "team-b" }, {
              data: { a: "1" },
            }),
          );
          await h.applyFile(join(ROOT, "examples/traefik-middleware.yaml"));
          await eventually(async () => {
            assert.ok(await h.find(SECRET("team-b", "creds")));
            assert.ok(await h.find(CM("team-b", "cfg")));
          });
          await eventually(async () => {
            assert.match(
              await ctl!.logs(),
              /not watching Middleware\.v1alpha1\.traefik\.io: this ServiceAccount may not get, list, watch/,
            );
            assert.match(
              await ctl!.metrics(),
              /kubemirror_forbidden_kinds\{kind="Middleware.traefik.io",access="none"\} 1/,
            );
          });
        },
      );

      await t.step(
        "one labelled ClusterRole later, the custom resource is mirrored: no chart upgrade, no restart",
        async () => {
          await h.createNamespace("app-web");
          await h.applyFile(join(ROOT, "examples/rbac-custom-kind.yaml"));
          await eventually(
            async () => assert.ok(await h.find(`${MIDDLEWARES}/app-web/middlewares/compression`)),
            45_000,
          );
          const logs = await ctl!.logs();
          assert.equal(logs.match(/not watching Middleware/g)?.length, 1, "said once, not every discovery");
          assert.doesNotMatch(logs, /Forbidden|\b403\b/, "no request was refused");
          await noEscalation("with the custom kind");
        },
      );

      await t.step(
        "a ServiceAccount with rights on ConfigMaps only becomes ready and mirrors them, even when Secrets are named",
        async () => {
          await ctl!.stop();
          await h.remove("/apis/rbac.authorization.k8s.io/v1/clusterroles/kubemirror-middlewares.traefik.io");
          const r = await release("upgrade", "--set", "rbac.resourceTypes={ConfigMap.v1}");
          assert.equal(r.code, 0, r.err);
          await eventually(async () => assert.ok(!(await may({ verb: "list", resource: "secrets" }))));
          await noEscalation("configmaps only");
          ctl = await h.startController([
            `--kubeconfig=${saKubeconfig}`,
            `--leader-election-namespace=${NS}`,
            "--resource-types=ConfigMap.v1,Secret.v1",
          ]);
          await eventually(async () => assert.ok(await ctl!.ready()), 30_000);
          await h.apply(
            CM("default"),
            source("ConfigMap", "default", "only-cm", { [`${P}target-namespaces`]: "team-b" }, {
              data: { a: "1" },
            }),
          );
          await eventually(async () => assert.ok(await h.find(CM("team-b", "only-cm"))));
          const logs = await ctl.logs();
          assert.match(logs, /not watching Secret\.v1: this ServiceAccount may not get, list, watch/);
          assert.doesNotMatch(logs, /Forbidden|\b403\b/);
          await ctl.stop();
        },
      );

      await t.step(
        "narrowed to named kinds, the ServiceAccount holds exactly those and no escalation",
        async () => {
          const r = await release("upgrade", "--set", "controller.resourceTypes={Secret.v1}");
          assert.equal(r.code, 0, r.err);
          await eventually(async () => {
            assert.ok(await may({ verb: "create", resource: "secrets", namespace: "team-b" }));
            assert.ok(!(await may({ verb: "list", resource: "configmaps" })));
          });
          await noEscalation("named Secret.v1");
        },
      );

      await t.step("back to defaults; a source written before the policy existed keeps working", async () => {
        let r = await release("upgrade", "--set", "admissionPolicy.enabled=false");
        assert.equal(r.code, 0, r.err);
        for (const ns of ["team-a", "team-a2"]) {
          await h.apply(`/apis/rbac.authorization.k8s.io/v1/namespaces/${ns}/rolebindings`, {
            apiVersion: "rbac.authorization.k8s.io/v1",
            kind: "RoleBinding",
            metadata: { name: "nobody-edit", namespace: ns },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit" },
            subjects: [{ kind: "User", name: "nobody", apiGroup: "rbac.authorization.k8s.io" }],
          } as KubeObject);
        }
        // Without the policy nobody's source reaches team-b, where nobody may not write (once the API
        // server has seen the policy go).
        await eventually(async () =>
          await nobody.request("POST", CM("team-a"), {
            body: source("ConfigMap", "team-a", "before-policy", { [`${P}target-namespaces`]: "team-b" }, {
              data: { a: "1" },
            }),
          })
        );
        r = await release("upgrade");
        assert.equal(r.code, 0, r.err);
        await eventually(async () =>
          assert.ok(
            await h.find(
              "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings/kubemirror-source-authors",
            ),
          )
        );
        ctl = await h.startController([`--kubeconfig=${saKubeconfig}`, `--leader-election-namespace=${NS}`]);
        await eventually(async () => {
          assert.equal((await h.get(CM("team-b", "before-policy"))).data.a, "1");
          // The controller's own writes (finalizer, sync-status) pass the policy.
          const src = await h.get(CM("team-a", "before-policy"));
          assert.equal(src.metadata.annotations[`${P}sync-status`], "reconciled:1,errors:0");
          assert.ok(src.metadata.finalizers.includes(`${P}finalizer`));
        }, 30_000);
        // An admin's edit passes and is mirrored.
        await h.patch(CM("team-a", "before-policy"), { data: { a: "2" } });
        await eventually(async () => assert.equal((await h.get(CM("team-b", "before-policy"))).data.a, "2"));
      });

      await t.step("the unprivileged user may mirror only where it may write", async () => {
        const attempt = async (name: string, annotations: Record<string, string>) => {
          try {
            await nobody.request("POST", CM("team-a"), {
              body: source("ConfigMap", "team-a", name, annotations, { data: { a: "1" } }),
            });
            return "allowed";
          } catch (e) {
            assert.ok(isStatus(e, 403) || isStatus(e, 422), String(e));
            return (e as Error).message;
          }
        };
        assert.match(
          await attempt("to-b", { [`${P}target-namespaces`]: "team-b" }),
          /nobody may not create configmaps in namespace team-b/,
        );
        assert.match(
          await attempt("to-both", { [`${P}target-namespaces`]: "team-a2, team-b" }),
          /may not create configmaps in namespace team-b/,
        );
        for (const wide of ["team-*", "all", "all-labeled"]) {
          assert.match(
            await attempt(`wide-${wide.replace("*", "x")}`, { [`${P}target-namespaces`]: wide }),
            /may not create configmaps in all namespaces/,
          );
        }
        assert.match(
          await attempt("by-selector", { [`${P}target-namespace-selector`]: "team=b" }),
          /namespaces by label selector/,
        );
        assert.equal(await attempt("to-a2", { [`${P}target-namespaces`]: "team-a2" }), "allowed");
        await eventually(async () => assert.ok(await h.find(CM("team-a2", "to-a2"))));
        // Editing an admitted source to reach further is checked too.
        await assert.rejects(
          nobody.request("PATCH", CM("team-a", "to-a2"), {
            body: { metadata: { annotations: { [`${P}target-namespaces`]: "team-a2,team-b" } } },
            contentType: "application/merge-patch+json",
          }),
          /may not create configmaps in namespace team-b/,
        );
        // A plain labelled object that is not a source, and an admin's source to all, pass.
        await nobody.request("POST", CM("team-a"), {
          body: { metadata: { name: "plain", labels: { [`${P}enabled`]: "true" } } },
        });
        await h.apply(
          CM("team-a"),
          source("ConfigMap", "team-a", "admin-all", { [`${P}target-namespaces`]: "all" }, {
            data: { a: "1" },
          }),
        );
        await eventually(async () => assert.ok(await h.find(CM("team-b", "admin-all"))));
        await noEscalation("defaults, after use");
      });

      await t.step(
        "pull as the unprivileged user: where the source allows it, and nothing else",
        async () => {
          // An admin's source in team-b, where nobody may do nothing, lets team-a pull it; another lets only team-c.
          const pullOnly = (name: string, allowed: string) => ({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: {
              name,
              namespace: "team-b",
              labels: { [`${P}enabled`]: "true" },
              annotations: { [`${P}pull-allowed-namespaces`]: allowed },
            },
            data: { url: `https://${name}.example.com` },
          });
          await h.apply(CM("team-b"), pullOnly("shared-config", "team-a"));
          await h.apply(CM("team-b"), pullOnly("for-c-only", "team-c"));
          const pulling = (name: string, from: string, annotations: Record<string, string> = {}) => ({
            apiVersion: "v1",
            kind: "ConfigMap",
            metadata: {
              name,
              namespace: "team-a",
              labels: { [`${P}enabled`]: "true" },
              annotations: { [`${P}pull-from`]: from, ...annotations },
            },
          });
          // The admission policy does not stand in the way of a pulling object: it has no sync.
          await nobody.request("POST", CM("team-a"), { body: pulling("my-config", "team-b/shared-config") });
          await nobody.request("POST", CM("team-a"), { body: pulling("not-mine", "team-b/for-c-only") });
          await eventually(async () => {
            const copy = await nobody.get<any>(CM("team-a", "my-config"));
            assert.equal(copy.data.url, "https://shared-config.example.com");
            assert.equal(copy.metadata.annotations[`${P}sync-status`], "pulled");
            const refused = await nobody.get<any>(CM("team-a", "not-mine"));
            assert.equal(refused.metadata.annotations[`${P}sync-status`], "error:PullNotAllowed");
            assert.equal(refused.data, undefined, "nothing of a source that does not allow team-a");
          });
          // A pulling object that also asks to be pushed is a source to the policy: still checked.
          await assert.rejects(
            nobody.request("POST", CM("team-a"), {
              body: pulling("sneaky", "team-b/shared-config", {
                [`${P}sync`]: "true",
                [`${P}target-namespaces`]: "team-b",
              }),
            }),
            /may not create configmaps in namespace team-b/,
          );
          // Nor can nobody put a pulling object where it may not write, or read the source itself.
          await assert.rejects(
            nobody.request("POST", CM("team-b"), {
              body: {
                ...pulling("x", "team-b/shared-config"),
                metadata: { ...pulling("x", "team-b/shared-config").metadata, namespace: "team-b" },
              },
            }),
            (e: unknown) => isStatus(e, 403),
          );
          await assert.rejects(nobody.get(CM("team-b", "shared-config")), (e: unknown) => isStatus(e, 403));
          // What nobody may do is what it could do before: asked of the API server.
          const nobodyMay = async (attrs: Record<string, string>) => {
            const review = await h.api.request<any>(
              "POST",
              "/apis/authorization.k8s.io/v1/subjectaccessreviews",
              {
                body: {
                  apiVersion: "authorization.k8s.io/v1",
                  kind: "SubjectAccessReview",
                  spec: { user: "nobody", groups: ["system:authenticated"], resourceAttributes: attrs },
                },
              },
            );
            return review.status.allowed === true;
          };
          for (const verb of ["get", "list", "create", "update", "patch"]) {
            for (const resource of ["configmaps", "secrets"]) {
              assert.ok(
                !(await nobodyMay({ verb, resource, namespace: "team-b" })),
                `nobody may not ${verb} ${resource} in team-b`,
              );
            }
          }
          assert.ok(
            await nobodyMay({ verb: "create", resource: "configmaps", namespace: "team-a" }),
            "its own namespace",
          );
        },
      );

      await t.step("without the policy (admissionPolicy.enabled=false) nothing else changes", async () => {
        const kinds = (objs: KubeObject[]) => objs.map((o) => `${o.kind}/${o.metadata?.name}`).sort();
        const on = await template();
        const off = await template("--set", "admissionPolicy.enabled=false");
        assert.deepEqual(
          kinds(on).filter((k) => !k.startsWith("ValidatingAdmissionPolicy")),
          kinds(off),
        );
        assert.deepEqual(
          on.filter((o) => !o.kind!.startsWith("ValidatingAdmissionPolicy")),
          off,
          "every other object is the same",
        );
        const r = await release("upgrade", "--set", "admissionPolicy.enabled=false");
        assert.equal(r.code, 0, r.err);
        await eventually(async () =>
          assert.equal(
            await h.find(
              "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies/kubemirror-source-authors",
            ),
            undefined,
          )
        );
        await eventually(async () =>
          await nobody.request("POST", CM("team-a"), {
            body: source("ConfigMap", "team-a", "no-policy", { [`${P}target-namespaces`]: "team-b" }, {
              data: { a: "1" },
            }),
          })
        );
        await ctl!.stop();
      });
    } finally {
      await h.stop();
    }
  },
});

/**
 * `kubectl mirror` through kubectl itself (built from the module the plane pins), against the real plane:
 * `kubectl plugin list` finds it; `status`, `why` and `into` answer every reason the plan knows, with
 * kubectl's conventions; as a user with no rights and as a viewer of one namespace it says what it could
 * not read, never a stack trace; it writes nothing.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import type { KubeObject } from "../core/types.ts";
import type { AuditEvent } from "../tools/testcluster/cluster.ts";
import { CM, eventually, Harness, ROOT, SECRET, source } from "./harness.ts";

const P = "kubemirror.raczylo.com/";

/** Parses a table as kubectl prints it: rows of cells keyed by header. */
function rows(text: string): Record<string, string>[] {
  const lines = text.trimEnd().split("\n");
  const headers = lines[0].split(/\s{2,}/);
  return lines.slice(1).map((l) => Object.fromEntries(l.split(/\s{2,}/).map((c, i) => [headers[i], c])));
}

Deno.test({
  name: "kubectl mirror end to end",
  ignore: Deno.env.get("KUBEMIRROR_TEST_KUBECONFIG") !== undefined, // builds kubectl with the local plane
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const h = await Harness.start();
    try {
      const kubectlBin = h.cluster.binaries!.kubectl;
      const kubectl = async (args: string[], user: "admin" | "nobody" = "admin") => {
        const out = await new Deno.Command(kubectlBin, {
          args,
          env: {
            PATH: `${join(ROOT, "tools")}:${Deno.env.get("PATH")}`,
            KUBECONFIG: h.cluster.kubeconfigPath(user),
            DENO: Deno.execPath(),
            NO_COLOR: "",
          },
          stdout: "piped",
          stderr: "piped",
        }).output();
        return {
          code: out.code,
          out: new TextDecoder().decode(out.stdout),
          err: new TextDecoder().decode(out.stderr),
        };
      };
      const mirror = (args: string[], user: "admin" | "nobody" = "admin") =>
        kubectl(["mirror", ...args, "--excluded-namespaces=legacy"], user);

      for (const ns of ["platform", "team-a", "team-b", "opted-out", "legacy", "labelled", "app-1"]) {
        await h.createNamespace(
          ns,
          ns === "opted-out"
            ? { [`${P}allow-mirrors`]: "false" }
            : ns === "labelled"
            ? { [`${P}allow-mirrors`]: "true" }
            : {},
        );
      }
      // A namespace held in Terminating by a finalizer of an object in it.
      await h.createNamespace("dying");
      await h.apply(CM("dying"), {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "hold", finalizers: ["example.com/hold"] },
      });
      await h.remove("/api/v1/namespaces/dying");
      const ctl = await h.startController([
        "--leader-elect=false",
        "--excluded-namespaces=legacy",
        "--resource-types=ConfigMap.v1,Secret.v1",
      ]);
      await h.apply(
        SECRET("platform"),
        source("Secret", "platform", "registry", {
          [`${P}target-namespaces`]: "team-*,opted-out,legacy,dying,platform,app-1",
          [`${P}max-targets`]: "2",
          [`${P}pull-allowed-namespaces`]: "app-1",
        }, { type: "Opaque", data: { token: btoa("s3cret") } }),
      );
      await h.apply(
        CM("team-b"),
        {
          apiVersion: "v1",
          kind: "ConfigMap",
          metadata: { name: "shared" },
          data: { mine: "x" },
        } as KubeObject,
      );
      await h.apply(
        CM("platform"),
        source("ConfigMap", "platform", "shared", { [`${P}target-namespaces`]: "team-a,team-b" }, {
          data: { a: "1" },
        }),
      );
      await h.apply(
        CM("platform"),
        source("ConfigMap", "platform", "optin", { [`${P}target-namespaces`]: "all-labeled" }, {
          data: { a: "1" },
        }),
      );
      await h.apply(
        CM("platform"),
        source("ConfigMap", "platform", "strict", {
          [`${P}target-namespaces`]: "team-a",
          [`${P}transform`]: 'rules:\n  - path: data.x\n    template: "{{ .Nope }}"\n',
          [`${P}transform-strict`]: "true",
        }, { data: { a: "1" } }),
      );
      await h.apply(SECRET("app-1"), {
        apiVersion: "v1",
        kind: "Secret",
        type: "Opaque",
        metadata: {
          name: "my-registry",
          labels: { [`${P}enabled`]: "true" },
          annotations: { [`${P}pull-from`]: "platform/registry" },
        },
      } as KubeObject);
      await eventually(async () => {
        assert.ok(await h.find(CM("team-a", "shared")));
        assert.ok(await h.find(CM("labelled", "optin")));
        assert.equal(
          (await h.get(SECRET("app-1", "my-registry"))).metadata.annotations[`${P}sync-status`],
          "pulled",
        );
      });

      await t.step(
        "kubectl plugin list finds it; --help shows examples; bad usage is exit 2 on stderr",
        async () => {
          const list = await kubectl(["plugin", "list"]);
          assert.match(list.out, /kubectl-mirror/);
          const help = await kubectl(["mirror", "--help"]);
          assert.equal(help.code, 0);
          assert.match(
            help.out,
            /Examples:[\s\S]*kubectl mirror why secret\/registry -n platform --to team-b/,
          );
          for (
            const bad of [["frobnicate"], ["why", "secret/registry"], ["status", "-o", "xml"], [
              "status",
              "-A",
              "-n",
              "x",
            ]]
          ) {
            const r = await kubectl(["mirror", ...bad]);
            assert.equal(r.code, 2, bad.join(" "));
            assert.match(r.err, /^error: /, bad.join(" "));
            assert.equal(r.out, "");
          }
        },
      );

      await t.step("why: one paragraph per reason; exit 0 when mirrored, 1 when not", async () => {
        const cases: [string, string, number, RegExp][] = [
          ["configmap/shared", "team-a", 0, /mirrored, and in sync/],
          [
            "configmap/shared",
            "team-b",
            1,
            /conflict: team-b\/shared exists and is not managed by KubeMirror; annotate it kubemirror\.raczylo\.com\/adopt=platform\/shared/,
          ],
          ["secret/registry", "team-b", 1, /cut by max-targets/],
          ["secret/registry", "opted-out", 1, /opted out/],
          ["secret/registry", "legacy", 1, /excluded by --excluded-namespaces/],
          ["secret/registry", "dying", 1, /terminating/],
          ["secret/registry", "platform", 1, /source namespace/],
          [
            "secret/registry",
            "kube-system",
            1,
            /not a target: target-namespaces "team-\*,opted-out,legacy,dying,platform,app-1" does not include kube-system/,
          ],
          ["configmap/optin", "team-a", 1, /has not opted in|not a target/],
          ["configmap/strict", "team-a", 1, /transform failed/],
          ["secret/my-registry", "app-1", 0, /app-1: mirrored, and in sync/],
        ];
        for (const [what, to, code, re] of cases) {
          const ns = what === "secret/my-registry" ? "app-1" : "platform";
          const r = await eventually(async () => {
            const r = await mirror(["why", what, "-n", ns, "--to", to]);
            assert.match(r.out, re, `${what} → ${to}: ${r.out}${r.err}`);
            return r;
          }, 20_000);
          assert.equal(r.code, code, `${what} → ${to}: ${r.out}`);
          assert.equal(r.out.trim().split("\n").length, 1, "one paragraph");
        }
        const json = await mirror([
          "why",
          "configmap/shared",
          "-n",
          "platform",
          "--to",
          "team-b",
          "-o",
          "json",
        ]);
        assert.deepEqual(
          (({ state, mirrored }) => ({ state, mirrored }))(JSON.parse(json.out)),
          { state: "conflict", mirrored: false },
        );
      });

      await t.step(
        "--kubeconfig, --context and the controller's flags on the command line are kubectl's",
        async () => {
          const path = h.cluster.kubeconfigPath("admin");
          const contexts = (await kubectl(["config", "get-contexts", "-o", "name", "--kubeconfig", path])).out
            .trim();
          const viaFlag = await kubectl(
            [
              "mirror",
              "why",
              "configmap/shared",
              "-n",
              "platform",
              "--to",
              "team-a",
              "--kubeconfig",
              path,
              "--context",
              contexts.split("\n")[0],
            ],
            "nobody",
          );
          assert.equal(viaFlag.code, 0, "--kubeconfig wins over KUBECONFIG (nobody's)");
          const bad = await kubectl(["mirror", "status", "--context", "no-such-context"]);
          assert.equal(bad.code, 1);
          assert.match(bad.err, /^error: context "no-such-context" does not exist/m);
          const included = await mirror([
            "why",
            "secret/registry",
            "-n",
            "platform",
            "--to",
            "app-1",
            "--included-namespaces=team-*",
          ]);
          assert.match(included.out, /outside --included-namespaces/);
          const optIn = await mirror([
            "why",
            "configmap/shared",
            "-n",
            "platform",
            "--to",
            "team-a",
            "--require-namespace-opt-in",
          ]);
          assert.match(optIn.out, /has not opted in/);
          assert.equal(optIn.code, 1);
        },
      );

      await t.step(
        "status: one row per source and pulling object, from the plan, with the last error",
        async () => {
          const r = await mirror(["status", "-A"]);
          assert.equal(r.code, 0, r.err);
          assert.ok(!r.out.includes("\x1b["), "no colour when not on a terminal");
          const table = rows(r.out);
          const row = (ns: string, name: string, kind: string) =>
            table.find((x) => x.NAMESPACE === ns && x.NAME === name && x.KIND === kind)!;
          assert.deepEqual(Object.keys(table[0]).slice(0, 4), ["NAMESPACE", "KIND", "NAME", "DIRECTION"]);
          const shared = row("platform", "shared", "ConfigMap");
          assert.equal(shared.TARGETS, "2");
          assert.equal(shared["IN-SYNC"], "1");
          assert.equal(shared.CONFLICTS, "1");
          assert.equal(shared["LAST-ERROR"], "Conflict");
          const registry = row("platform", "registry", "Secret");
          assert.equal(registry.CUT, "1");
          assert.equal(registry["LAST-ERROR"], "TargetsTruncated");
          assert.equal(row("app-1", "my-registry", "Secret").DIRECTION, "pull");
          const one = await mirror(["status", "configmap/shared", "-n", "platform", "--no-headers"]);
          assert.equal(one.out.trim().split("\n").length, 1);
          assert.match(one.out, /^ConfigMap\s+shared\s+push\s+2\s+1/);
          const wide = rows((await mirror(["status", "-n", "platform", "-o", "wide"])).out);
          assert.match(wide.find((x) => x.NAME === "shared")!.MESSAGE, /team-b\/shared exists/);
          const yaml = await mirror(["status", "-n", "platform", "-o", "yaml"]);
          assert.match(yaml.out, /^items:\n/);
        },
      );

      await t.step("into: what a namespace receives, from where, and what it refused", async () => {
        const r = await mirror(["into", "team-b"]);
        assert.equal(r.code, 0, r.err);
        const table = rows(r.out);
        assert.deepEqual(
          table.map((x) => `${x.KIND} ${x.FROM} ${x.STATE}`).sort(),
          ["ConfigMap platform/shared conflict", "Secret platform/registry skipped"],
        );
        const app = rows((await mirror(["into", "app-1", "-o", "wide"])).out);
        assert.ok(
          app.some((x) => x.NAME === "my-registry" && x.DIRECTION === "pull" && x.STATE === "in-sync"),
        );
      });

      await t.step(
        "as nobody: what it may not read is said in one line each, never a stack trace",
        async () => {
          const r = await mirror(["status", "-n", "team-a"], "nobody");
          assert.equal(r.code, 0);
          assert.match(r.err, /warning: you may not list namespaces/);
          assert.doesNotMatch(r.err, /\n\s+at |Error:|stack/i);
          assert.ok(r.err.trim().split("\n").length <= 5, r.err);
          const why = await mirror(["why", "configmap/shared", "-n", "platform", "--to", "team-a"], "nobody");
          assert.equal(why.code, 1);
          assert.match(
            why.err,
            /^error: configmap\/shared in namespace platform is not a source KubeMirror can see/m,
          );
        },
      );

      await t.step("as a viewer of one namespace: its sources, and a warning for the rest", async () => {
        await h.apply("/apis/rbac.authorization.k8s.io/v1/namespaces/platform/rolebindings", {
          apiVersion: "rbac.authorization.k8s.io/v1",
          kind: "RoleBinding",
          metadata: { name: "nobody-view", namespace: "platform" },
          roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "view" },
          subjects: [{ kind: "User", name: "nobody", apiGroup: "rbac.authorization.k8s.io" }],
        } as KubeObject);
        const r = await eventually(async () => {
          const r = await mirror(["status", "-n", "platform"], "nobody");
          assert.ok(rows(r.out).some((x) => x.NAME === "shared"), r.out + r.err);
          return r;
        });
        assert.match(r.err, /you may not list .*secrets.* in platform: what is there is unknown/);
        const why = await mirror(["why", "configmap/shared", "-n", "platform", "--to", "team-b"], "nobody");
        assert.match(why.out, /you may not read everything in team-b/);
      });

      await t.step(
        "the controller's flags and rights come from its Deployment: a kind it may not write is named",
        async () => {
          // The chart's shape, without a kubelet: a Deployment labelled as the chart labels it, its
          // ServiceAccount, and rights to read both kinds but write ConfigMaps only.
          await h.serviceAccountWithRole("kubemirror-system", "kubemirror", {
            rules: [
              {
                apiGroups: [""],
                resources: ["configmaps"],
                verbs: ["get", "list", "watch", "create", "update", "patch", "delete"],
              },
              { apiGroups: [""], resources: ["secrets"], verbs: ["get", "list", "watch"] },
            ],
          });
          await h.apply("/apis/apps/v1/namespaces/kubemirror-system/deployments", {
            apiVersion: "apps/v1",
            kind: "Deployment",
            metadata: {
              name: "kubemirror",
              namespace: "kubemirror-system",
              labels: { "app.kubernetes.io/name": "kubemirror" },
            },
            spec: {
              selector: { matchLabels: { app: "kubemirror" } },
              template: {
                metadata: { labels: { app: "kubemirror" } },
                spec: {
                  serviceAccountName: "kubemirror",
                  containers: [{
                    name: "controller",
                    image: "kubemirror:test",
                    args: ["--excluded-namespaces=legacy", "--leader-elect=true"],
                  }],
                },
              },
            },
          } as KubeObject);
          // No --excluded-namespaces on the command line: the Deployment's flag is the one that counts.
          const excluded = await kubectl([
            "mirror",
            "why",
            "configmap/shared",
            "-n",
            "platform",
            "--to",
            "team-a",
            "-o",
            "json",
          ]);
          assert.match(
            JSON.parse(excluded.out).controllerFlagsFrom,
            /the Deployment kubemirror-system\/kubemirror/,
          );
          const legacy = await kubectl([
            "mirror",
            "why",
            "secret/registry",
            "-n",
            "platform",
            "--to",
            "legacy",
          ]);
          assert.equal(legacy.code, 1);
          assert.match(
            legacy.out,
            /kubemirror may not create, update, patch, delete secrets, so nothing is mirrored/,
          );
          const cm = await kubectl(["mirror", "why", "configmap/shared", "-n", "platform", "--to", "team-a"]);
          assert.equal(cm.code, 0, cm.out + cm.err);
        },
      );

      await t.step("it writes nothing", async () => {
        const before = (await h.cluster.auditEvents()).length;
        await mirror(["status", "-A"]);
        await mirror(["why", "secret/registry", "-n", "platform", "--to", "team-b"]);
        await mirror(["into", "team-b"]);
        const writes = (await h.cluster.auditEvents()).slice(before).filter((e: AuditEvent) =>
          e.userAgent?.startsWith("kubectl-mirror") && !["get", "list", "watch"].includes(e.verb) &&
          // Questions to the authorizer (what may the controller do?) store nothing.
          e.objectRef?.resource !== "subjectaccessreviews"
        );
        assert.deepEqual(writes.map((e) => `${e.verb} ${e.requestURI}`), []);
        const reads = (await h.cluster.auditEvents()).slice(before).filter((e) =>
          e.userAgent?.startsWith("kubectl-mirror")
        );
        assert.ok(reads.length > 0, "it did read, as kubectl-mirror");
      });
      await ctl.stop();
    } finally {
      await h.stop();
    }
  },
});

/**
 * Overload: an API server that throttles the controller (API Priority and Fairness, a priority level of
 * one seat that rejects the rest with 429 and Retry-After) is waited out as it asks: every mirror arrives,
 * the waits are counted in `kubemirror_api_throttled_total`, and no source gets an error Event for them.
 */
import assert from "node:assert/strict";
import type { KubeObject } from "../core/types.ts";
import { CM, eventually, Harness, metricValue, source } from "./harness.ts";

const P = "kubemirror.raczylo.com/";

Deno.test({
  name: "a throttled controller converges with nothing lost",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const h = await Harness.start();
    try {
      // The controller runs as a ServiceAccount: the admin's group is exempt from API Priority and Fairness.
      await h.serviceAccountWithRole("kubemirror-system", "controller", { clusterRole: "cluster-admin" });
      await h.apply("/apis/flowcontrol.apiserver.k8s.io/v1/prioritylevelconfigurations", {
        apiVersion: "flowcontrol.apiserver.k8s.io/v1",
        kind: "PriorityLevelConfiguration",
        metadata: { name: "kubemirror-throttled" },
        spec: {
          type: "Limited",
          limited: { nominalConcurrencyShares: 1, lendablePercent: 0, limitResponse: { type: "Reject" } },
        },
      } as KubeObject);
      await h.apply("/apis/flowcontrol.apiserver.k8s.io/v1/flowschemas", {
        apiVersion: "flowcontrol.apiserver.k8s.io/v1",
        kind: "FlowSchema",
        metadata: { name: "kubemirror-throttled" },
        spec: {
          priorityLevelConfiguration: { name: "kubemirror-throttled" },
          matchingPrecedence: 100,
          distinguisherMethod: { type: "ByUser" },
          rules: [{
            subjects: [{
              kind: "ServiceAccount",
              serviceAccount: { name: "controller", namespace: "kubemirror-system" },
            }],
            resourceRules: [{
              verbs: ["*"],
              apiGroups: ["*"],
              resources: ["*"],
              namespaces: ["*"],
              clusterScope: true,
            }],
            nonResourceRules: [{ verbs: ["*"], nonResourceURLs: ["*"] }],
          }],
        },
      } as KubeObject);
      const N = 150;
      const namespaces = Array.from({ length: N }, (_, i) => `t-${String(i).padStart(3, "0")}`);
      for (let i = 0; i < N; i += 25) {
        await Promise.all(namespaces.slice(i, i + 25).map((ns) => h.createNamespace(ns)));
      }
      const kubeconfig = await h.serviceAccountKubeconfig("kubemirror-system", "controller");
      const ctl = await h.startController([
        `--kubeconfig=${kubeconfig}`,
        "--leader-elect=false",
        "--resource-types=ConfigMap.v1",
        "--rate-limit-qps=1000",
        "--rate-limit-burst=1000",
        "--worker-threads=8",
        "--max-targets=500",
      ]);

      await t.step(
        `${N} mirrors through one seat: all of them, throttling waited out and counted, no error Event`,
        async () => {
          for (let s = 0; s < 4; s++) {
            await h.apply(
              CM("default"),
              source("ConfigMap", "default", `wide-${s}`, { [`${P}target-namespaces`]: "t-*" }, {
                data: { s: String(s) },
              }),
            );
          }
          await eventually(
            async () => {
              const list = await h.api.list("/api/v1/configmaps", {
                query: { labelSelector: `${P}mirror=true` },
              });
              assert.equal(list.items.length, 4 * N);
            },
            120_000,
            500,
          );
          const metrics = await ctl.metrics();
          const throttled = [...metrics.matchAll(/^kubemirror_api_throttled_total\{[^}]*\} (\d+)/gm)]
            .reduce((n, m) => n + Number(m[1]), 0);
          assert.ok(throttled > 0, "the API server did throttle the controller, and it waited");
          assert.ok(
            (metricValue(metrics, 'kubemirror_api_requests_total{verb="create",code="429"}') ?? 0) > 0,
          );
          for (let s = 0; s < 4; s++) {
            await eventually(async () =>
              assert.equal(
                (await h.get(CM("default", `wide-${s}`))).metadata.annotations[`${P}sync-status`],
                `reconciled:${N},errors:0`,
              )
            );
            const reasons = (await h.events("default", `wide-${s}`)).map((e) => e.reason);
            assert.deepEqual(reasons.filter((r) => r === "WriteFailed"), [], "throttling is no error");
          }
          console.log(
            `  figures: ${
              4 * N
            } mirrors through one APF seat; ${throttled} requests throttled (429) and retried after Retry-After`,
          );
        },
      );
      await ctl.stop();
    } finally {
      await h.stop();
    }
  },
});

import assert from "node:assert/strict";
import { KubeApi, retryAfterMs } from "./kube_api.ts";
import { kubeConfigFromText } from "./kube_config.ts";

Deno.test("Retry-After: seconds or an HTTP date, at most 30 s, 1 s when absent or unreadable", () => {
  assert.equal(retryAfterMs("3"), 3000);
  assert.equal(retryAfterMs("0"), 0);
  assert.equal(retryAfterMs("600"), 30_000, "capped: the request is asked again after 30 s");
  const now = Date.UTC(2026, 10, 30, 12, 0, 0);
  assert.equal(retryAfterMs("Mon, 30 Nov 2026 12:00:05 GMT", now), 5000);
  assert.equal(retryAfterMs("Mon, 30 Nov 2026 11:00:00 GMT", now), 0, "a date in the past: at once");
  assert.equal(retryAfterMs(null), 1000);
  assert.equal(retryAfterMs("soon"), 1000);
});

Deno.test({
  name: "list: follows the continue tokens, and keeps each item as its page arrives",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const order: string[] = [];
    const page = (name: string, rv: string, cont?: string) => ({
      apiVersion: "v1",
      kind: "ConfigMapList",
      metadata: { resourceVersion: rv, ...(cont ? { continue: cont } : {}) },
      items: [{ metadata: { name, managedFields: [{ manager: "kubectl" }] }, data: { v: name } }],
    });
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (req) => {
      const cont = new URL(req.url).searchParams.get("continue");
      order.push(`page ${cont ?? "first"}`);
      return Response.json(cont === "c1" ? page("b", "9") : page("a", "8", "c1"));
    });
    try {
      const api = new KubeApi(
        kubeConfigFromText(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "http://127.0.0.1:${server.addr.port}", insecure-skip-tls-verify: true}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
users: [{name: u, user: {token: t}}]
`),
        { qps: 100, burst: 100 },
      );
      const { items, resourceVersion } = await api.list("/api/v1/configmaps", {
        keep: (o) => {
          order.push(`keep ${o.metadata?.name}`);
          return { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata?.name } };
        },
      });
      assert.deepEqual(order, ["page first", "keep a", "page c1", "keep b"]);
      assert.deepEqual(items, [
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } },
        { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b" } },
      ]);
      assert.equal(resourceVersion, "9", "the last page's version: a watch starts from it");
    } finally {
      await server.shutdown();
    }
  },
});

import assert from "node:assert/strict";
import { ANNOTATION_CLUSTER_NAME, LABEL_CLUSTER_LINK } from "../../core/markers.ts";
import type { KubeObject } from "../../core/types.ts";
import { ApiError, type KubeClient } from "../kube/client.ts";
import { FakeClock, settle } from "../runtime/fake_clock.ts";
import { createLogger } from "../runtime/log.ts";
import { createMetrics } from "../runtime/metrics.ts";
import { ClusterLinks, FORBIDDEN_RECHECK_MS } from "./cluster_links.ts";

const configMaps = { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true };

/** A client that lists `answer()` (or throws it) and watches forever. */
function client(answer: () => KubeObject[] | Error): KubeClient & { lists: number } {
  const c = {
    lists: 0,
    request: () => Promise.reject(new Error("not used")),
    get: () => Promise.reject(new Error("not used")),
    list<T extends KubeObject>() {
      c.lists++;
      const a = answer();
      return a instanceof Error
        ? Promise.reject(a)
        : Promise.resolve({ items: a as T[], resourceVersion: "5" });
    },
    watch: () => Promise.resolve(() => {}),
  };
  return c;
}

Deno.test("a link kind refused upstream (403) is asked again after 30 s, doubling; the link comes up once allowed", async () => {
  const clock = new FakeClock(1_000_000);
  const secret: KubeObject = {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: "link-hub",
      namespace: "kubemirror",
      resourceVersion: "1",
      labels: { [LABEL_CLUSTER_LINK]: "true" },
      annotations: { [ANNOTATION_CLUSTER_NAME]: "hub" },
    },
    data: { kubeconfig: btoa("apiVersion: v1\nkind: Config\n") },
  };
  // An upstream API server that has just started refuses everyone until it has read its RBAC.
  let rbacRead = false;
  const upstream = client(() =>
    rbacRead ? [] : new ApiError(403, "Forbidden", 'configmaps is forbidden: User "reader" cannot list')
  );
  const lines: string[] = [];
  const metrics = createMetrics();
  const links = new ClusterLinks({
    client: client(() => [secret]),
    connect: () => upstream,
    namespace: "kubemirror",
    clusterName: "edge",
    idleTimeoutMs: 3_600_000,
    log: createLogger("info", {}, (line) => lines.push(line)),
    metrics,
    clock,
  }, { source: () => {}, link: () => {} });
  await links.start();
  links.watchKinds([configMaps]);
  await settle();
  const up = async () =>
    (await metrics.clusterLinkUp.get()).values.find((v) => v.labels.cluster === "hub")?.value;
  assert.equal(upstream.lists, 1);
  assert.equal(await up(), 0, "every kind refused: the link is down");
  // Still refused at the first re-check: asked once more, said once in the log.
  await clock.advance(FORBIDDEN_RECHECK_MS);
  await settle();
  assert.equal(upstream.lists, 2);
  assert.equal(lines.filter((l) => l.includes("may not list this kind")).length, 1);
  // The next re-check waits twice as long.
  rbacRead = true;
  await clock.advance(FORBIDDEN_RECHECK_MS);
  await settle();
  assert.equal(upstream.lists, 2, "not before 60 s");
  await clock.advance(FORBIDDEN_RECHECK_MS);
  await settle();
  assert.equal(upstream.lists, 3);
  assert.equal(await up(), 1, "allowed now: the link is up without waiting for a discovery");
  assert.ok(lines.some((l) => l.includes("may list this kind upstream again")));
  links.stop();
});

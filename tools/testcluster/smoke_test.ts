/**
 * The control plane works: namespaces and ConfigMaps through client-node, events through a watch, and
 * namespace deletion finished by kube-controller-manager.
 */
import assert from "node:assert/strict";
import * as k8s from "@kubernetes/client-node";
import { withCluster } from "./cluster.ts";

Deno.test({
  name: "test control plane: create, watch, delete a namespace",
  sanitizeOps: false,
  sanitizeResources: false,
  fn: () =>
    withCluster(async (cluster) => {
      const kc = new k8s.KubeConfig();
      kc.loadFromFile(cluster.kubeconfigPath("admin"));
      const core = kc.makeApiClient(k8s.CoreV1Api);
      const version = await kc.makeApiClient(k8s.VersionApi).getCode();
      if (cluster.local) assert.equal(version.gitVersion, "v1.36.3");

      await core.createNamespace({ body: { metadata: { name: "smoke" } } });
      const seen: string[] = [];
      const gotIt = Promise.withResolvers<void>();
      const watch = await new k8s.Watch(kc).watch(
        "/api/v1/namespaces/smoke/configmaps",
        {},
        (type, obj) => {
          seen.push(`${type} ${obj.metadata?.name}`);
          if (obj.metadata?.name === "hello") gotIt.resolve();
        },
        () => {},
      );
      await core.createNamespacedConfigMap({
        namespace: "smoke",
        body: { metadata: { name: "hello" }, data: { greeting: "hi" } },
      });
      await gotIt.promise;
      watch.abort();
      assert.ok(seen.includes("ADDED hello"), `watch saw ${seen.join(", ")}`);

      await core.deleteNamespace({ name: "smoke" });
      // The namespace controller empties the namespace, then the namespace goes away.
      const deadline = Date.now() + 60_000;
      let gone = false;
      while (!gone && Date.now() < deadline) {
        try {
          await core.readNamespace({ name: "smoke" });
          await new Promise((r) => setTimeout(r, 250));
        } catch (e) {
          gone = (e as { code?: number }).code === 404;
          if (!gone) throw e;
        }
      }
      assert.ok(gone, "namespace smoke still exists a minute after deletion");

      if (cluster.local) {
        // Restarting etcd alone (for fault tests) keeps the data; the API server serves again after.
        await cluster.restartEtcd();
        const again = await core.readNamespace({ name: "default" });
        assert.equal(again.metadata?.name, "default");
        const events = await cluster.auditEvents();
        const creates = events.filter((e) =>
          e.verb === "create" && e.objectRef?.resource === "configmaps" &&
          e.objectRef?.name === "hello" &&
          e.user.username === "admin"
        );
        assert.equal(creates.length, 1, "the audit log records the one ConfigMap create by admin");
        const nobody = new k8s.KubeConfig();
        nobody.loadFromFile(cluster.kubeconfigPath("nobody"));
        await assert.rejects(
          nobody.makeApiClient(k8s.CoreV1Api).listNamespace(),
          (e: { code?: number }) => e.code === 403,
        );
      }
    }),
});

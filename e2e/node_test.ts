/**
 * The image run as users run it: built by `deno task image`, imported into a real node's containerd, and
 * installed with `helm install` (default values but the image and two replicas). Pods become Ready through
 * the chart's probes, run as 65532 on a read-only root under the chart's limits, one holds the Lease, mirror,
 * log JSON lines, serve /metrics on their IP, hand over when the leader Pod goes, and `helm uninstall` leaves
 * nothing of the release. Needs root, containerd, runc, CNI plugins, umoci and skopeo (`.ci/run` installs them).
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { buildImage } from "../tools/image.ts";
import { CM, eventually, Harness, metricValue, ROOT, run, SECRET, source } from "./harness.ts";

const NS = "kubemirror-system";
const LEASE = "kubemirror-controller-leader";
const P = "kubemirror.raczylo.com/";

/** The host pid of a container's main process, from the node's containerd. */
async function containerPid(socket: string, containerId: string): Promise<number> {
  const id = containerId.replace(/^containerd:\/\//, "");
  const r = await run("ctr", ["--address", socket, "-n", "k8s.io", "tasks", "ls"]);
  const line = r.out.split("\n").find((l) => l.startsWith(id));
  assert.ok(line, `no task for ${id}:\n${r.out}`);
  return Number(line.trim().split(/\s+/)[1]);
}

function statusField(pid: number, field: string): string {
  const line = Deno.readTextFileSync(`/proc/${pid}/status`).split("\n").find((l) =>
    l.startsWith(field + ":")
  );
  return line!.slice(field.length + 1).trim();
}

Deno.test({
  name: "the image on a real node: helm install, two replicas, hand-over, uninstall",
  ignore: Deno.env.get("KUBEMIRROR_TEST_KUBECONFIG") !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const image = await buildImage({ archive: join(await Deno.makeTempDir(), "kubemirror-image.tar") });
    const h = await Harness.start({ node: true });
    const node = h.cluster.node!;
    const helm = h.cluster.binaries!.helm;
    const kubeconfig = h.cluster.kubeconfigPath("admin");
    const pods = async () =>
      (await h.api.get<any>(`/api/v1/namespaces/${NS}/pods`, {
        query: { labelSelector: "app.kubernetes.io/instance=kubemirror" },
      })).items as any[];
    const holder = async () => {
      const lease = await h.api.get<any>(`/apis/coordination.k8s.io/v1/namespaces/${NS}/leases/${LEASE}`);
      return String(lease.spec?.holderIdentity ?? "");
    };
    try {
      await t.step("the image is imported into the node's containerd", async () => {
        await node.importImage(image.archive);
        const r = await run("ctr", ["--address", node.state.socket, "-n", "k8s.io", "images", "ls", "-q"]);
        assert.ok(r.out.split("\n").includes(image.reference), r.out);
        console.log(`  figures: image ${image.reference}, archive ${(image.bytes / 2 ** 20).toFixed(1)} MiB`);
      });

      await t.step("podman loads the same archive", async () => {
        const r = await run("podman", ["load", "-q", "-i", image.archive]);
        assert.equal(r.code, 0, r.err);
        assert.equal((await run("podman", ["image", "exists", image.reference])).code, 0);
      });

      await t.step("helm install --wait: two Pods Ready through the chart's own probes", async () => {
        const [repository, tag] = image.reference.split(/:(?=[^:]+$)/);
        const started = performance.now();
        const r = await run(helm, [
          "install",
          "kubemirror",
          `${ROOT}/charts/kubemirror`,
          "-n",
          NS,
          "--create-namespace",
          "--kubeconfig",
          kubeconfig,
          "--set",
          `image.repository=${repository}`,
          "--set",
          `image.tag=${tag}`,
          "--set",
          "image.pullPolicy=Never",
          "--set",
          "replicaCount=2",
          "--wait",
          "--timeout=3m",
        ]);
        assert.equal(r.code, 0, r.err + r.out);
        const list = await pods();
        assert.equal(list.length, 2);
        for (const p of list) {
          const ready = p.status.conditions.find((c: any) => c.type === "Ready");
          assert.equal(ready?.status, "True", JSON.stringify(p.status));
          assert.equal(p.spec.containers[0].readinessProbe.httpGet.path, "/readyz");
        }
        console.log(
          `  figures: helm install --wait to two Ready Pods in ${
            ((performance.now() - started) / 1000).toFixed(1)
          } s`,
        );
      });

      await t.step("each runs as 65532 on a read-only root, under the chart's memory limit", async () => {
        for (const p of await pods()) {
          const pid = await containerPid(node.state.socket, p.status.containerStatuses[0].containerID);
          assert.equal(statusField(pid, "Uid").split(/\s+/)[0], "65532");
          assert.equal(statusField(pid, "Gid").split(/\s+/)[0], "65532");
          const cmdline = Deno.readTextFileSync(`/proc/${pid}/cmdline`).split("\0");
          assert.ok(cmdline.includes("/app/kubemirror.js"), cmdline.join(" "));
          assert.ok(!cmdline.some((a) => /^--allow-(write|run|ffi|sys|all)/.test(a)), cmdline.join(" "));
          const environ = Deno.readTextFileSync(`/proc/${pid}/environ`).split("\0");
          assert.ok(environ.includes("MALLOC_ARENA_MAX=2"), "the image's malloc setting reaches the process");
          const root = Deno.readTextFileSync(`/proc/${pid}/mountinfo`).split("\n").find((l) =>
            l.split(" ")[4] === "/"
          )!;
          assert.match(root.split(" ")[5], /^ro\b/, `root mount: ${root}`);
          const memCgroup = Deno.readTextFileSync(`/proc/${pid}/cgroup`).split("\n").find((l) =>
            /:memory:/.test(l)
          )!.split(":")[2];
          const limit = Number(
            Deno.readTextFileSync(`/sys/fs/cgroup/memory${memCgroup}/memory.limit_in_bytes`),
          );
          assert.equal(limit, 512 * 2 ** 20);
          const rss = Number(statusField(pid, "VmRSS").split(/\s+/)[0]) / 1024;
          console.log(`  figures: ${p.metadata.name} RSS ${rss.toFixed(1)} MiB when Ready (limit 512 MiB)`);
        }
      });

      await t.step("one Pod holds the Lease; a labelled Secret and ConfigMap are mirrored", async () => {
        const names = (await pods()).map((p) => p.metadata.name as string);
        await eventually(async () => {
          const id = await holder();
          assert.ok(names.some((n) => id.startsWith(n + "_")), `holder ${id}, pods ${names}`);
        }, 60_000);
        await h.createNamespace("team-a");
        await h.apply(
          SECRET("default"),
          source("Secret", "default", "tls", {
            [`${P}target-namespaces`]: "team-a",
          }, { type: "Opaque", stringData: { key: "value" } }),
        );
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "shared", {
            [`${P}target-namespaces`]: "team-a",
          }, { data: { a: "1" } }),
        );
        await eventually(async () => {
          const s = await h.api.get<any>(SECRET("team-a", "tls"));
          assert.equal(atob(s.data.key), "value");
          const c = await h.api.get<any>(CM("team-a", "shared"));
          assert.equal(c.data.a, "1");
        }, 60_000);
      });

      await t.step("the Pod's log (pods/log) is JSON lines", async () => {
        for (const p of await pods()) {
          // A one-line log parses as JSON on the way in; more lines come back as text.
          const body = await h.api.get(`/api/v1/namespaces/${NS}/pods/${p.metadata.name}/log`);
          const text = typeof body === "string" ? body : JSON.stringify(body);
          const lines = text.split("\n").filter((l) => l.trim());
          assert.ok(lines.length > 0);
          for (const l of lines) {
            const entry = JSON.parse(l);
            assert.ok(entry.level && entry.msg && entry.time, l);
          }
        }
      });

      await t.step("/metrics answers on each Pod's IP; start-up memory is handed back", async () => {
        for (const p of await pods()) {
          // Once the caches have synced and the queue is empty, the controller collects what start-up left.
          const body = await eventually(
            async () => {
              const res = await fetch(`http://${p.status.podIP}:8080/metrics`, {
                signal: AbortSignal.timeout(5000),
              });
              const body = await res.text();
              assert.equal(res.status, 200);
              assert.match(body, /^kubemirror_heap_releases_total [1-9]/m);
              return body;
            },
            30_000,
            500,
          );
          assert.match(body, /^kubemirror_leader [01]$/m);
          const rss = metricValue(body, "kubemirror_process_resident_memory_bytes")! / 2 ** 20;
          console.log(
            `  figures: ${p.metadata.name} idle, after the start-up collection: RSS ${rss.toFixed(1)} MiB`,
          );
        }
      });

      await t.step("deleting the leader Pod hands over, and mirroring goes on", async () => {
        const id = await holder();
        const leader = id.slice(0, id.lastIndexOf("_"));
        const started = performance.now();
        await h.api.request("DELETE", `/api/v1/namespaces/${NS}/pods/${leader}`);
        await eventually(
          async () => {
            const now = await holder();
            assert.ok(now && !now.startsWith(leader + "_"), `still ${now}`);
          },
          90_000,
          500,
        );
        const handover = (performance.now() - started) / 1000;
        await h.apply(
          CM("default"),
          source("ConfigMap", "default", "after-handover", {
            [`${P}target-namespaces`]: "team-a",
          }, { data: { b: "2" } }),
        );
        await eventually(async () => {
          assert.equal((await h.api.get<any>(CM("team-a", "after-handover"))).data.b, "2");
        }, 60_000);
        console.log(`  figures: leader Pod deleted → Lease held by the other in ${handover.toFixed(1)} s`);
      });

      await t.step("helm uninstall removes everything the release made", async () => {
        const r = await run(helm, [
          "uninstall",
          "kubemirror",
          "-n",
          NS,
          "--kubeconfig",
          kubeconfig,
          "--wait",
        ]);
        assert.equal(r.code, 0, r.err + r.out);
        const selector = { labelSelector: "app.kubernetes.io/instance=kubemirror" };
        await eventually(
          async () => {
            for (
              const path of [
                `/apis/apps/v1/namespaces/${NS}/deployments`,
                `/api/v1/namespaces/${NS}/pods`,
                `/api/v1/namespaces/${NS}/services`,
                `/api/v1/namespaces/${NS}/serviceaccounts`,
                `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/roles`,
                `/apis/rbac.authorization.k8s.io/v1/namespaces/${NS}/rolebindings`,
                "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings",
                "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies",
                "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings",
              ]
            ) {
              const left = (await h.api.get<any>(path, { query: selector })).items.map((o: any) =>
                o.metadata.name
              );
              assert.deepEqual(left, [], `${path} still has ${left}`);
            }
            // By name too: kube-controller-manager re-creates an aggregated ClusterRole, without the
            // release's labels, when it is deleted while its pieces change (an earlier chart left one behind).
            const roles = (await h.api.get<any>("/apis/rbac.authorization.k8s.io/v1/clusterroles")).items
              .map((o: any) => o.metadata.name as string).filter((n: string) => n.startsWith("kubemirror"));
            assert.deepEqual(roles, []);
          },
          90_000,
          500,
        );
      });
    } finally {
      await h.stop();
    }

    await t.step("the plane's teardown leaves nothing of the node behind", async () => {
      const ipt = (await run("iptables-save", [])).out + (await run("ip6tables-save", [])).out;
      assert.doesNotMatch(ipt, /KUBE-|CNI-|kubemirror-test-node/);
      assert.equal((await run("ip", ["link", "show", "kmtest0"])).code !== 0, true, "the bridge is gone");
      for (const c of [...Deno.readDirSync("/sys/fs/cgroup")].map((e) => e.name)) {
        assert.equal(await Deno.stat(`/sys/fs/cgroup/${c}/kubepods`).then(() => true, () => false), false, c);
      }
      const mounts = await Deno.readTextFile("/proc/self/mountinfo");
      assert.ok(!mounts.includes(node.state.dir), "no mount under the node's folder");
      assert.equal(await Deno.stat(node.state.dir).then(() => true, () => false), false);
      const ps = await run("pgrep", ["-f", node.state.socket]);
      assert.equal(ps.out.trim(), "", `left running: ${ps.out}`);
    });
  },
});

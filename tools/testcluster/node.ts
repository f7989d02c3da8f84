/**
 * A real node for the test plane: containerd (Debian's, with runc), kubelet and kube-scheduler (built from the
 * plane's Kubernetes module), a bridge network, and a way for Pods to reach the loopback API server at the
 * `kubernetes` Service IP. Everything lives under the plane's folder (containerd's root, state, socket and
 * CNI configuration; kubelet's root and Pod logs) and {@link teardownNode} undoes what cannot: Pods,
 * processes, iptables rules and chains, mounts, the bridge, `/kubepods` cgroups and log links.
 *
 * Needs root, containerd, runc and containernetworking-plugins; one node per machine (fixed cgroups, ports
 * and iptables chains). Why each setting is there: the comments beside it, and README "The test control plane".
 *
 * @example
 * ```ts
 * import { startCluster } from "./cluster.ts";
 * const cluster = await startCluster({ node: true }); // a Ready node named after the machine
 * await cluster.node!.importImage("dist/kubemirror-image.tar");
 * await cluster.stop(); // Pods deleted, node torn down, plane stopped
 * ```
 * @module
 */
import { join } from "node:path";
import { freePort } from "./cluster.ts";
import {
  adminApi,
  BRIDGE,
  chains,
  netnsEntries,
  type NodeState,
  RULE_COMMENT,
  sh,
  tables,
} from "./node_host.ts";
import { teardownNode } from "./node_teardown.ts";

export type { NodeState } from "./node_host.ts";
export { alive } from "./node_host.ts";
export { teardownNode } from "./node_teardown.ts";

/** The Pod network. */
export const POD_CIDR = "10.244.0.0/24";
/** The `kubernetes` Service IP (first of the plane's `--service-cluster-ip-range`). */
const SERVICE_IP = "10.0.0.1";
/** The sandbox ("pause") image, built locally: there is no registry. */
export const PAUSE_IMAGE = "localhost/kubemirror-pause:1";
/** Where Debian's containernetworking-plugins live. */
const CNI_BIN = "/usr/lib/cni";

/** A running node. */
export interface Node {
  /** The node's name (the machine's hostname). */
  name: string;
  state: NodeState;
  /** Imports an OCI archive into the node's containerd (namespace `k8s.io`, where kubelet looks). */
  importImage(archive: string): Promise<void>;
  /** Deletes every Pod, stops the node and removes what it left behind. */
  stop(): Promise<void>;
}

function log(message: string): void {
  console.error(`[testcluster] ${message}`);
}

function spawnLogged(bin: string, args: string[], logFile: string, detached: boolean): number {
  const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;
  const child = new Deno.Command("sh", {
    args: ["-c", `exec ${[bin, ...args].map(quote).join(" ")} >>${quote(logFile)} 2>&1`],
    stdin: "null",
    stdout: "null",
    stderr: "null",
    detached,
  }).spawn();
  // Stopped by pid in teardown, whether this process is still there or not.
  child.unref();
  return child.pid;
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number, logFile?: string) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  const tail = logFile ? (await Deno.readTextFile(logFile).catch(() => "")).slice(-3000) : "";
  throw new Error(`${what} after ${timeoutMs / 1000}s${tail ? `\n--- ${logFile} (tail)\n${tail}` : ""}`);
}

/** Builds the sandbox image: one static binary that sleeps until signalled and reaps orphans. */
async function buildPauseImage(dir: string): Promise<string> {
  const work = join(dir, "pause-build");
  await Deno.mkdir(work, { recursive: true });
  await Deno.writeTextFile(
    join(work, "pause.c"),
    `#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
static void stop(int s) { (void)s; _exit(0); }
static void reap(int s) { (void)s; while (waitpid(-1, 0, WNOHANG) > 0) {} }
int main(void) {
  signal(SIGINT, stop); signal(SIGTERM, stop); signal(SIGCHLD, reap);
  for (;;) pause();
}
`,
  );
  const layout = join(work, "layout");
  await sh("umoci", ["init", "--layout", layout]);
  await sh("umoci", ["new", "--image", `${layout}:1`]);
  await sh("umoci", ["unpack", "--image", `${layout}:1`, join(work, "bundle")]);
  await sh("gcc", ["-static", "-Os", "-s", "-o", join(work, "bundle/rootfs/pause"), join(work, "pause.c")]);
  await sh("umoci", ["repack", "--image", `${layout}:1`, join(work, "bundle")]);
  await sh("umoci", [
    "config",
    "--image",
    `${layout}:1`,
    "--os",
    "linux",
    "--architecture",
    "amd64",
    "--config.entrypoint",
    "/pause",
    "--config.user",
    "65535:65535",
  ]);
  const archive = join(dir, "pause.tar");
  await sh("skopeo", ["copy", "--quiet", `oci:${layout}:1`, `oci-archive:${archive}:${PAUSE_IMAGE}`]);
  await Deno.remove(work, { recursive: true });
  return archive;
}

async function ctrImport(socket: string, archive: string): Promise<void> {
  await sh("ctr", ["--address", socket, "--namespace", "k8s.io", "images", "import", archive]);
}

/**
 * Starts a node for the plane whose admin kubeconfig is `kubeconfig` and whose API server listens on
 * 127.0.0.1:`apiPort`. Returns once the node is Ready.
 */
export async function startNode(options: {
  dir: string;
  kubeconfig: string;
  apiPort: number;
  kubelet: string;
  kubeScheduler: string;
  detached?: boolean;
}): Promise<Node> {
  if (Deno.uid() !== 0) throw new Error("a node needs root (containerd, kubelet, iptables, cgroups)");
  for (const tool of ["containerd", "ctr", "runc", "iptables", "nft", "umoci", "skopeo", "gcc"]) {
    if (!(await sh("sh", ["-c", `command -v ${tool}`], { allowFail: true })).ok) {
      throw new Error(
        `a node needs ${tool}: apt-get install containerd runc containernetworking-plugins nftables umoci skopeo`,
      );
    }
  }
  const started = performance.now();
  const dir = join(options.dir, "node");
  const name = Deno.hostname();
  const socket = join(dir, "containerd", "containerd.sock");
  const cniConf = join(dir, "cni");
  for (const d of ["containerd/root", "containerd/state", "cni", "cni-ipam", "kubelet", "pod-logs"]) {
    await Deno.mkdir(join(dir, d), { recursive: true });
  }
  const state: NodeState = {
    dir,
    name,
    socket,
    pids: {},
    apiPort: options.apiPort,
    chainsBefore: await chains(),
    netnsBefore: netnsEntries(),
    tablesBefore: await tables(),
    containerLogDirBefore: await Deno.stat("/var/log/containers").then(() => true, () => false),
  };
  const detached = options.detached ?? false;
  const node: Node = {
    name,
    state,
    importImage: (archive) => ctrImport(socket, archive),
    stop: () => teardownNode(state, options.kubeconfig),
  };
  try {
    // containerd: its own root, state, socket and CNI folder (it loads only the first file there).
    await Deno.writeTextFile(
      join(dir, "containerd.toml"),
      `version = 2
root = "${join(dir, "containerd/root")}"
state = "${join(dir, "containerd/state")}"
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  # This machine forbids lowering oom_score_adj; without this every sandbox fails to start.
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN}"
    conf_dir = "${cniConf}"
  [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
    runtime_type = "io.containerd.runc.v2"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
      SystemdCgroup = false
`,
    );
    await Deno.writeTextFile(
      join(cniConf, "10-kubemirror-test.conflist"),
      JSON.stringify(
        {
          cniVersion: "1.0.0",
          name: "kubemirror-test",
          plugins: [
            {
              type: "bridge",
              bridge: BRIDGE,
              isGateway: true,
              ipMasq: true,
              hairpinMode: true,
              ipam: {
                type: "host-local",
                ranges: [[{ subnet: POD_CIDR }]],
                routes: [{ dst: "0.0.0.0/0" }],
                dataDir: join(dir, "cni-ipam"),
              },
            },
            { type: "portmap", capabilities: { portMappings: true } },
          ],
        },
        null,
        2,
      ),
    );
    // Pods reach the loopback API server at the Service IP: no kube-proxy here. The bridge exists
    // before the first Pod so that it can allow routing to 127.0.0.1.
    await sh("ip", ["link", "add", BRIDGE, "type", "bridge"], { allowFail: true });
    await sh("ip", ["link", "set", BRIDGE, "up"]);
    await sh("sysctl", ["-q", "-w", `net.ipv4.conf.${BRIDGE}.route_localnet=1`]);
    await sh("iptables", [
      "-t",
      "nat",
      "-A",
      "PREROUTING",
      "-d",
      `${SERVICE_IP}/32`,
      "-p",
      "tcp",
      "--dport",
      "443",
      "-m",
      "comment",
      "--comment",
      RULE_COMMENT,
      "-j",
      "DNAT",
      "--to-destination",
      `127.0.0.1:${options.apiPort}`,
    ]);

    const containerdLog = join(dir, "containerd.log");
    state.pids.containerd = spawnLogged(
      "containerd",
      ["--config", join(dir, "containerd.toml")],
      containerdLog,
      detached,
    );
    await waitFor(
      "containerd did not answer",
      async () => (await sh("ctr", ["--address", socket, "version"], { allowFail: true })).ok,
      30_000,
      containerdLog,
    );
    await ctrImport(socket, await buildPauseImage(dir));

    const healthzPort = freePort();
    await Deno.writeTextFile(
      join(dir, "kubelet.yaml"),
      JSON.stringify({
        apiVersion: "kubelet.config.k8s.io/v1beta1",
        kind: "KubeletConfiguration",
        failCgroupV1: false,
        cgroupDriver: "cgroupfs",
        failSwapOn: false,
        containerRuntimeEndpoint: `unix://${socket}`,
        address: "127.0.0.1",
        healthzBindAddress: "127.0.0.1",
        healthzPort,
        readOnlyPort: 0,
        authentication: { anonymous: { enabled: true }, webhook: { enabled: false } },
        authorization: { mode: "AlwaysAllow" },
        rotateCertificates: false,
        serverTLSBootstrap: false,
        podCIDR: POD_CIDR,
        podLogsDir: join(dir, "pod-logs"),
        evictionHard: {
          "memory.available": "50Mi",
          "nodefs.available": "1%",
          "nodefs.inodesFree": "1%",
          "imagefs.available": "1%",
        },
        imageGCHighThresholdPercent: 100,
        imageGCLowThresholdPercent: 99,
        serializeImagePulls: false,
        registerNode: true,
      }),
    );
    const kubeletLog = join(dir, "kubelet.log");
    state.pids.kubelet = spawnLogged(
      options.kubelet,
      [
        `--config=${join(dir, "kubelet.yaml")}`,
        `--kubeconfig=${options.kubeconfig}`,
        `--root-dir=${join(dir, "kubelet")}`,
        `--cert-dir=${join(dir, "kubelet", "pki")}`,
        "--v=1",
      ],
      kubeletLog,
      detached,
    );
    state.pids.scheduler = spawnLogged(
      options.kubeScheduler,
      [`--kubeconfig=${options.kubeconfig}`, "--leader-elect=false", "--secure-port=0", "--v=1"],
      join(dir, "kube-scheduler.log"),
      detached,
    );
    const api = await adminApi(options.kubeconfig);
    try {
      await waitFor(
        `node ${name} not Ready`,
        async () => {
          const n = await api.request("GET", `/api/v1/nodes/${name}`);
          return n?.status?.conditions?.some((c: any) => c.type === "Ready" && c.status === "True") ?? false;
        },
        90_000,
        kubeletLog,
      );
    } finally {
      api.close();
    }
    log(`node ${name} Ready in ${((performance.now() - started) / 1000).toFixed(1)}s (containerd ${socket})`);
    return node;
  } catch (e) {
    await teardownNode(state, options.kubeconfig).catch(() => {});
    throw e;
  }
}

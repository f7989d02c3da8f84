/**
 * A real node for the test plane: containerd (Debian's, with runc), kubelet and kube-scheduler (built from the
 * plane's Kubernetes module), a bridge network, and a way for Pods to reach the loopback API server at the
 * `kubernetes` Service IP. Everything lives under the plane's folder (containerd's root, state, socket and
 * CNI configuration; kubelet's root and Pod logs) and {@link teardownNode} undoes what cannot: Pods,
 * processes, iptables rules and chains, mounts, the bridge, `/kubepods` cgroups and log links.
 *
 * Needs root, containerd, runc and containernetworking-plugins; one node per machine (fixed cgroups, ports
 * and iptables chains). Facts behind each setting: `../shared/TEST-CLUSTER-NOTES.md` ("A real node").
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

/** Pod network and the bridge it hangs off. */
export const POD_CIDR = "10.244.0.0/24";
const BRIDGE = "kmtest0";
/** The `kubernetes` Service IP (first of the plane's `--service-cluster-ip-range`). */
const SERVICE_IP = "10.0.0.1";
/** The sandbox ("pause") image, built locally: there is no registry. */
export const PAUSE_IMAGE = "localhost/kubemirror-pause:1";
/** Marks the iptables rules made here, so teardown finds exactly them. */
const RULE_COMMENT = "kubemirror-test-node";
/** Where Debian's containernetworking-plugins live. */
const CNI_BIN = "/usr/lib/cni";

/** What teardown needs; plain data, so `deno task cluster down` can tear down a detached node. */
export interface NodeState {
  dir: string;
  name: string;
  socket: string;
  pids: { containerd?: number; kubelet?: number; scheduler?: number };
  apiPort: number;
  /** iptables chains (`table/chain`, v4 and v6) that existed before the node started. */
  chainsBefore: string[];
  /** `/var/run/netns` entries that existed before. */
  netnsBefore: string[];
  /** iptables tables (`v4 nat`, …) that existed before: iptables makes them on first use. */
  tablesBefore: string[];
  /** Whether kubelet's `/var/log/containers` existed before. */
  containerLogDirBefore: boolean;
}

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

async function sh(cmd: string, args: string[], options: { allowFail?: boolean; stdin?: string } = {}) {
  const child = new Deno.Command(cmd, {
    args,
    stdin: options.stdin === undefined ? "null" : "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  if (options.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(options.stdin));
    await w.close();
  }
  const out = await child.output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success && !options.allowFail) {
    throw new Error(`${cmd} ${args.join(" ")}: ${new TextDecoder().decode(out.stderr)}${text}`);
  }
  return { ok: out.success, text, err: new TextDecoder().decode(out.stderr) };
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

/** Whether a process is still there. */
export function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

async function stopPid(pid: number | undefined, graceMs = 10_000): Promise<void> {
  if (pid === undefined || !alive(pid)) return;
  try {
    Deno.kill(pid, "SIGTERM");
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (alive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  if (alive(pid)) Deno.kill(pid, "SIGKILL");
  for (let i = 0; i < 50 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

/** Every iptables table, as `v4|v6 table`. */
async function tables(): Promise<string[]> {
  const out: string[] = [];
  for (const [family, cmd] of [["v4", "iptables-save"], ["v6", "ip6tables-save"]]) {
    const { text } = await sh(cmd, [], { allowFail: true });
    for (const line of text.split("\n")) if (line.startsWith("*")) out.push(`${family} ${line.slice(1)}`);
  }
  return out;
}

/** Every iptables chain, as `v4|v6 table/chain`. */
async function chains(): Promise<string[]> {
  const out: string[] = [];
  for (const [family, cmd] of [["v4", "iptables-save"], ["v6", "ip6tables-save"]]) {
    const { text } = await sh(cmd, [], { allowFail: true });
    let table = "";
    for (const line of text.split("\n")) {
      if (line.startsWith("*")) table = line.slice(1);
      else if (line.startsWith(":")) out.push(`${family} ${table}/${line.slice(1).split(" ")[0]}`);
    }
  }
  return out;
}

function netnsEntries(): string[] {
  try {
    return [...Deno.readDirSync("/var/run/netns")].map((e) => e.name);
  } catch {
    return [];
  }
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

/** Requests to the plane as its admin, from the admin kubeconfig the plane wrote (token and CA inline). */
async function adminApi(kubeconfig: string) {
  const text = await Deno.readTextFile(kubeconfig);
  const server = /server: (\S+)/.exec(text)![1];
  const token = /token: (\S+)/.exec(text)![1];
  const ca = atob(/certificate-authority-data: (\S+)/.exec(text)![1]);
  const client = Deno.createHttpClient({ caCerts: [ca] });
  return {
    async request(method: string, path: string): Promise<any> {
      const res = await fetch(server + path, {
        method,
        client,
        headers: { Authorization: `Bearer ${token}`, Accept: "application/json" },
        signal: AbortSignal.timeout(10_000),
      });
      const body = await res.json().catch(() => undefined);
      return res.ok ? body : undefined;
    },
    close: () => client.close(),
  };
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

/** Every mount point at or under `dir`, deepest first. */
function mountsUnder(dir: string): string[] {
  const text = Deno.readTextFileSync("/proc/self/mountinfo");
  const points = text.split("\n").filter((l) => l).map((l) => l.split(" ")[4].replaceAll("\\040", " "));
  return points.filter((p) => p === dir || p.startsWith(dir + "/")).sort((a, b) => b.length - a.length);
}

/** Removes a cgroup tree depth first (only empty cgroups can go; their processes are gone by now). */
async function removeCgroup(path: string): Promise<void> {
  let entries: Deno.DirEntry[];
  try {
    entries = [...Deno.readDirSync(path)];
  } catch {
    return;
  }
  for (const e of entries) if (e.isDirectory) await removeCgroup(join(path, e.name));
  await Deno.remove(path).catch(() => {});
}

/** Tears a node down and removes everything it made outside its folder. Safe to call twice. */
export async function teardownNode(state: NodeState, kubeconfig: string): Promise<void> {
  // Every step runs even when one before it failed, so that as much as possible is undone.
  const errors: string[] = [];
  const step = async (what: string, fn: () => Promise<void>) => {
    try {
      await fn();
    } catch (e) {
      errors.push(`${what}: ${e instanceof Error ? e.message : e}`);
    }
  };
  // 1. Pods first, while kubelet runs: stopping it leaves containers (and their networks) behind. The
  // scheduler goes before, so that replacements made meanwhile stay unscheduled.
  await step("pods", async () => {
    await stopPid(state.pids.scheduler);
    if (state.pids.kubelet && alive(state.pids.kubelet)) {
      const api = await adminApi(kubeconfig).catch(() => undefined);
      try {
        const deadline = Date.now() + 60_000;
        while (api && Date.now() < deadline) {
          const pods = ((await api.request("GET", "/api/v1/pods"))?.items ?? []).filter((p: any) =>
            p.spec.nodeName === state.name
          );
          for (const p of pods) {
            if (p.metadata.deletionTimestamp) continue;
            await api.request(
              "DELETE",
              `/api/v1/namespaces/${p.metadata.namespace}/pods/${p.metadata.name}?gracePeriodSeconds=1`,
            );
          }
          const { text: tasks } = await sh("ctr", [
            "--address",
            state.socket,
            "-n",
            "k8s.io",
            "tasks",
            "ls",
            "-q",
          ], {
            allowFail: true,
          });
          if (!pods.length && !tasks.trim()) break;
          await new Promise((r) => setTimeout(r, 500));
        }
        await api?.request("DELETE", `/api/v1/nodes/${state.name}`);
      } finally {
        api?.close();
      }
    }
  });
  // 2. Processes, by pid; then any shim of this containerd that outlived it.
  await step("processes", async () => {
    await stopPid(state.pids.kubelet);
    await stopPid(state.pids.containerd);
    const { text: ps } = await sh("pgrep", ["-f", `containerd-shim.*${state.socket}`], { allowFail: true });
    for (const pid of ps.split("\n").filter((l) => l.trim()).map(Number)) await stopPid(pid, 2000);
  });
  // 3. iptables: the DNAT rule, then every chain made since the node started (kubelet's KUBE-*, CNI's).
  await step("iptables rules and chains", async () => {
    for (let i = 0; i < 10; i++) {
      const { text } = await sh("iptables-save", ["-t", "nat"], { allowFail: true });
      const rule = text.split("\n").find((l) => l.includes(RULE_COMMENT));
      if (!rule) break;
      await sh("sh", ["-c", `iptables -t nat ${rule.replace(/^-A/, "-D")}`], { allowFail: true });
    }
    const before = new Set(state.chainsBefore);
    const made = (await chains()).filter((c) => !before.has(c));
    for (
      const [family, cmd, save] of [["v4", "iptables", "iptables-save"], [
        "v6",
        "ip6tables",
        "ip6tables-save",
      ]]
    ) {
      const mine = made.filter((c) => c.startsWith(family + " ")).map((c) => c.slice(3));
      if (!mine.length) continue;
      const names = new Set(mine.map((c) => c.split("/")[1]));
      // Rules jumping to those chains (in any chain) go first, then the chains themselves.
      const { text } = await sh(save, [], { allowFail: true });
      let table = "";
      for (const line of text.split("\n")) {
        if (line.startsWith("*")) table = line.slice(1);
        const jump = / -j (\S+)/.exec(line)?.[1];
        if (line.startsWith("-A ") && jump && names.has(jump)) {
          await sh("sh", ["-c", `${cmd} -t ${table} ${line.replace(/^-A/, "-D")}`], { allowFail: true });
        }
      }
      for (const c of mine) {
        const [table, chain] = c.split("/");
        await sh(cmd, ["-t", table, "-F", chain], { allowFail: true });
      }
      for (const c of mine) {
        const [table, chain] = c.split("/");
        await sh(cmd, ["-t", table, "-X", chain], { allowFail: true });
      }
    }
  });
  // Tables iptables made on first use, now empty (nftables' own command removes them).
  await step("iptables tables", async () => {
    const tablesBefore = new Set(state.tablesBefore);
    for (const t of await tables()) {
      if (tablesBefore.has(t)) continue;
      const [family, table] = t.split(" ");
      const { text } = await sh(family === "v4" ? "iptables-save" : "ip6tables-save", ["-t", table], {
        allowFail: true,
      });
      if (text.split("\n").some((l) => l.startsWith("-A "))) continue;
      await sh("nft", ["delete", "table", family === "v4" ? "ip" : "ip6", table], { allowFail: true });
    }
  });
  // 4. Mounts under the node's folder (kubelet bind-mounts its root; volumes, sandboxes), network
  // namespaces made meanwhile, the bridge.
  await step("mounts, network namespaces and the bridge", async () => {
    for (const point of mountsUnder(state.dir)) await sh("umount", ["-l", point], { allowFail: true });
    const netnsBefore = new Set(state.netnsBefore);
    for (const ns of netnsEntries()) {
      if (netnsBefore.has(ns) || !ns.startsWith("cni-")) continue;
      await sh("umount", ["-l", `/var/run/netns/${ns}`], { allowFail: true });
      await Deno.remove(`/var/run/netns/${ns}`).catch(() => {});
    }
    await sh("ip", ["link", "del", BRIDGE], { allowFail: true });
  });
  // 5. kubelet's cgroups and its links to Pod logs.
  await step("cgroups, log links and the folder", async () => {
    for (const controller of [...Deno.readDirSync("/sys/fs/cgroup")].map((e) => e.name)) {
      await removeCgroup(join("/sys/fs/cgroup", controller, "kubepods"));
    }
    await removeCgroup("/sys/fs/cgroup/kubepods");
    try {
      for (const e of Deno.readDirSync("/var/log/containers")) {
        const target = await Deno.readLink(join("/var/log/containers", e.name)).catch(() => "");
        if (target.startsWith(state.dir)) await Deno.remove(join("/var/log/containers", e.name));
      }
    } catch {
      // no links
    }
    if (!state.containerLogDirBefore) await Deno.remove("/var/log/containers").catch(() => {});
    await Deno.remove(state.dir, { recursive: true }).catch(() => {});
  });
  if (errors.length) throw new Error(`node teardown left something behind:\n${errors.join("\n")}`);
}

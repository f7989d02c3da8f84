/**
 * Tears the test node down (node.ts): Pods first, then processes, iptables rules, chains and tables, mounts,
 * network namespaces, the bridge, `/kubepods` cgroups and log links.
 *
 * @example
 * ```ts
 * import { teardownNode } from "./node_teardown.ts";
 * import type { NodeState } from "./node_host.ts";
 * declare const state: NodeState;
 * await teardownNode(state, "/tmp/kubemirror-cluster-x/admin.kubeconfig");
 * ```
 * @module
 */
import { join } from "node:path";
import {
  adminApi,
  alive,
  BRIDGE,
  chains,
  netnsEntries,
  type NodeState,
  RULE_COMMENT,
  sh,
  stopPid,
  tables,
} from "./node_host.ts";

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

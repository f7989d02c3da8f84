/**
 * `deno task cluster up|down|build|status`: the test control plane by hand.
 * `up` starts it detached, prints `KUBECONFIG=<path>` and leaves it running (`--node`: with a node, see
 * node.ts); `down` stops it, the node first. `build --node` builds kubelet and kube-scheduler too.
 *
 * @example
 * ```sh
 * deno task cluster up      # prints KUBECONFIG=/tmp/kubemirror-cluster-…/admin.kubeconfig
 * deno task cluster up --node   # and a node where Pods run (root; containerd, runc, CNI plugins)
 * deno task cluster down
 * deno task cluster up --name hub   # a second plane beside the first (several at once, by name)
 * ```
 * @module
 */
import { join } from "node:path";
import { cacheRoot, ensureBinaries } from "./build.ts";
import { startCluster } from "./cluster.ts";
import { alive, type NodeState, teardownNode } from "./node.ts";

interface State {
  dir: string;
  pids: number[];
  kubeconfig: string;
  server: string;
  node?: NodeState;
}

/** `--name NAME` (or `--name=NAME`): several planes at once, each with its own state (two clusters for §10). */
function planeName(args: readonly string[]): string {
  const i = args.findIndex((a) => a === "--name" || a.startsWith("--name="));
  if (i < 0) return "state";
  const name = args[i].includes("=") ? args[i].slice("--name=".length) : args[i + 1] ?? "";
  if (!/^[a-z0-9][-a-z0-9]*$/.test(name)) {
    console.error(`[testcluster] --name must be lower case letters, digits and '-', not "${name}"`);
    Deno.exit(2);
  }
  return name;
}

const statePath = () => join(cacheRoot(), "run", `${planeName(Deno.args)}.json`);

async function readState(): Promise<State | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(statePath())) as State;
  } catch {
    return undefined;
  }
}

async function down(): Promise<void> {
  const state = await readState();
  if (!state) {
    console.error("[testcluster] no control plane is running");
    return;
  }
  if (state.node) await teardownNode(state.node, state.kubeconfig);
  // Reverse start order: controller manager, API server, etcd.
  for (const pid of [...state.pids].reverse()) {
    if (!alive(pid)) continue;
    try {
      Deno.kill(pid, "SIGTERM");
    } catch {
      // gone
    }
    for (let i = 0; i < 100 && alive(pid); i++) await new Promise((r) => setTimeout(r, 100));
    if (alive(pid)) Deno.kill(pid, "SIGKILL");
  }
  await Deno.remove(state.dir, { recursive: true }).catch(() => {});
  await Deno.remove(statePath()).catch(() => {});
  console.error(`[testcluster] stopped (${state.pids.length} processes) and removed ${state.dir}`);
}

const [command, ...flags] = Deno.args;
const withNode = flags.includes("--node");
switch (command) {
  case "build": {
    const bin = await ensureBinaries({ node: withNode });
    for (const [name, path] of Object.entries(bin)) console.log(`${name}: ${path}`);
    break;
  }
  case "up": {
    const existing = await readState();
    if (existing && existing.pids.some(alive)) {
      console.error(`[testcluster] already running at ${existing.server}; 'deno task cluster down' stops it`);
      console.log(`KUBECONFIG=${existing.kubeconfig}`);
      break;
    }
    const cluster = await startCluster({ detached: true, node: withNode });
    const state: State = {
      dir: cluster.dir,
      pids: cluster.pids(),
      kubeconfig: cluster.kubeconfigPath("admin"),
      server: cluster.server,
      node: cluster.node?.state,
    };
    await Deno.mkdir(join(cacheRoot(), "run"), { recursive: true });
    await Deno.writeTextFile(statePath(), JSON.stringify(state, null, 2));
    console.error(
      `[testcluster] logs in ${cluster.dir}; a user with no rights: ${cluster.kubeconfigPath("nobody")}`,
    );
    console.log(`KUBECONFIG=${state.kubeconfig}`);
    break;
  }
  case "down":
    await down();
    break;
  case "status": {
    const state = await readState();
    if (!state || !state.pids.some(alive)) console.log("not running");
    else console.log(`running at ${state.server}\nKUBECONFIG=${state.kubeconfig}`);
    break;
  }
  default:
    console.error(
      "usage: deno task cluster up [--node] [--name NAME] | down [--name NAME] | status [--name NAME] | build [--node]",
    );
    Deno.exit(2);
}

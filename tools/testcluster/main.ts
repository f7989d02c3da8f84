/**
 * `deno task cluster up|down|build|status`: the test control plane by hand.
 * `up` starts it detached, prints `KUBECONFIG=<path>` and leaves it running; `down` stops it.
 *
 * @example
 * ```sh
 * deno task cluster up      # prints KUBECONFIG=/tmp/kubemirror-cluster-…/admin.kubeconfig
 * deno task cluster down
 * ```
 * @module
 */
import { join } from "node:path";
import { cacheRoot, ensureBinaries } from "./build.ts";
import { startCluster } from "./cluster.ts";

interface State {
  dir: string;
  pids: number[];
  kubeconfig: string;
  server: string;
}

const statePath = () => join(cacheRoot(), "run", "state.json");

async function readState(): Promise<State | undefined> {
  try {
    return JSON.parse(await Deno.readTextFile(statePath())) as State;
  } catch {
    return undefined;
  }
}

function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

async function down(): Promise<void> {
  const state = await readState();
  if (!state) {
    console.error("[testcluster] no control plane is running");
    return;
  }
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

const [command] = Deno.args;
switch (command) {
  case "build": {
    const bin = await ensureBinaries();
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
    const cluster = await startCluster({ detached: true });
    const state: State = {
      dir: cluster.dir,
      pids: cluster.pids(),
      kubeconfig: cluster.kubeconfigPath("admin"),
      server: cluster.server,
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
    console.error("usage: deno task cluster up|down|status|build");
    Deno.exit(2);
}

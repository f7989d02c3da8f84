/**
 * The host side of the test node: commands, processes, iptables and network-namespace listings, and
 * requests as the plane's admin. Shared by starting the node (node.ts) and tearing it down
 * (node_teardown.ts).
 *
 * @example
 * ```ts
 * import { alive, sh } from "./node_host.ts";
 * const { text } = await sh("iptables-save", [], { allowFail: true });
 * alive(Deno.pid); // true
 * ```
 * @module
 */
import { kubeconfigCredentials } from "./credentials.ts";

/** The bridge Pods hang off. */
export const BRIDGE = "kmtest0";
/** Marks the iptables rules made here, so teardown finds exactly them. */
export const RULE_COMMENT = "kubemirror-test-node";

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

/** Runs a command; throws on failure unless `allowFail`. */
export async function sh(cmd: string, args: string[], options: { allowFail?: boolean; stdin?: string } = {}) {
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

/** Whether a process is still there. */
export function alive(pid: number): boolean {
  try {
    Deno.kill(pid, "SIGCONT");
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, a grace period, then SIGKILL; returns once the process is gone. */
export async function stopPid(pid: number | undefined, graceMs = 10_000): Promise<void> {
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
export async function tables(): Promise<string[]> {
  const out: string[] = [];
  for (const [family, cmd] of [["v4", "iptables-save"], ["v6", "ip6tables-save"]]) {
    const { text } = await sh(cmd, [], { allowFail: true });
    for (const line of text.split("\n")) if (line.startsWith("*")) out.push(`${family} ${line.slice(1)}`);
  }
  return out;
}

/** Every iptables chain, as `v4|v6 table/chain`. */
export async function chains(): Promise<string[]> {
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

/** Entries of `/var/run/netns`. */
export function netnsEntries(): string[] {
  try {
    return [...Deno.readDirSync("/var/run/netns")].map((e) => e.name);
  } catch {
    return [];
  }
}

/** Requests to the plane as its admin, from the admin kubeconfig the plane wrote (token and CA inline). */
export async function adminApi(kubeconfig: string) {
  const { server, token, ca } = kubeconfigCredentials(await Deno.readTextFile(kubeconfig));
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

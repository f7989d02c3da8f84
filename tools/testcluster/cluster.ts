/**
 * A real Kubernetes control plane for tests: etcd, kube-apiserver and kube-controller-manager on free
 * loopback ports with a fresh data directory, token authentication (an admin and a user with no rights),
 * RBAC, service-account keys and a Metadata-level audit log. `KUBEMIRROR_TEST_KUBECONFIG` points the
 * tests at an existing cluster instead (kind, k3d); the audit log and restarts are then unavailable.
 *
 * @example
 * ```ts
 * import { withCluster } from "./cluster.ts";
 * await withCluster(async (cluster) => {
 *   console.log(cluster.kubeconfigPath("admin"));
 * });
 * ```
 * @module
 */
import { generateKeyPairSync } from "node:crypto";
import { join } from "node:path";
import { type Binaries, ensureBinaries } from "./build.ts";
import { type Node, startNode } from "./node.ts";

/** Users with a token: `admin` (system:masters) and `nobody` (no rights at all). */
export type User = "admin" | "nobody";

/** One audit event, as written at Metadata level. */
export interface AuditEvent {
  verb: string;
  stage: string;
  requestURI: string;
  user: { username: string; groups?: string[] };
  userAgent?: string;
  objectRef?: { resource?: string; namespace?: string; name?: string; apiGroup?: string };
  responseStatus?: { code?: number };
  stageTimestamp?: string;
}

/** A running control plane. */
export interface Cluster {
  /** The API server's URL. */
  server: string;
  /** Where kubeconfigs, logs and data live. */
  dir: string;
  /** Whether this plane was started here (false for `KUBEMIRROR_TEST_KUBECONFIG`). */
  local: boolean;
  /** The kubeconfig file of a user. */
  kubeconfigPath(user: User): string;
  /** Writes a kubeconfig that authenticates with `token` and returns its path. */
  kubeconfigForToken(name: string, token: string): Promise<string>;
  /** Every audit event so far (ResponseComplete stage). */
  auditEvents(): Promise<AuditEvent[]>;
  /** Stops and starts kube-apiserver on the same port (down for `downMs`), and waits until it is ready. */
  restartApiServer(options?: { downMs?: number }): Promise<void>;
  /** Stops and starts etcd on the same data, and waits until the API server is ready again. */
  restartEtcd(): Promise<void>;
  /** Freezes etcd (SIGSTOP): every request that needs storage hangs until {@link resumeEtcd}. */
  pauseEtcd(): void;
  /** Lets a paused etcd go on (SIGCONT). */
  resumeEtcd(): void;
  /** Stops every process; the data directory is removed unless `keep`. */
  stop(options?: { keep?: boolean }): Promise<void>;
  /** The binaries (local planes only), helm among them. */
  binaries?: Binaries;
  /** Process ids of etcd, kube-apiserver and kube-controller-manager (local planes only). */
  pids(): number[];
  /** The node, when started with `node: true`. */
  node?: Node;
}

/** Options for {@link startCluster}. */
export interface ClusterOptions {
  /** Run kube-controller-manager (namespace deletion, garbage collection). Default true. */
  controllerManager?: boolean;
  /** Where to put the data; default a fresh temporary directory. */
  dir?: string;
  /** Print progress to stderr. Default true. */
  verbose?: boolean;
  /** Let the processes outlive this one (`deno task cluster up`). Default false. */
  detached?: boolean;
  /**
   * Start a node too (containerd, kubelet, kube-scheduler; see node.ts), so Pods run. Needs root and
   * Debian's containerd, runc and containernetworking-plugins. Default false.
   */
  node?: boolean;
}

const ADMIN_TOKEN = "kubemirror-test-admin-token";
const NOBODY_TOKEN = "kubemirror-test-nobody-token";

function log(verbose: boolean, message: string): void {
  if (verbose) console.error(`[testcluster] ${message}`);
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

function kubeconfig(server: string, caPem: string | undefined, user: string, token: string): string {
  // The CA is embedded, as kind and k3d do, so that reading the kubeconfig alone is enough.
  const cluster = caPem
    ? `    certificate-authority-data: ${btoa(caPem)}\n    server: ${server}\n`
    : `    insecure-skip-tls-verify: true\n    server: ${server}\n`;
  return `apiVersion: v1
kind: Config
clusters:
- name: test
  cluster:
${cluster}users:
- name: ${user}
  user:
    token: ${token}
contexts:
- name: ${user}@test
  context:
    cluster: test
    user: ${user}
    namespace: default
current-context: ${user}@test
`;
}

function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`;
}

/** One component; its output goes to a log file. `detached` ones outlive this process (for `cluster up`). */
class Process {
  child?: Deno.ChildProcess;
  constructor(
    readonly name: string,
    readonly bin: string,
    readonly args: string[],
    readonly logFile: string,
    readonly detached = false,
  ) {}

  start(): Promise<void> {
    // exec keeps one pid for the component, so signals reach it directly.
    const command = `exec ${[this.bin, ...this.args].map(shellQuote).join(" ")} >>${
      shellQuote(this.logFile)
    } 2>&1`;
    this.child = new Deno.Command("sh", {
      args: ["-c", command],
      stdin: "null",
      stdout: "null",
      stderr: "null",
      detached: this.detached,
    }).spawn();
    if (this.detached) this.child.unref();
    return Promise.resolve();
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async stop(signal: Deno.Signal = "SIGTERM", graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    try {
      child.kill(signal);
    } catch {
      // already gone
    }
    const timer = setTimeout(() => {
      try {
        child.kill("SIGKILL");
      } catch {
        // already gone
      }
    }, graceMs);
    await child.status;
    clearTimeout(timer);
  }
}

async function waitReady(server: string, caPem: string, verbose: boolean, what: string, timeoutMs = 120_000) {
  const client = Deno.createHttpClient({ caCerts: [caPem] });
  const start = performance.now();
  let last = "";
  try {
    while (performance.now() - start < timeoutMs) {
      try {
        const res = await fetch(`${server}/readyz`, {
          client,
          headers: { Authorization: `Bearer ${ADMIN_TOKEN}` },
          signal: AbortSignal.timeout(5000),
        });
        const body = await res.text();
        if (res.status === 200) {
          log(verbose, `${what} ready in ${((performance.now() - start) / 1000).toFixed(1)}s`);
          return;
        }
        last = `${res.status} ${body.split("\n").filter((l) => l.includes("failed")).join("; ")}`;
      } catch (e) {
        last = e instanceof Error ? e.message : String(e);
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  } finally {
    client.close();
  }
  throw new Error(`${what} not ready after ${timeoutMs / 1000}s: ${last}`);
}

async function waitForFile(path: string, timeoutMs: number): Promise<string> {
  const start = performance.now();
  while (performance.now() - start < timeoutMs) {
    try {
      const text = await Deno.readTextFile(path);
      if (text.includes("END CERTIFICATE")) return text;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${path} did not appear`);
}

/** Starts a local control plane, or attaches to `KUBEMIRROR_TEST_KUBECONFIG` when it is set. */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const verbose = options.verbose ?? true;
  const external = Deno.env.get("KUBEMIRROR_TEST_KUBECONFIG");
  if (external) return externalCluster(external);
  const bin = await ensureBinaries({ node: options.node });
  const started = performance.now();
  const dir = options.dir ?? await Deno.makeTempDir({ prefix: "kubemirror-cluster-" });
  await Deno.mkdir(join(dir, "certs"), { recursive: true });
  const etcdPort = freePort();
  const peerPort = freePort();
  const apiPort = freePort();
  const server = `https://127.0.0.1:${apiPort}`;

  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const saKey = join(dir, "sa.key");
  await Deno.writeTextFile(saKey, privateKey.export({ type: "pkcs1", format: "pem" }) as string);
  await Deno.writeTextFile(
    join(dir, "tokens.csv"),
    `${ADMIN_TOKEN},admin,admin-uid,"system:masters"\n${NOBODY_TOKEN},nobody,nobody-uid,""\n`,
  );
  await Deno.writeTextFile(
    join(dir, "audit-policy.yaml"),
    "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n",
  );
  const auditLog = join(dir, "audit.log");

  const etcd = new Process(
    "etcd",
    bin.etcd,
    [
      "--data-dir",
      join(dir, "etcd"),
      "--listen-client-urls",
      `http://127.0.0.1:${etcdPort}`,
      "--advertise-client-urls",
      `http://127.0.0.1:${etcdPort}`,
      "--listen-peer-urls",
      `http://127.0.0.1:${peerPort}`,
      "--initial-advertise-peer-urls",
      `http://127.0.0.1:${peerPort}`,
      "--initial-cluster",
      `default=http://127.0.0.1:${peerPort}`,
      "--unsafe-no-fsync",
      "--log-level",
      "warn",
    ],
    join(dir, "etcd.log"),
    options.detached,
  );
  const controllerManager = options.controllerManager ?? true;
  const apiserver = new Process(
    "kube-apiserver",
    bin.kubeApiserver,
    [
      `--etcd-servers=http://127.0.0.1:${etcdPort}`,
      "--bind-address=127.0.0.1",
      "--advertise-address=127.0.0.1",
      `--secure-port=${apiPort}`,
      `--cert-dir=${join(dir, "certs")}`,
      "--service-cluster-ip-range=10.0.0.0/24",
      `--service-account-issuer=${server}`,
      `--service-account-key-file=${saKey}`,
      `--service-account-signing-key-file=${saKey}`,
      `--token-auth-file=${join(dir, "tokens.csv")}`,
      "--authorization-mode=RBAC",
      "--allow-privileged=true",
      "--endpoint-reconciler-type=none",
      `--audit-policy-file=${join(dir, "audit-policy.yaml")}`,
      `--audit-log-path=${auditLog}`,
      "--audit-log-mode=blocking",
      // Never rotated (the default rotates at 100 MB): the benchmarks read positions in one file across
      // hundreds of thousands of writes.
      "--audit-log-maxsize=1000000",
      ...(controllerManager ? [] : ["--disable-admission-plugins=ServiceAccount"]),
      "-v=1",
    ],
    join(dir, "kube-apiserver.log"),
    options.detached,
  );

  log(verbose, `starting etcd on 127.0.0.1:${etcdPort} and kube-apiserver on ${server} (data in ${dir})`);
  await etcd.start();
  await apiserver.start();
  const caFile = join(dir, "certs", "apiserver.crt");
  let caPem: string;
  try {
    caPem = await waitForFile(caFile, 60_000);
    await waitReady(server, caPem, verbose, "kube-apiserver");
  } catch (e) {
    await apiserver.stop();
    await etcd.stop();
    const tail = await Deno.readTextFile(join(dir, "kube-apiserver.log")).catch(() => "");
    throw new Error(
      `${e instanceof Error ? e.message : e}\n--- kube-apiserver.log (tail)\n${tail.slice(-3000)}`,
    );
  }
  const paths: Record<User, string> = {
    admin: join(dir, "admin.kubeconfig"),
    nobody: join(dir, "nobody.kubeconfig"),
  };
  await Deno.writeTextFile(paths.admin, kubeconfig(server, caPem, "admin", ADMIN_TOKEN));
  await Deno.writeTextFile(paths.nobody, kubeconfig(server, caPem, "nobody", NOBODY_TOKEN));

  let kcm: Process | undefined;
  if (controllerManager) {
    kcm = new Process(
      "kube-controller-manager",
      bin.kubeControllerManager,
      [
        `--kubeconfig=${paths.admin}`,
        "--leader-elect=false",
        "--secure-port=0",
        `--service-account-private-key-file=${saKey}`,
        `--root-ca-file=${caFile}`,
        "--controllers=*",
        "--use-service-account-credentials=false",
        "-v=1",
      ],
      join(dir, "kube-controller-manager.log"),
      options.detached,
    );
    await kcm.start();
  }
  log(verbose, `control plane up in ${((performance.now() - started) / 1000).toFixed(1)}s`);
  let node: Node | undefined;
  if (options.node) {
    try {
      node = await startNode({
        dir,
        kubeconfig: paths.admin,
        apiPort,
        kubelet: bin.kubelet!,
        kubeScheduler: bin.kubeScheduler!,
        detached: options.detached,
      });
    } catch (e) {
      await kcm?.stop();
      await apiserver.stop();
      await etcd.stop();
      throw e;
    }
  }

  let stopped = false;
  const cluster: Cluster = {
    server,
    dir,
    local: true,
    binaries: bin,
    node,
    pids: () => [etcd.pid, apiserver.pid, kcm?.pid].filter((p): p is number => p !== undefined),
    kubeconfigPath: (user) => paths[user],
    async kubeconfigForToken(name, token) {
      const path = join(dir, `${name}.kubeconfig`);
      await Deno.writeTextFile(path, kubeconfig(server, caPem, name, token));
      return path;
    },
    async auditEvents() {
      // Read as a stream: at 100,000 writes and more the log outgrows the longest string V8 can hold.
      const file = await Deno.open(auditLog).catch(() => undefined);
      if (!file) return [];
      const events: AuditEvent[] = [];
      let rest = "";
      const take = (line: string) => {
        if (line.includes('"ResponseComplete"')) {
          const e = JSON.parse(line) as AuditEvent;
          if (e.stage === "ResponseComplete") events.push(e);
        }
      };
      for await (const chunk of file.readable.pipeThrough(new TextDecoderStream())) {
        const lines = (rest + chunk).split("\n");
        rest = lines.pop()!;
        for (const line of lines) take(line);
      }
      // A last line without its newline is still being written: left for the next read.
      return events;
    },
    async restartApiServer({ downMs = 0 }: { downMs?: number } = {}) {
      await apiserver.stop();
      if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
      await apiserver.start();
      await waitReady(server, caPem, verbose, "kube-apiserver (restarted)");
    },
    async restartEtcd() {
      await etcd.stop();
      await etcd.start();
      await waitReady(server, caPem, verbose, "kube-apiserver (after etcd restart)");
    },
    pauseEtcd() {
      Deno.kill(etcd.pid!, "SIGSTOP");
    },
    resumeEtcd() {
      Deno.kill(etcd.pid!, "SIGCONT");
    },
    async stop(opts) {
      if (stopped) return;
      stopped = true;
      // The node first: its Pods are deleted through the API server.
      await node?.stop();
      await kcm?.stop();
      await apiserver.stop();
      await etcd.stop();
      if (!opts?.keep) await Deno.remove(dir, { recursive: true }).catch(() => {});
      log(verbose, "control plane stopped");
    },
  };
  return cluster;
}

function externalCluster(path: string): Cluster {
  const unavailable = (what: string) => () => {
    throw new Error(`${what} is not available on an existing cluster (KUBEMIRROR_TEST_KUBECONFIG)`);
  };
  return {
    server: "",
    dir: "",
    local: false,
    kubeconfigPath: (user) => {
      if (user !== "admin") throw new Error("only the admin kubeconfig exists on an existing cluster");
      return path;
    },
    kubeconfigForToken: unavailable("kubeconfigForToken") as () => Promise<string>,
    auditEvents: unavailable("the audit log") as () => Promise<AuditEvent[]>,
    restartApiServer: unavailable("restarting kube-apiserver") as () => Promise<void>,
    restartEtcd: unavailable("restarting etcd") as () => Promise<void>,
    pauseEtcd: unavailable("pausing etcd") as () => void,
    resumeEtcd: unavailable("pausing etcd") as () => void,
    stop: () => Promise.resolve(),
    pids: () => [],
  };
}

/** Starts a plane, runs `fn`, and stops the plane even when `fn` throws. */
export async function withCluster<T>(
  fn: (cluster: Cluster) => Promise<T>,
  options?: ClusterOptions,
): Promise<T> {
  const cluster = await startCluster(options);
  try {
    return await fn(cluster);
  } finally {
    await cluster.stop();
  }
}

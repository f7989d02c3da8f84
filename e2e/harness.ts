/**
 * End-to-end test harness: one real control plane per test file, the controller run as a separate
 * process through `tools/run.sh` (the production permission flags), and helpers to apply objects and
 * wait for what a user would see.
 * @module
 */
import { join } from "node:path";
import { type Cluster, type ClusterOptions, freePort, startCluster } from "../tools/testcluster/cluster.ts";
import { ignoreNotFound, isStatus } from "../shell/kube/client.ts";
import { KubeApi } from "../shell/kube/kube_api.ts";
import { loadKubeConfig } from "../shell/kube/kube_config.ts";
import type { KubeObject } from "../core/types.ts";
import { buildImage, IMAGE_REFERENCE } from "../tools/image.ts";
import { kubeconfigCredentials } from "../tools/testcluster/credentials.ts";

export const ROOT = join(import.meta.dirname!, "..");

/** What podman needs on these machines to run a container. */
export const PODMAN_RUN_FLAGS = ["--runtime=runc", "--ulimit=nofile=1024:1024", "--ulimit=nproc=1024:1024"];

/** Builds the image (`deno task image`) and loads it into podman; returns its reference. */
export async function loadImageIntoPodman(): Promise<string> {
  const { archive, reference } = await buildImage();
  const out = await new Deno.Command("podman", { args: ["load", "-q", "-i", archive], stderr: "piped" })
    .output();
  if (!out.success) throw new Error(`podman load failed: ${new TextDecoder().decode(out.stderr)}`);
  return reference;
}

/** Whether an audited request is the controller's (its User-Agent), not the test's own. */
export const byController = (e: { userAgent?: string }): boolean =>
  e.userAgent?.startsWith("kubemirror/") ?? false;

/**
 * The controller's flags in the scale benchmarks: one replica, 1,000 requests a second, 5 sources at once,
 * ConfigMaps only, and a target cap above the `namespaces` each source targets (and the new ones added).
 */
export function scaleBenchFlags(namespaces: number): string[] {
  return [
    "--leader-elect=false",
    "--rate-limit-qps=1000",
    "--rate-limit-burst=1000",
    "--worker-threads=5",
    `--max-targets=${namespaces + 500}`,
    "--resource-types=ConfigMap.v1",
  ];
}

/** A controller process. */
export interface ControllerProcess {
  child: Deno.ChildProcess;
  metricsPort: number;
  healthPort: number;
  logFile: string;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: Deno.Signal): Promise<number>;
  metrics(): Promise<string>;
  ready(): Promise<boolean>;
  logs(): Promise<string>;
}

/** Retries `fn` until it stops throwing, or throws its last error after `timeoutMs`. */
export async function eventually<T>(
  fn: () => Promise<T> | T,
  timeoutMs = 30_000,
  intervalMs = 150,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      return await fn();
    } catch (e) {
      last = e;
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  }
  throw last;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU seconds (user + system) of a process so far, from /proc. */
export async function cpuSeconds(pid: number): Promise<number> {
  const stat = (await Deno.readTextFile(`/proc/${pid}/stat`)).split(") ")[1].split(" ");
  return (Number(stat[11]) + Number(stat[12])) / 100;
}

/** Runs `fn(0)` … `fn(n - 1)`, `size` at once. */
export async function pool(n: number, size: number, fn: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: size }, async () => {
    while (next < n) await fn(next++);
  }));
}

/**
 * One series' value in the controller's `/metrics` text: `series` is the name with its labels exactly as
 * exposed (`kubemirror_api_requests_total{verb="create",code="201"}`); `undefined` when it is not there.
 */
export function metricValue(text: string, series: string): number | undefined {
  const line = text.split("\n").find((l) => l.startsWith(series + " "));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

/** Runs a command to its end; its exit code and output. */
export async function run(
  cmd: string,
  args: string[],
  cwd?: string,
): Promise<{ code: number; out: string; err: string }> {
  const o = await new Deno.Command(cmd, { args, cwd, stdout: "piped", stderr: "piped" }).output();
  return { code: o.code, out: new TextDecoder().decode(o.stdout), err: new TextDecoder().decode(o.stderr) };
}

/** Paths of the core and common resources. */
export const CM = (ns: string, name?: string) =>
  `/api/v1/namespaces/${ns}/configmaps${name ? "/" + name : ""}`;
export const SECRET = (ns: string, name?: string) =>
  `/api/v1/namespaces/${ns}/secrets${name ? "/" + name : ""}`;

/** The test environment. */
export class Harness {
  readonly controllers: ControllerProcess[] = [];
  readonly #tempDirs: string[] = [];
  #bundlePath?: string;
  private constructor(readonly cluster: Cluster, readonly api: KubeApi) {}

  static async start(options: ClusterOptions = {}): Promise<Harness> {
    const cluster = await startCluster(options);
    const api = new KubeApi(loadKubeConfig(cluster.kubeconfigPath("admin")), {
      qps: 500,
      burst: 1000,
      userAgent: "e2e-test",
    });
    return new Harness(cluster, api);
  }

  /**
   * `helm install|upgrade kubemirror charts/kubemirror` into `namespace` with the admin kubeconfig, no hooks
   * (no kubelet runs Pods here) and one replica, plus `extra` flags.
   */
  helmRelease(verb: "install" | "upgrade", namespace: string, ...extra: string[]) {
    return run(this.cluster.binaries!.helm, [
      verb,
      "kubemirror",
      `${ROOT}/charts/kubemirror`,
      "-n",
      namespace,
      "--kubeconfig",
      this.cluster.kubeconfigPath("admin"),
      "--no-hooks",
      "--set",
      "replicaCount=1",
      ...extra,
    ]);
  }

  /**
   * A ServiceAccount (its namespace made if needed) bound cluster-wide to a ClusterRole: an existing one by
   * name, or one made from `rules` under the binding's name.
   */
  async serviceAccountWithRole(
    namespace: string,
    name: string,
    role: { clusterRole: string } | { rules: unknown[] },
  ): Promise<void> {
    if (!(await this.find(`/api/v1/namespaces/${namespace}`))) await this.createNamespace(namespace);
    await this.apply(`/api/v1/namespaces/${namespace}/serviceaccounts`, {
      apiVersion: "v1",
      kind: "ServiceAccount",
      metadata: { name, namespace },
    });
    const binding = `${namespace}-${name}`;
    if ("rules" in role) {
      await this.apply("/apis/rbac.authorization.k8s.io/v1/clusterroles", {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: binding },
        rules: role.rules,
      } as KubeObject);
    }
    await this.apply("/apis/rbac.authorization.k8s.io/v1/clusterrolebindings", {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: binding },
      roleRef: {
        apiGroup: "rbac.authorization.k8s.io",
        kind: "ClusterRole",
        name: "rules" in role ? binding : role.clusterRole,
      },
      subjects: [{ kind: "ServiceAccount", name, namespace }],
    } as KubeObject);
  }

  /** A kubeconfig that authenticates as a ServiceAccount, with a token the API server issues for it. */
  async serviceAccountKubeconfig(namespace: string, name: string): Promise<string> {
    const token = await this.api.request<{ status: { token: string } }>(
      "POST",
      `/api/v1/namespaces/${namespace}/serviceaccounts/${name}/token`,
      {
        body: {
          apiVersion: "authentication.k8s.io/v1",
          kind: "TokenRequest",
          spec: { expirationSeconds: 3600 },
        },
      },
    );
    return await this.cluster.kubeconfigForToken(`${name}-sa`, token.status.token);
  }

  /** Starts a controller process with these extra flags, and waits until it is ready (unless told not to). */
  async startController(
    args: string[] = [],
    env: Record<string, string> = {},
    { waitReady = true, entry = "source" }: { waitReady?: boolean; entry?: "source" | "image" | "bundle" } =
      {},
  ): Promise<ControllerProcess> {
    const metricsPort = freePort();
    const healthPort = freePort();
    const logFile = await Deno.makeTempFile({ prefix: "kubemirror-controller-", suffix: ".log" });
    const common = [
      `--metrics-bind-address=127.0.0.1:${metricsPort}`,
      `--health-probe-bind-address=127.0.0.1:${healthPort}`,
      "--leader-election-namespace=default",
      ...args,
    ];
    let child: Deno.ChildProcess;
    let signal: (s: Deno.Signal) => Promise<void>;
    if (entry === "image") {
      // The image as a Pod runs it: read-only root, user 65532, in-cluster configuration from a mounted
      // service-account directory (the admin's token here), nothing else from the host.
      const name = `kubemirror-test-${metricsPort}`;
      const sa = await this.#serviceAccountDir();
      this.#tempDirs.push(sa);
      const port = new URL(this.cluster.server).port;
      child = new Deno.Command("sh", {
        args: [
          "-c",
          `exec "$0" "$@" >>'${logFile}' 2>&1`,
          "podman",
          "run",
          "--rm",
          "--name",
          name,
          ...PODMAN_RUN_FLAGS,
          "--network=host",
          "--read-only",
          `-v=${sa}:/var/run/secrets/kubernetes.io/serviceaccount:ro`,
          "-e=KUBERNETES_SERVICE_HOST=127.0.0.1",
          `-e=KUBERNETES_SERVICE_PORT=${port}`,
          ...Object.entries({ LOG_LEVEL: "debug", ...env }).map(([k, v]) => `-e=${k}=${v}`),
          IMAGE_REFERENCE,
          ...common,
        ],
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      signal = async (s) => {
        await new Deno.Command("podman", {
          args: ["kill", `--signal=${s}`, name],
          stdout: "null",
          stderr: "null",
        })
          .output();
      };
    } else if (entry === "bundle") {
      // The production entry point without podman: the Dockerfile's bundle, run with the compiled binary's
      // permission flags and the image's environment (MALLOC_ARENA_MAX), on this Deno.
      const bundle = await this.#bundle();
      const kubeconfig = this.cluster.kubeconfigPath("admin");
      const binaryFlags = (await run("sh", [`${ROOT}/tools/build_binary.sh`, "--flags"])).out.trim().split(
        "\n",
      )
        .map((f) => f.startsWith("--allow-read=") ? `${f},${kubeconfig}` : f);
      child = new Deno.Command("sh", {
        args: [
          "-c",
          `exec "$0" "$@" >>'${logFile}' 2>&1`,
          Deno.execPath(),
          "run",
          ...binaryFlags,
          bundle,
          `--kubeconfig=${kubeconfig}`,
          ...common,
        ],
        env: { MALLOC_ARENA_MAX: "2", LOG_LEVEL: "debug", NO_COLOR: "1", ...env },
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      signal = killer(child);
    } else {
      const cmd = `exec sh "$0" "$@" >>'${logFile}' 2>&1`;
      child = new Deno.Command("sh", {
        args: [
          "-c",
          cmd,
          `${ROOT}/tools/run.sh`,
          `--kubeconfig=${this.cluster.kubeconfigPath("admin")}`,
          ...common,
        ],
        env: { DENO: Deno.execPath(), LOG_LEVEL: "debug", NO_COLOR: "1", ...env },
        stdin: "null",
        stdout: "null",
        stderr: "null",
      }).spawn();
      signal = killer(child);
    }
    const proc: ControllerProcess = {
      child,
      metricsPort,
      healthPort,
      logFile,
      async stop(sig: Deno.Signal = "SIGTERM") {
        await signal(sig);
        return (await child.status).code;
      },
      async metrics() {
        const res = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
        return await res.text();
      },
      async ready() {
        try {
          const res = await fetch(`http://127.0.0.1:${healthPort}/readyz`);
          await res.body?.cancel();
          return res.status === 200;
        } catch {
          return false;
        }
      },
      logs: () => Deno.readTextFile(logFile),
    };
    this.controllers.push(proc);
    if (!waitReady) return proc;
    await eventually(
      async () => {
        if (!(await proc.ready())) {
          throw new Error(
            `controller not ready; log:\n${(await proc.logs()).slice(-2000)}`,
          );
        }
      },
      60_000,
      200,
    );
    return proc;
  }

  /** The Dockerfile's bundle of mod.ts, built once per harness. */
  async #bundle(): Promise<string> {
    if (this.#bundlePath) return this.#bundlePath;
    const dir = await Deno.makeTempDir({ prefix: "kubemirror-bundle-" });
    this.#tempDirs.push(dir);
    const out = `${dir}/kubemirror.js`;
    const r = await run("sh", [`${ROOT}/tools/build_binary.sh`, "--bundle", out]);
    if (r.code !== 0) throw new Error(`bundling failed:\n${r.err}`);
    // Run it once, as the image is made (tools/image.ts): Deno records its analysis of the module then,
    // which a compiled binary never does at run time. Unrecorded, the first run parses the 1.4 MB bundle
    // and keeps about 30 MiB more resident.
    const warm = await run(Deno.execPath(), [
      "run",
      "--no-prompt",
      "--allow-env",
      "--allow-read",
      out,
      "--help",
    ]);
    if (warm.code !== 0) throw new Error(`the bundle did not run:\n${warm.err}`);
    this.#bundlePath = out;
    return out;
  }

  /** A service-account directory (token, ca.crt, namespace) holding the admin's credentials. */
  async #serviceAccountDir(): Promise<string> {
    const { token, ca } = kubeconfigCredentials(
      await Deno.readTextFile(this.cluster.kubeconfigPath("admin")),
    );
    const dir = await Deno.makeTempDir({ prefix: "kubemirror-sa-" });
    await Deno.writeTextFile(`${dir}/token`, token);
    await Deno.writeTextFile(`${dir}/ca.crt`, ca);
    await Deno.writeTextFile(`${dir}/namespace`, "default");
    await Deno.chmod(dir, 0o755);
    for (const f of ["token", "ca.crt", "namespace"]) await Deno.chmod(`${dir}/${f}`, 0o644);
    return dir;
  }

  /** Discovers where a kind lives (cached), for applying manifests of any kind. */
  async pathFor(obj: KubeObject): Promise<string> {
    const gv = obj.apiVersion!;
    const list = await this.api.get(gv.includes("/") ? `/apis/${gv}` : `/api/${gv}`);
    const r = (list.resources as { name: string; kind: string; namespaced: boolean }[]).find((x) =>
      x.kind === obj.kind && !x.name.includes("/")
    );
    if (!r) throw new Error(`${obj.kind} is not served under ${gv}`);
    const base = gv.includes("/") ? `/apis/${gv}` : `/api/${gv}`;
    return r.namespaced
      ? `${base}/namespaces/${obj.metadata?.namespace ?? "default"}/${r.name}`
      : `${base}/${r.name}`;
  }

  /** Applies every document of a YAML file. */
  async applyFile(file: string): Promise<KubeObject[]> {
    const { parseManifests } = await import("../shell/plan/manifests.ts");
    const { objects, errors } = parseManifests(await Deno.readTextFile(file), file);
    if (errors.length > 0) throw new Error(errors.join("\n"));
    const out: KubeObject[] = [];
    for (const o of objects) out.push(await this.apply(await this.pathFor(o), o));
    return out;
  }

  /** Waits until a CRD's kind is served. */
  async waitServed(apiVersion: string, kind: string): Promise<void> {
    await eventually(async () => {
      await this.pathFor({ apiVersion, kind, metadata: { namespace: "default" } });
    }, 30_000);
  }

  async createNamespace(name: string, labels: Record<string, string> = {}): Promise<void> {
    await this.api.request("POST", "/api/v1/namespaces", { body: { metadata: { name, labels } } });
  }

  /** Creates the object, or replaces it when it exists. */
  async apply(path: string, obj: KubeObject): Promise<KubeObject> {
    try {
      return await this.api.request("POST", path, { body: obj });
    } catch (e) {
      if (!isStatus(e, 409)) throw e;
    }
    // It exists: replace it, reading it again when the controller wrote it meanwhile (finalizer,
    // status), as kubectl retries on a conflict.
    for (let attempt = 1;; attempt++) {
      const current = await this.api.get<any>(`${path}/${obj.metadata!.name}`);
      try {
        return await this.api.request("PUT", `${path}/${obj.metadata!.name}`, {
          body: { ...obj, metadata: { ...obj.metadata, resourceVersion: current.metadata.resourceVersion } },
        });
      } catch (e) {
        if (!isStatus(e, 409) || attempt >= 5) throw e;
      }
    }
  }

  async get(path: string): Promise<any> {
    return await this.api.get(path);
  }

  /** The object, or undefined when it does not exist. */
  find(path: string): Promise<any> {
    return ignoreNotFound(this.api.get(path));
  }

  async remove(path: string): Promise<void> {
    await ignoreNotFound(this.api.request("DELETE", path));
  }

  /** Merge-patches an object. */
  async patch(path: string, body: unknown): Promise<any> {
    return await this.api.request("PATCH", path, { body, contentType: "application/merge-patch+json" });
  }

  /** Events on an object in a namespace. */
  async events(
    namespace: string,
    name: string,
  ): Promise<{ reason: string; message: string; type: string }[]> {
    const list = await this.api.get<{ items: { reason: string; message: string; type: string }[] }>(
      `/api/v1/namespaces/${namespace}/events`,
      { query: { fieldSelector: `involvedObject.name=${name}` } },
    );
    return list.items;
  }

  async stop(): Promise<void> {
    for (const c of this.controllers) {
      await c.stop("SIGKILL").catch(() => {});
      await Deno.remove(c.logFile).catch(() => {});
    }
    for (const dir of this.#tempDirs) await Deno.remove(dir, { recursive: true }).catch(() => {});
    await this.cluster.stop();
  }
}

/** A source manifest. */
export function source(
  kind: "ConfigMap" | "Secret",
  namespace: string,
  name: string,
  annotations: Record<string, string>,
  body: Record<string, unknown> = {},
  labels: Record<string, string> = {},
): KubeObject {
  return {
    apiVersion: "v1",
    kind,
    metadata: {
      name,
      namespace,
      labels: { "kubemirror.raczylo.com/enabled": "true", ...labels },
      annotations: { "kubemirror.raczylo.com/sync": "true", ...annotations },
    },
    ...body,
  };
}

/** Sends a signal to a child process that may have exited already. */
function killer(child: Deno.ChildProcess): (s: Deno.Signal) => Promise<void> {
  return (s) => {
    try {
      child.kill(s);
    } catch {
      // already exited
    }
    return Promise.resolve();
  };
}

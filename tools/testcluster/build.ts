/**
 * Builds the test control plane's binaries from the pinned Go modules beside this file (kube-apiserver,
 * kube-controller-manager, etcd, helm) into a cache outside the repository, keyed by the pins, once.
 * Go is test tooling only: nothing here is product code.
 *
 * @example
 * ```ts
 * import { ensureBinaries } from "./build.ts";
 * const bin = await ensureBinaries(); // { kubeApiserver: "/root/.cache/kubemirror-testcluster/…/kube-apiserver", … }
 * ```
 * @module
 */
import { createHash } from "node:crypto";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const HERE = dirname(fileURLToPath(import.meta.url));

/** The pinned versions; they must agree with the go.mod files beside this file. */
export const VERSIONS = { kubernetes: "v1.36.3", etcd: "v3.6.16", helm: "v3.19.5" } as const;

/** Paths of the built binaries. */
export interface Binaries {
  kubeApiserver: string;
  kubeControllerManager: string;
  etcd: string;
  helm: string;
  /** kubectl from the same Kubernetes module: the `kubectl mirror` plugin is tested through it. */
  kubectl: string;
  /** Built only for a plane with a node ({@link ensureBinaries} with `node`). */
  kubelet?: string;
  kubeScheduler?: string;
}

/** The cache root: `$KUBEMIRROR_CACHE_DIR`, else `$XDG_CACHE_HOME/kubemirror-testcluster`, else `~/.cache/…`. */
export function cacheRoot(): string {
  const explicit = Deno.env.get("KUBEMIRROR_CACHE_DIR");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME") ?? join(Deno.env.get("HOME") ?? "/tmp", ".cache");
  return join(xdg, "kubemirror-testcluster");
}

function log(message: string): void {
  console.error(`[testcluster] ${message}`);
}

async function goVersion(): Promise<string> {
  const out = await new Deno.Command("go", { args: ["version"], stdout: "piped", stderr: "piped" }).output();
  if (!out.success) throw new Error("`go version` failed: is Go installed and on PATH?");
  return new TextDecoder().decode(out.stdout).trim();
}

/** The cache key: the pins (go.mod and go.sum of every module) and the Go version. */
async function cacheKey(): Promise<string> {
  const hash = createHash("sha256");
  for (const mod of ["kube", "etcd", "helm"]) {
    for (const f of ["go.mod", "go.sum"]) hash.update(await Deno.readTextFile(join(HERE, mod, f)));
  }
  hash.update(await goVersion());
  return `k8s-${VERSIONS.kubernetes}-etcd-${VERSIONS.etcd}-helm-${VERSIONS.helm}-${
    hash.digest("hex").slice(0, 12)
  }`;
}

function seconds(start: number): string {
  const s = Math.round((performance.now() - start) / 1000);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

/** Runs `go build -v`, printing progress as packages compile. */
async function goBuild(
  name: string,
  moduleDir: string,
  out: string,
  ldflags: string,
  pkgs: string[],
): Promise<void> {
  const start = performance.now();
  log(`building ${name} (${pkgs.map((p) => p.split("/").pop()).join(", ")}) …`);
  const child = new Deno.Command("go", {
    args: ["build", "-v", "-trimpath", "-ldflags", ldflags, "-o", out + "/", ...pkgs],
    cwd: moduleDir,
    env: { CGO_ENABLED: "0", GOTOOLCHAIN: "local", GOFLAGS: "-mod=readonly" },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let count = 0;
  let lastReport = performance.now();
  const tail: string[] = [];
  const decoder = new TextDecoderStream();
  const reading = (async () => {
    let buffered = "";
    for await (const chunk of child.stderr.pipeThrough(decoder)) {
      buffered += chunk;
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 40) tail.shift();
        if (!line.startsWith("#") && !line.includes(" ")) count++;
        if (performance.now() - lastReport > 20_000) {
          lastReport = performance.now();
          log(`${name}: ${count} packages compiled, ${seconds(start)} so far`);
        }
      }
    }
  })();
  await child.stdout.cancel();
  const status = await child.status;
  await reading;
  if (!status.success) throw new Error(`building ${name} failed:\n${tail.join("\n")}`);
  log(`${name} built: ${count} packages in ${seconds(start)}`);
}

/**
 * Builds whatever is missing from the cache and returns the binaries' paths; with `node`, kubelet and
 * kube-scheduler too (from the same Kubernetes module).
 */
export async function ensureBinaries(options: { node?: boolean } = {}): Promise<Binaries> {
  const dir = join(cacheRoot(), await cacheKey());
  const bin: Binaries = {
    kubeApiserver: join(dir, "kube-apiserver"),
    kubeControllerManager: join(dir, "kube-controller-manager"),
    etcd: join(dir, "etcd"),
    helm: join(dir, "helm"),
    kubectl: join(dir, "kubectl"),
  };
  const exists = async (p: string) => {
    try {
      return (await Deno.stat(p)).isFile;
    } catch {
      return false;
    }
  };
  await Deno.mkdir(dir, { recursive: true });
  const k = VERSIONS.kubernetes;
  const minor = k.split(".")[1];
  // Version stamping: without it /version says v0.0.0-master and charts with a kubeVersion refuse to install.
  const kubeLdflags =
    `-s -w -X k8s.io/component-base/version.gitVersion=${k} -X k8s.io/component-base/version.gitMajor=1 ` +
    `-X k8s.io/component-base/version.gitMinor=${minor} -X k8s.io/client-go/pkg/version.gitVersion=${k} ` +
    `-X k8s.io/component-base/version.gitTreeState=clean`;
  if (!(await exists(bin.kubeApiserver)) || !(await exists(bin.kubeControllerManager))) {
    log(`first build of Kubernetes ${k}: expect several minutes on two cores (cached afterwards in ${dir})`);
    const tmp = await Deno.makeTempDir({ dir, prefix: ".kube-" });
    await goBuild(
      "kube-apiserver and kube-controller-manager",
      join(HERE, "kube"),
      tmp,
      kubeLdflags,
      ["k8s.io/kubernetes/cmd/kube-apiserver", "k8s.io/kubernetes/cmd/kube-controller-manager"],
    );
    await Deno.rename(join(tmp, "kube-controller-manager"), bin.kubeControllerManager);
    await Deno.rename(join(tmp, "kube-apiserver"), bin.kubeApiserver);
    await Deno.remove(tmp, { recursive: true });
  }
  if (options.node) {
    bin.kubelet = join(dir, "kubelet");
    bin.kubeScheduler = join(dir, "kube-scheduler");
    if (!(await exists(bin.kubelet)) || !(await exists(bin.kubeScheduler))) {
      const tmp = await Deno.makeTempDir({ dir, prefix: ".node-" });
      await goBuild(
        "kubelet and kube-scheduler",
        join(HERE, "kube"),
        tmp,
        kubeLdflags,
        ["k8s.io/kubernetes/cmd/kubelet", "k8s.io/kubernetes/cmd/kube-scheduler"],
      );
      await Deno.rename(join(tmp, "kube-scheduler"), bin.kubeScheduler);
      await Deno.rename(join(tmp, "kubelet"), bin.kubelet);
      await Deno.remove(tmp, { recursive: true });
    }
  }
  if (!(await exists(bin.kubectl))) {
    const tmp = await Deno.makeTempDir({ dir, prefix: ".kubectl-" });
    await goBuild("kubectl", join(HERE, "kube"), tmp, kubeLdflags, ["k8s.io/kubernetes/cmd/kubectl"]);
    await Deno.rename(join(tmp, "kubectl"), bin.kubectl);
    await Deno.remove(tmp, { recursive: true });
  }
  if (!(await exists(bin.etcd))) {
    const tmp = await Deno.makeTempDir({ dir, prefix: ".etcd-" });
    await goBuild("etcd", join(HERE, "etcd"), tmp, "-s -w", ["go.etcd.io/etcd/server/v3"]);
    // go names a /v3 module's binary after the element before the major version.
    await Deno.rename(join(tmp, "server"), bin.etcd);
    await Deno.remove(tmp, { recursive: true });
  }
  if (!(await exists(bin.helm))) {
    const tmp = await Deno.makeTempDir({ dir, prefix: ".helm-" });
    await goBuild(
      "helm",
      join(HERE, "helm"),
      tmp,
      `-s -w -X helm.sh/helm/v3/internal/version.version=${VERSIONS.helm}`,
      ["helm.sh/helm/v3/cmd/helm"],
    );
    await Deno.rename(join(tmp, "helm"), bin.helm);
    await Deno.remove(tmp, { recursive: true });
  }
  return bin;
}

/**
 * `deno task image`: builds the controller's OCI image on a machine without a Docker engine or registry.
 *
 * The layout is the Dockerfile's final stage (glibc, libgcc, CA certificates, `/etc/passwd` with nonroot
 * 65532, nothing else), assembled from Debian's packages with umoci and written as an OCI archive with
 * skopeo. Where the Dockerfile ships the compiled binary, this image ships the Deno runtime and the bundle
 * that `deno compile` would pack (its runtime download is out of reach here), started with exactly the
 * binary's runtime flags (`tools/build_binary.sh --flags`). Deno's module-analysis cache is baked in, since
 * a read-only root cannot keep one and building it at each start costs ~40 MiB; a compiled binary needs none.
 *
 * Prints the image's size and, as its last line, its local reference. The archive (`--archive`, default
 * `dist/kubemirror-image.tar`) loads with `podman load -i` and `ctr images import`.
 *
 * @example
 * ```sh
 * deno task image                 # … last line: localhost/kubemirror:0.1.0-dev
 * podman load -i dist/kubemirror-image.tar
 * ```
 * @module
 */
import { join } from "node:path";

const ROOT = join(import.meta.dirname!, "..");
const VERSION: string = JSON.parse(Deno.readTextFileSync(join(ROOT, "deno.json"))).version;

/** The local reference the image is tagged with. */
export const IMAGE_REFERENCE = `localhost/kubemirror:${VERSION}-dev`;

/** Debian packages whose files make the runtime layer (distroless cc's share of them). */
const PACKAGES = ["libc6", "libgcc-s1", "ca-certificates"];

/** Where the runtime and the bundle live in the image. */
const DENO_PATH = "/usr/local/bin/deno";
const BUNDLE_PATH = "/app/kubemirror.js";
const DENO_DIR = "/app/deno-dir";

/**
 * The environment the Dockerfile's final stage sets too (`ENV` lines, checked by the ship test): two malloc
 * arenas, not eight per core; V8's parallel collector threads otherwise each keep an arena of a few MiB
 * resident (measured: 4–7 MiB less RSS from 1,000 mirrors up, README "Memory").
 */
export const RUNTIME_ENV: readonly string[] = ["MALLOC_ARENA_MAX=2"];

/** The image's environment. */
const ENV = [
  ...RUNTIME_ENV,
  "DENO_DIR=" + DENO_DIR,
  "DENO_NO_UPDATE_CHECK=1",
  "PATH=/usr/local/bin:/usr/bin:/bin",
];

function log(message: string): void {
  console.error(`[image] ${message}`);
}

async function run(
  cmd: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
) {
  const out = await new Deno.Command(cmd, { args, stdout: "piped", stderr: "piped", ...options }).output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed:\n${text}${new TextDecoder().decode(out.stderr)}`);
  }
  return text;
}

/** The runtime flags the compiled binary has, from the one script that the Dockerfile runs too. */
export async function runtimeFlags(): Promise<string[]> {
  const text = await run("sh", [join(ROOT, "tools/build_binary.sh"), "--flags"]);
  return text.split("\n").filter((l) => l.trim());
}

/** The image's entrypoint: the runtime, the binary's flags, the bundle. */
export async function entrypoint(): Promise<string[]> {
  return [DENO_PATH, "run", ...(await runtimeFlags()), BUNDLE_PATH];
}

/** Downloads the Debian packages (once, into `cache`) and unpacks them into `rootfs`. */
async function unpackPackages(cache: string, rootfs: string): Promise<string[]> {
  await Deno.mkdir(cache, { recursive: true });
  const debs: string[] = [];
  for (const pkg of PACKAGES) {
    let deb = [...Deno.readDirSync(cache)].find((e) => e.name.startsWith(`${pkg}_`))?.name;
    if (!deb) {
      log(`downloading Debian's ${pkg}`);
      await run("apt-get", ["download", "-qq", pkg], { cwd: cache });
      deb = [...Deno.readDirSync(cache)].find((e) => e.name.startsWith(`${pkg}_`))?.name;
      if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${cache}`);
    }
    await run("dpkg-deb", ["-x", join(cache, deb), rootfs]);
    debs.push(deb);
  }
  // Only what a process needs at run time: no docs, man pages, package scripts or locales.
  for (const dir of ["usr/share/doc", "usr/share/man", "usr/share/lintian", "usr/share/locale", "usr/sbin"]) {
    await Deno.remove(join(rootfs, dir), { recursive: true }).catch(() => {});
  }
  // ca-certificates ships the certificates; the bundle file is what update-ca-certificates would write.
  const certs: string[] = [];
  const mozilla = join(rootfs, "usr/share/ca-certificates/mozilla");
  for (const e of [...Deno.readDirSync(mozilla)].sort((a, b) => a.name.localeCompare(b.name))) {
    certs.push(await Deno.readTextFile(join(mozilla, e.name)));
  }
  await Deno.mkdir(join(rootfs, "etc/ssl/certs"), { recursive: true });
  await Deno.writeTextFile(join(rootfs, "etc/ssl/certs/ca-certificates.crt"), certs.join(""));
  await Deno.remove(join(rootfs, "usr/share/ca-certificates"), { recursive: true });
  await Deno.remove(join(rootfs, "etc/ca-certificates.conf")).catch(() => {});
  return debs;
}

/** Runs the bundle inside the root file system (unshare + chroot), so Deno records its module analysis there. */
async function bakeModuleCache(rootfs: string): Promise<void> {
  // Twice: the second start records what the first one looked up. The controller exits at once (no
  // kubeconfig), after every module is loaded.
  const flags = await runtimeFlags();
  for (let i = 0; i < 2; i++) {
    // Deno needs /proc: a private mount namespace gives it one that goes away with the command.
    const out = await new Deno.Command("unshare", {
      args: [
        "--mount",
        "--pid",
        "--fork",
        `--mount-proc=${join(rootfs, "proc")}`,
        "chroot",
        rootfs,
        DENO_PATH,
        "run",
        ...flags,
        BUNDLE_PATH,
        "--kubeconfig=/nonexistent",
      ],
      env: { DENO_DIR, DENO_NO_UPDATE_CHECK: "1", NO_COLOR: "1", PATH: "/usr/sbin:/usr/bin:/sbin:/bin" },
      clearEnv: true,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    if (!text.includes("cannot load a kubeconfig")) {
      throw new Error(`the bundle did not start in the image:\n${text}`);
    }
  }
  // Readable by the non-root user; never writable by it.
  await run("chmod", ["-R", "a+rX,go-w", join(rootfs, DENO_DIR)]);
}

/** Builds the image and returns its reference and the archive's path. */
export async function buildImage(
  options: { archive?: string; denoBinary?: string } = {},
): Promise<{ reference: string; archive: string; bytes: number }> {
  const started = performance.now();
  const archive = options.archive ?? join(ROOT, "dist", "kubemirror-image.tar");
  const cache = join(
    Deno.env.get("XDG_CACHE_HOME") ?? join(Deno.env.get("HOME") ?? "/tmp", ".cache"),
    "kubemirror-image",
  );
  const work = await Deno.makeTempDir({ prefix: "kubemirror-image-" });
  try {
    const layout = join(work, "layout");
    const tag = "build";
    await run("umoci", ["init", "--layout", layout]);
    await run("umoci", ["new", "--image", `${layout}:${tag}`]);
    const bundleDir = join(work, "bundle");
    await run("umoci", ["unpack", "--image", `${layout}:${tag}`, bundleDir]);
    const rootfs = join(bundleDir, "rootfs");

    const debs = await unpackPackages(join(cache, "debs"), rootfs);
    log(`runtime layer from ${debs.join(", ")}`);
    await Deno.mkdir(join(rootfs, "etc"), { recursive: true });
    await Deno.writeTextFile(
      join(rootfs, "etc/passwd"),
      "root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n" +
        "nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n",
    );
    await Deno.writeTextFile(
      join(rootfs, "etc/group"),
      "root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n",
    );
    for (const d of ["tmp", "home/nonroot", "app", "usr/local/bin", "proc", "dev", "sys"]) {
      await Deno.mkdir(join(rootfs, d), { recursive: true });
    }
    await Deno.chmod(join(rootfs, "tmp"), 0o1777);
    await run("chown", ["65532:65532", join(rootfs, "home/nonroot")]);

    // The stand-in for the compiled binary: the Deno runtime and the bundle `deno compile` would pack.
    await Deno.copyFile(options.denoBinary ?? Deno.execPath(), join(rootfs, DENO_PATH));
    await Deno.chmod(join(rootfs, DENO_PATH), 0o755);
    await run("sh", [join(ROOT, "tools/build_binary.sh"), "--bundle", join(rootfs, BUNDLE_PATH)]);
    await Deno.chmod(join(rootfs, BUNDLE_PATH), 0o644);
    await bakeModuleCache(rootfs);

    await run("umoci", ["repack", "--image", `${layout}:${tag}`, bundleDir]);
    const config = [
      "config",
      "--image",
      `${layout}:${tag}`,
      "--os",
      "linux",
      "--architecture",
      "amd64",
      "--config.user",
      "65532:65532",
      "--config.workingdir",
      "/",
      "--config.exposedports",
      "8080/tcp",
      "--config.exposedports",
      "8081/tcp",
      "--config.label",
      `org.opencontainers.image.title=kubemirror`,
      "--config.label",
      `org.opencontainers.image.version=${VERSION}`,
      ...ENV.flatMap((e) => ["--config.env", e]),
      ...(await entrypoint()).flatMap((a) => ["--config.entrypoint", a]),
    ];
    await run("umoci", config);
    await run("umoci", ["gc", "--layout", layout]);

    // skopeo writes the full reference into the archive, so podman and containerd name it alike.
    await Deno.mkdir(join(archive, ".."), { recursive: true });
    await Deno.remove(archive).catch(() => {});
    await run("skopeo", [
      "copy",
      "--quiet",
      `oci:${layout}:${tag}`,
      `oci-archive:${archive}:${IMAGE_REFERENCE}`,
    ]);
    const bytes = (await Deno.stat(archive)).size;
    let unpacked = 0;
    for (const line of (await run("du", ["-sb", rootfs])).split("\n")) {
      if (line) unpacked = Number(line.split("\t")[0]);
    }
    log(
      `built in ${((performance.now() - started) / 1000).toFixed(1)}s: archive ${
        (bytes / 2 ** 20).toFixed(1)
      } MiB ` +
        `(compressed layer), ${(unpacked / 2 ** 20).toFixed(1)} MiB unpacked, at ${archive}`,
    );
    return { reference: IMAGE_REFERENCE, archive, bytes };
  } finally {
    await Deno.remove(work, { recursive: true }).catch(() => {});
  }
}

if (import.meta.main) {
  const archiveArg = Deno.args.find((a) => a.startsWith("--archive="))?.slice("--archive=".length);
  const { reference } = await buildImage({ archive: archiveArg });
  console.log(reference);
}

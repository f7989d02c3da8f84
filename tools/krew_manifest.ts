/**
 * Writes the krew plugin manifest (`plugins/mirror.yaml`) for a release: one platform per archive that
 * `tools/build_binary.sh --plugin` built, each with the sha256 of its archive and its release URL. The
 * release builds the archives in the Dockerfile's `plugins` stage (every platform `deno compile` targets)
 * and runs this over them.
 *
 * @example
 * ```sh
 * deno run --allow-read --allow-write tools/krew_manifest.ts v0.1.0 dist/ plugins/mirror.yaml
 * ```
 * @module
 */
import { stringify } from "yaml";

/** The platforms `deno compile` targets, as krew selects them. */
export const PLATFORMS = [
  { target: "x86_64-unknown-linux-gnu", os: "linux", arch: "amd64" },
  { target: "aarch64-unknown-linux-gnu", os: "linux", arch: "arm64" },
  { target: "x86_64-apple-darwin", os: "darwin", arch: "amd64" },
  { target: "aarch64-apple-darwin", os: "darwin", arch: "arm64" },
  { target: "x86_64-pc-windows-msvc", os: "windows", arch: "amd64" },
] as const;

/** Where releases are downloaded from. */
export const RELEASES = "https://github.com/lukaszraczylo/kubemirror/releases/download";

/** The archive name of a platform. */
export const archiveName = (p: { os: string; arch: string }) => `kubectl-mirror_${p.os}_${p.arch}.tar.gz`;

/** The manifest for `version`, given each platform's archive sha256 (platforms without one are left out). */
export function krewManifest(version: string, sha256: Record<string, string>): Record<string, unknown> {
  return {
    apiVersion: "krew.googlecontainertools.github.com/v1alpha2",
    kind: "Plugin",
    metadata: { name: "mirror" },
    spec: {
      version,
      homepage: "https://github.com/lukaszraczylo/kubemirror",
      shortDescription: "Show what KubeMirror mirrors where, and why not",
      description:
        "Answers from the same plan the KubeMirror controller acts on, with your own kubeconfig and " +
        "rights, never writing: kubectl mirror status (how each source's mirrors and pulled copies stand), " +
        "kubectl mirror why KIND/NAME --to NAMESPACE (mirrored, or why not: selector, opt-out, exclusion, " +
        "max-targets, conflict, transform) and kubectl mirror into NAMESPACE.",
      platforms: PLATFORMS.filter((p) => sha256[archiveName(p)]).map((p) => ({
        selector: { matchLabels: { os: p.os, arch: p.arch } },
        uri: `${RELEASES}/${version}/${archiveName(p)}`,
        sha256: sha256[archiveName(p)],
        bin: p.os === "windows" ? "kubectl-mirror.exe" : "kubectl-mirror",
      })),
    },
  };
}

async function sha256Of(path: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

if (import.meta.main) {
  const [version, dir, out] = Deno.args;
  if (!version || !dir || !out) {
    console.error(
      "usage: deno run --allow-read --allow-write tools/krew_manifest.ts VERSION ARCHIVE_DIR OUT.yaml",
    );
    Deno.exit(2);
  }
  const sums: Record<string, string> = {};
  for (const p of PLATFORMS) {
    try {
      sums[archiveName(p)] = await sha256Of(`${dir}/${archiveName(p)}`);
    } catch {
      console.error(`no ${archiveName(p)} in ${dir}: left out`);
    }
  }
  await Deno.writeTextFile(out, stringify(krewManifest(version, sums)));
}

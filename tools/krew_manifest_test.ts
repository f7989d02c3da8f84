import assert from "node:assert/strict";
import { join } from "node:path";
import { parse } from "yaml";
import { archiveName, krewManifest, PLATFORMS } from "./krew_manifest.ts";

const ROOT = join(import.meta.dirname!, "..");

Deno.test("kubectl mirror for krew: the archive holds the plugin, the manifest points at it, the Dockerfile builds every platform", async () => {
  const dir = await Deno.makeTempDir();
  try {
    // The same script the Dockerfile's plugins stage runs, with the local deno standing in for the runtime
    // download (out of reach here), for the platform of this machine.
    const archive = join(dir, archiveName({ os: "linux", arch: "amd64" }));
    const built = await new Deno.Command("sh", {
      args: [join(ROOT, "tools/build_binary.sh"), "--plugin", "x86_64-unknown-linux-gnu", archive],
      env: { DENORT_BIN: Deno.execPath(), NO_COLOR: "1" },
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(built.code, 0, new TextDecoder().decode(built.stderr));
    const listing = await new Deno.Command("tar", { args: ["tzvf", archive], stdout: "piped" }).output();
    const files = new TextDecoder().decode(listing.stdout);
    assert.match(files, /^-rwx.* kubectl-mirror$/m, "an executable named as krew's bin says");
    assert.match(files, / README\.md$/m);

    const sha = [...new Uint8Array(await crypto.subtle.digest("SHA-256", await Deno.readFile(archive)))]
      .map((b) => b.toString(16).padStart(2, "0")).join("");
    const rendered = krewManifest("v0.1.0", { [archiveName({ os: "linux", arch: "amd64" })]: sha }) as any;
    assert.equal(rendered.spec.platforms.length, 1);
    assert.equal(rendered.spec.platforms[0].sha256, sha);
    const committed = parse(await Deno.readTextFile(join(ROOT, "plugins/mirror.yaml")));
    const withoutSha = (m: any) => ({
      ...m,
      spec: { ...m.spec, platforms: m.spec.platforms.map((p: any) => ({ ...p, sha256: undefined })) },
    });
    assert.deepEqual(
      withoutSha(committed),
      withoutSha(rendered),
      "plugins/mirror.yaml is what the script writes",
    );
    assert.match(committed.spec.platforms[0].sha256, /^[0-9a-f]{64}$/);
    assert.equal(committed.apiVersion, "krew.googlecontainertools.github.com/v1alpha2");
    assert.equal(committed.metadata.name, "mirror", "installed as kubectl-mirror, run as kubectl mirror");
    const all = krewManifest(
      "v0.1.0",
      Object.fromEntries(PLATFORMS.map((p) => [archiveName(p), "0".repeat(64)])),
    ) as any;
    assert.deepEqual(all.spec.platforms.map((p: any) => p.bin), [
      "kubectl-mirror",
      "kubectl-mirror",
      "kubectl-mirror",
      "kubectl-mirror",
      "kubectl-mirror.exe",
    ]);

    const dockerfile = await Deno.readTextFile(join(ROOT, "Dockerfile"));
    for (const p of PLATFORMS) assert.ok(dockerfile.includes(`${p.target}:${p.os}_${p.arch}`), p.target);
    assert.match(dockerfile, /^FROM scratch AS plugins$/m);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

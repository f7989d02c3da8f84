/**
 * The layering, enforced: the core imports nothing of the shell and no client; only the process wiring
 * makes the real client; and no shell module imports from a higher one. Ranks, lowest first:
 * `runtime/` (logging, metrics, the clock), `config/` (flags), `kube/` (the client seam, its transport,
 * watch caches), then `controller/`, `plan/` and `inspect/` (which never import each other), then the process
 * wiring at the top of `shell/` and `mod.ts`.
 */
import assert from "node:assert/strict";
import { dirname, join, normalize, relative } from "node:path";

const ROOT = normalize(join(dirname(new URL(import.meta.url).pathname), ".."));

const RANK: Record<string, number> = { runtime: 0, config: 1, kube: 2, controller: 3, plan: 3, inspect: 3 };
const TOP = 4;

/** Every .ts file below `dir`, relative to the repository. */
function walk(dir: string): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(join(ROOT, dir))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) out.push(...walk(path));
    else if (e.name.endsWith(".ts")) out.push(path);
  }
  return out;
}

/** The import specifiers of a file's code (doc examples, in comments, may import what they show with). */
function imports(file: string): string[] {
  const code = Deno.readTextFileSync(join(ROOT, file)).split("\n").filter((l) => !/^\s*\*/.test(l)).join(
    "\n",
  );
  return [...code.matchAll(/(?:from|import)\s*\(?\s*["']([^"']+)["']/g)].map((m) => m[1]);
}

/** A relative specifier as a repository path; others (npm, node:) as they are. */
function resolve(file: string, spec: string): string {
  return spec.startsWith(".") ? relative(ROOT, join(ROOT, dirname(file), spec)) : spec;
}

/** The shell folder a file is in (`top` for the process wiring). */
function layer(file: string): string {
  const parts = file.split("/");
  return parts[0] === "shell" && parts.length > 2 ? parts[1] : "top";
}

const isTest = (f: string) => f.endsWith("_test.ts") || f.includes("/_testing");

Deno.test("import rules: the core imports no shell module, no client, no metrics and no I/O module", () => {
  const bad: string[] = [];
  for (const file of walk("core")) {
    for (const spec of imports(file)) {
      const target = resolve(file, spec);
      const allowed = target.startsWith("core/") || ["handlebars", "yaml", "node:crypto"].includes(target) ||
        (isTest(file) && ["fast-check", "node:assert/strict"].includes(target));
      if (!allowed) bad.push(`${file} imports ${spec}`);
    }
  }
  assert.deepEqual(bad, []);
});

/** The real client: the transport and the kubeconfig, the only modules that import client-node. */
const REAL_CLIENT = ["shell/kube/kube_api.ts", "shell/kube/kube_config.ts"];

Deno.test("import rules: only the process wiring makes the real client; only the transport imports client-node", () => {
  const bad: string[] = [];
  for (const file of [...walk("shell"), "mod.ts"]) {
    for (const spec of imports(file)) {
      const target = resolve(file, spec);
      if (target === "@kubernetes/client-node" && !REAL_CLIENT.includes(file)) {
        bad.push(`${file} imports client-node`);
      }
      const ownTest = REAL_CLIENT.some((f) => file === f.replace(/\.ts$/, "_test.ts"));
      const inside = REAL_CLIENT.includes(file);
      if (REAL_CLIENT.includes(target) && layer(file) !== "top" && file !== "mod.ts" && !ownTest && !inside) {
        bad.push(`${file} imports the real client`);
      }
    }
  }
  assert.deepEqual(bad, []);
});

Deno.test("import rules: no shell module imports from a higher layer, and controller/ and plan/ stay apart", () => {
  const bad: string[] = [];
  for (const file of walk("shell")) {
    if (isTest(file)) continue;
    const from = layer(file);
    const rank = RANK[from] ?? TOP;
    for (const spec of imports(file)) {
      const target = resolve(file, spec);
      if (!target.startsWith("shell/")) continue;
      const to = layer(target);
      if (to === from) continue;
      const toRank = RANK[to] ?? TOP;
      if (toRank >= rank) bad.push(`${file} (${from}) imports ${target} (${to})`);
    }
  }
  assert.deepEqual(bad, []);
});

Deno.test("import rules: the checks see the tree (every shell folder has modules, and the rules can fail)", () => {
  const shell = walk("shell");
  for (const folder of Object.keys(RANK)) {
    assert.ok(shell.some((f) => f.startsWith(`shell/${folder}/`)), `shell/${folder}/ has modules`);
  }
  assert.equal(layer("shell/controller/controller.ts"), "controller");
  assert.equal(layer("shell/run_controller.ts"), "top");
  assert.equal(resolve("shell/controller/executor.ts", "../kube/client.ts"), "shell/kube/client.ts");
  assert.ok(imports("shell/controller/executor.ts").includes("../kube/client.ts"));
});

/**
 * Runs the doc examples that need no cluster, as Deno's std runs its own (`deno test --doc`): every
 * module of `core/` and `shell/` with an example, except those whose example talks to a live API server
 * or ends the process. Those still type-check (`deno check --doc` in `deno task check`); an example that
 * only type-checks says so by declaring what it would be given (`declare const client: KubeClient`).
 *
 * @example
 * ```sh
 * deno run --allow-read --allow-run tools/doc_examples.ts
 * ```
 * @module
 */
import { join, relative } from "node:path";

const ROOT = join(import.meta.dirname!, "..");

/** Examples that need a cluster or run the whole process. */
const NEEDS_A_CLUSTER = /\bdeclare (const|function)\b|\bloadKubeConfig\(|\bDeno\.exit\(/;

function* modules(dir: string): Generator<string> {
  for (const e of Deno.readDirSync(join(ROOT, dir))) {
    const path = `${dir}/${e.name}`;
    if (e.isDirectory) yield* modules(path);
    else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts") && !e.name.startsWith("_")) yield path;
  }
}

/** The example blocks of a module's doc comments. */
function examples(text: string): string[] {
  return [...text.matchAll(/^ \* ```ts\n([\s\S]*?)^ \* ```$/gm)].map((m) => m[1]);
}

if (import.meta.main) {
  const runnable: string[] = [];
  for (const dir of ["core", "shell"]) {
    for (const path of modules(dir)) {
      const blocks = examples(Deno.readTextFileSync(join(ROOT, path)));
      if (blocks.length > 0 && !blocks.some((b) => NEEDS_A_CLUSTER.test(b))) runnable.push(path);
    }
  }
  runnable.sort();
  console.log(`running the examples of ${runnable.length} modules`);
  const { code } = await new Deno.Command(Deno.execPath(), {
    args: [
      "test",
      "--doc",
      "--allow-read",
      "--allow-env",
      ...runnable.map((p) => relative(Deno.cwd(), join(ROOT, p))),
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  Deno.exit(code);
}

/**
 * KubeMirror's entry point: `kubemirror plan ...` prints a plan; anything else runs the controller.
 *
 * @example
 * ```sh
 * deno run --allow-read mod.ts plan -f examples/ -o table
 * ```
 * @module
 */
import { runPlan } from "./shell/plan_command.ts";

if (import.meta.main) {
  const [command, ...rest] = Deno.args;
  if (command === "plan") {
    const encoder = new TextEncoder();
    const code = await runPlan(rest, {
      write: (s) => Deno.stdout.writeSync(encoder.encode(s)),
      writeError: (s) => Deno.stderr.writeSync(encoder.encode(s)),
    });
    Deno.exit(code);
  } else {
    console.error("the controller is not built yet; use: kubemirror plan -f PATH");
    Deno.exit(2);
  }
}

/**
 * KubeMirror's entry point: `kubemirror plan ...` prints a plan; `kubemirror mirror ...` (or the same
 * program installed as `kubectl-mirror`) is the kubectl plugin; anything else runs the controller.
 *
 * @example
 * ```sh
 * deno run --allow-read --allow-env mod.ts plan -f examples/ -o table
 * deno run --allow-net --allow-env --allow-read=$HOME/.kube/config mod.ts --leader-elect=false
 * ```
 * @module
 */
import process from "node:process";
import { runController } from "./shell/run_controller.ts";
import { runKubectlMirrorProcess } from "./shell/run_kubectl_mirror.ts";
import { runPlanProcess } from "./shell/run_plan.ts";

if (import.meta.main) {
  // client-node's fetch loads Node's deprecated punycode module on first use; the warning would break
  // the JSON-lines log.
  process.noDeprecation = true;
  const [command, ...rest] = Deno.args;
  // The same program is the kubectl plugin when installed as kubectl-mirror (krew, or a link on PATH).
  const asPlugin = /(^|\/)kubectl-mirror(\.exe)?$/.test(Deno.execPath());
  if (asPlugin) {
    Deno.exit(await runKubectlMirrorProcess(Deno.args));
  } else if (command === "mirror") {
    Deno.exit(await runKubectlMirrorProcess(rest));
  } else if (command === "plan") {
    Deno.exit(await runPlanProcess(rest));
  } else {
    Deno.exit(await runController(Deno.args));
  }
}

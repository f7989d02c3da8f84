/**
 * Runs `kubectl mirror` as a process (the plugin executable `kubectl-mirror`, or `kubemirror mirror`):
 * the command (`inspect/kubectl_mirror.ts`) with stdout and stderr, the real client from the user's
 * kubeconfig and context, and `plan` handed to `kubemirror plan`.
 *
 * @example
 * ```ts
 * import { runKubectlMirrorProcess } from "./run_kubectl_mirror.ts";
 * Deno.exit(await runKubectlMirrorProcess(["status", "-A"]));
 * ```
 * @module
 */
import { runKubectlMirror } from "./inspect/kubectl_mirror.ts";
import { useColor } from "./inspect/table.ts";
import { KubeApi } from "./kube/kube_api.ts";
import { contextNamespace, loadKubeConfig } from "./kube/kube_config.ts";
import { runPlanProcess } from "./run_plan.ts";

/** Runs the plugin; returns the exit code. */
export function runKubectlMirrorProcess(argv: readonly string[]): Promise<number> {
  const encoder = new TextEncoder();
  return runKubectlMirror(argv, {
    write: (s) => Deno.stdout.writeSync(encoder.encode(s)),
    writeError: (s) => Deno.stderr.writeSync(encoder.encode(s)),
    color: useColor(Deno.stdout.isTerminal(), Deno.env.get("NO_COLOR")),
    connect: ({ kubeconfig, context }) => {
      const kc = loadKubeConfig(kubeconfig, context);
      return {
        client: new KubeApi(kc, { qps: 50, burst: 100, userAgent: "kubectl-mirror" }),
        namespace: contextNamespace(kc),
      };
    },
    plan: (args) => runPlanProcess(args),
  });
}

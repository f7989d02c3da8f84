/**
 * Runs `kubemirror plan` as a process: the command (`plan/plan_command.ts`) with stdout and stderr, and,
 * when no `-f` is given, the live cluster read through the real client from the kubeconfig.
 *
 * @example
 * ```ts
 * import { runPlanProcess } from "./run_plan.ts";
 * Deno.exit(await runPlanProcess(["-f", "examples/", "-o", "table"]));
 * ```
 * @module
 */
import { KubeApi } from "./kube/kube_api.ts";
import { kubeConfigFromText, loadKubeConfig } from "./kube/kube_config.ts";
import { readCluster } from "./plan/cluster_reader.ts";
import { runPlan } from "./plan/plan_command.ts";

/** Runs the command; returns the exit code. */
export function runPlanProcess(argv: readonly string[]): Promise<number> {
  const encoder = new TextEncoder();
  return runPlan(argv, {
    write: (s) => Deno.stdout.writeSync(encoder.encode(s)),
    writeError: (s) => Deno.stderr.writeSync(encoder.encode(s)),
    readCluster: (flags) =>
      readCluster(
        new KubeApi(loadKubeConfig(flags.kubeconfig), {
          qps: flags.rateLimitQps,
          burst: flags.rateLimitBurst,
        }),
        flags,
        // Links (§10) are read with their own kubeconfigs, as the controller reads them.
        (kubeconfig) =>
          new KubeApi(kubeConfigFromText(kubeconfig), {
            qps: flags.rateLimitQps,
            burst: flags.rateLimitBurst,
          }),
      ),
  });
}

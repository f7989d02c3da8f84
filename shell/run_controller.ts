/**
 * Runs the controller process: flags, client, caches, leader election, workers, endpoints, and a graceful
 * shutdown on SIGTERM (stop taking work, finish or abandon in-flight writes, release the Lease, exit 0).
 *
 * @example
 * ```ts
 * import { runController } from "./run_controller.ts";
 * Deno.exit(await runController(["--leader-elect=false"]));
 * ```
 * @module
 */
import { Controller } from "./controller/controller.ts";
import { resourceType } from "../core/group_kind.ts";
import { type ControllerFlags, FLAG_NAMES, parseFlags, wantsHelp } from "./config/flags.ts";
import { startHeapRelease } from "./heap_release.ts";
import { serveEndpoints } from "./http_server.ts";
import { KubeApi, VERSION } from "./kube/kube_api.ts";
import { kubeConfigFromText, loadKubeConfig } from "./kube/kube_config.ts";
import { LeaderElector } from "./controller/leader_election.ts";
import { createLogger, errorMessage, type Logger, parseLevel } from "./runtime/log.ts";
import { createMetrics } from "./runtime/metrics.ts";

/** Usage text for the controller. */
export const CONTROLLER_USAGE = `Usage: kubemirror [flags]       run the controller
       kubemirror plan [flags]  print what the controller would do (kubemirror plan --help)

Flags: ${FLAG_NAMES.map((f) => `--${f}`).join(" ")}
See README.md for what each does; LOG_LEVEL=debug|info|warn|error sets logging.
`;

/** Runs until SIGTERM or SIGINT; returns the exit code. */
export async function runController(argv: readonly string[]): Promise<number> {
  const flags = parseOrExplain(argv);
  if (typeof flags === "number") return flags;
  const log = createLogger(flags.logLevel ?? parseLevel(Deno.env.get("LOG_LEVEL")));
  for (const note of flags.notes) log.warn(note);
  const metrics = createMetrics();
  let api: KubeApi;
  try {
    api = new KubeApi(loadKubeConfig(flags.kubeconfig), {
      qps: flags.rateLimitQps,
      burst: flags.rateLimitBurst,
      metrics,
    });
  } catch (e) {
    log.error("cannot load a kubeconfig or in-cluster configuration", { error: errorMessage(e) });
    return 1;
  }
  const identity = `${Deno.env.get("POD_NAME") ?? Deno.env.get("HOSTNAME") ?? "kubemirror"}_${
    crypto.randomUUID().slice(0, 8)
  }`;
  log.info("starting kubemirror", {
    version: VERSION,
    server: api.server,
    identity,
    leaderElect: flags.leaderElect,
    clusterName: flags.config.clusterName,
    workers: flags.workerThreads,
    qps: flags.rateLimitQps,
    burst: flags.rateLimitBurst,
    resourceTypes: flags.resourceTypes?.map(resourceType) ?? "discovery",
  });
  // A link's upstream is read with its own kubeconfig, as is, under the same request budget per link.
  const connect = (kubeconfig: string) =>
    new KubeApi(kubeConfigFromText(kubeconfig), {
      qps: flags.rateLimitQps,
      burst: flags.rateLimitBurst,
      metrics,
    });
  const controller = new Controller({ client: api, flags, log, metrics, identity, connect });
  const endpoints = serveEndpoints({
    healthAddress: flags.healthProbeBindAddress,
    metricsAddress: flags.metricsBindAddress,
    ready: () => controller.ready,
    registry: metrics.registry,
  });
  const stopHeapRelease = startHeapRelease({
    queueDepth: () => controller.queue.depth,
    ready: () => controller.ready,
    log,
    metrics,
  });
  const exit = Promise.withResolvers<number>();
  const elector = lead(controller, api, flags, identity, log, exit.resolve);
  const code = await untilSignal(exit.promise, log);
  // SIGTERM: let in-flight writes finish (10 s at most). A lost Lease: they were aborted already.
  stopHeapRelease();
  await controller.stop(code === 0 ? 10_000 : 0);
  if (code === 0) await elector?.stop();
  await endpoints.shutdown();
  log.info("stopped", { exitCode: code });
  return code;
}

/** The flags, or the exit code after printing the usage (0 for help, 2 for a usage error). */
function parseOrExplain(argv: readonly string[]): ControllerFlags | number {
  if (wantsHelp(argv)) {
    console.log(CONTROLLER_USAGE);
    return 0;
  }
  const parsed = parseFlags(argv, { POD_NAMESPACE: Deno.env.get("POD_NAMESPACE") });
  if (!parsed.ok) {
    console.error(`kubemirror: ${parsed.error}\n\n${CONTROLLER_USAGE}`);
    return 2;
  }
  if (parsed.flags.positionals.length > 0) {
    console.error(`kubemirror: unknown command ${parsed.flags.positionals[0]}\n\n${CONTROLLER_USAGE}`);
    return 2;
  }
  return parsed.flags;
}

/**
 * Starts the caches, and the workers once this replica leads: at once without leader election, else when
 * the Lease is acquired. A lost Lease, or caches that cannot start, end the process with 1.
 */
function lead(
  controller: Controller,
  api: KubeApi,
  flags: ControllerFlags,
  identity: string,
  log: Logger,
  exit: (code: number) => void,
): LeaderElector | undefined {
  const started = controller.start();
  started.catch((e) => {
    log.error("could not start the caches", { error: errorMessage(e) });
    exit(1);
  });
  if (!flags.leaderElect) {
    started.then(() => controller.startWorkers());
    return undefined;
  }
  const ref = { namespace: flags.leaderElectionNamespace, name: flags.leaderElectionId, identity };
  const elector = new LeaderElector(api, ref, {
    onStartedLeading: () => started.then(() => controller.startWorkers()),
    onStoppedLeading: () => {
      // A leader that lost its Lease must stop writing at once: no write starts, those in flight are
      // aborted, and the process restarts clean.
      controller.abortWrites();
      exit(1);
    },
  }, log);
  elector.run();
  return elector;
}

/** Resolves with `exit`'s code, or 0 on SIGTERM or SIGINT. */
async function untilSignal(exit: Promise<number>, log: Logger): Promise<number> {
  const stop = Promise.withResolvers<number>();
  const onSignal = (signal: string) => () => {
    log.info("shutting down", { signal });
    stop.resolve(0);
  };
  const term = onSignal("SIGTERM");
  const int = onSignal("SIGINT");
  Deno.addSignalListener("SIGTERM", term);
  Deno.addSignalListener("SIGINT", int);
  const code = await Promise.race([exit, stop.promise]);
  Deno.removeSignalListener("SIGTERM", term);
  Deno.removeSignalListener("SIGINT", int);
  return code;
}

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
import { FLAG_NAMES, parseFlags, wantsHelp } from "./config/flags.ts";
import { startHeapRelease } from "./heap_release.ts";
import { serveEndpoints } from "./http_server.ts";
import { KubeApi, loadKubeConfig, VERSION } from "./kube/kube_api.ts";
import { LeaderElector } from "./controller/leader_election.ts";
import { createLogger, errorMessage, parseLevel } from "./runtime/log.ts";
import { createMetrics } from "./runtime/metrics.ts";

/** Usage text for the controller. */
export const CONTROLLER_USAGE = `Usage: kubemirror [flags]       run the controller
       kubemirror plan [flags]  print what the controller would do (kubemirror plan --help)

Flags: ${FLAG_NAMES.map((f) => `--${f}`).join(" ")}
See README.md for what each does; LOG_LEVEL=debug|info|warn|error sets logging.
`;

/** Runs until SIGTERM or SIGINT; returns the exit code. */
export async function runController(argv: readonly string[]): Promise<number> {
  if (wantsHelp(argv)) {
    console.log(CONTROLLER_USAGE);
    return 0;
  }
  const parsed = parseFlags(argv, { POD_NAMESPACE: Deno.env.get("POD_NAMESPACE") });
  if (!parsed.ok) {
    console.error(`kubemirror: ${parsed.error}\n\n${CONTROLLER_USAGE}`);
    return 2;
  }
  const flags = parsed.flags;
  if (flags.positionals.length > 0) {
    console.error(`kubemirror: unknown command ${flags.positionals[0]}\n\n${CONTROLLER_USAGE}`);
    return 2;
  }
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
    log.error("cannot load a kubeconfig or in-cluster configuration", {
      error: errorMessage(e),
    });
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
    workers: flags.workerThreads,
    qps: flags.rateLimitQps,
    burst: flags.rateLimitBurst,
    resourceTypes: flags.resourceTypes?.map((t) => `${t.kind}.${t.version}${t.group ? "." + t.group : ""}`) ??
      "discovery",
  });
  const controller = new Controller({ client: api, flags, log, metrics, identity });
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
  let elector: LeaderElector | undefined;
  const started = controller.start();
  if (flags.leaderElect) {
    elector = new LeaderElector(api, {
      namespace: flags.leaderElectionNamespace,
      name: flags.leaderElectionId,
      identity,
    }, {
      onStartedLeading: () => {
        started.then(() => controller.startWorkers());
      },
      onStoppedLeading: () => {
        // A leader that lost its Lease must stop writing at once: no write starts, those in flight are
        // aborted, and the process restarts clean.
        controller.abortWrites();
        exit.resolve(1);
      },
    }, log);
    elector.run();
  } else {
    started.then(() => controller.startWorkers());
  }
  started.catch((e) => {
    log.error("could not start the caches", { error: errorMessage(e) });
    exit.resolve(1);
  });

  const onSignal = (signal: string) => () => {
    log.info("shutting down", { signal });
    exit.resolve(0);
  };
  const term = onSignal("SIGTERM");
  const int = onSignal("SIGINT");
  Deno.addSignalListener("SIGTERM", term);
  Deno.addSignalListener("SIGINT", int);

  const code = await exit.promise;
  Deno.removeSignalListener("SIGTERM", term);
  Deno.removeSignalListener("SIGINT", int);
  // SIGTERM: let in-flight writes finish (10 s at most). A lost Lease: they were aborted already.
  stopHeapRelease();
  await controller.stop(code === 0 ? 10_000 : 0);
  if (code === 0) await elector?.stop();
  await endpoints.shutdown();
  log.info("stopped", { exitCode: code });
  return code;
}

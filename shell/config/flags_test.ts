import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../../core/config.ts";
import { FLAG_NAMES, parseDuration, parseFlags, parsePlanFlags, wantsHelp } from "./flags.ts";

Deno.test("flags: defaults are the contract's", () => {
  const r = parseFlags([]);
  assert.ok(r.ok);
  const f = r.flags;
  assert.equal(f.metricsBindAddress, ":8080");
  assert.equal(f.healthProbeBindAddress, ":8081");
  assert.equal(f.leaderElect, true);
  assert.equal(f.leaderElectionId, "kubemirror-controller-leader");
  assert.equal(
    f.leaderElectionNamespace,
    "default",
    "out of cluster the Lease goes where a namespace always exists",
  );
  assert.equal(f.watchIdleTimeoutMs, 300_000);
  assert.equal(f.discoveryIntervalMs, 300_000);
  assert.equal(f.config.maxTargets, 100);
  assert.equal(f.workerThreads, 5);
  assert.equal(f.rateLimitQps, 50);
  assert.equal(f.rateLimitBurst, 100);
  assert.equal(f.resyncPeriodMs, 600_000);
  assert.equal(f.verifySourceFreshness, false);
  assert.deepEqual(f.config.transformLimits, {
    maxRules: 50,
    maxRuleBytes: 10240,
    timeoutMs: 100,
    maxRenderedBytes: 1048576,
  });
});

Deno.test("flags: Go spellings, lists and booleans", () => {
  const r = parseFlags([
    "--leader-elect=false",
    "-max-targets=7",
    "--excluded-namespaces",
    "kube-*, legacy",
    "--resource-types=Secret.v1,ConfigMap.v1",
    "--require-namespace-opt-in",
    "--transform-timeout=250ms",
    "--rate-limit-qps=12.5",
    "--discovery-interval=1h30m",
  ]);
  assert.ok(r.ok, !r.ok ? r.error : "");
  assert.equal(r.flags.leaderElect, false);
  assert.equal(r.flags.config.maxTargets, 7);
  assert.deepEqual(r.flags.config.excludedNamespaces, ["kube-*", "legacy"]);
  assert.deepEqual(r.flags.resourceTypes?.map((t) => t.kind), ["Secret", "ConfigMap"]);
  assert.equal(r.flags.config.requireNamespaceOptIn, true);
  assert.equal(r.flags.config.transformLimits.timeoutMs, 250);
  assert.equal(r.flags.rateLimitQps, 12.5);
  assert.equal(r.flags.discoveryIntervalMs, 5_400_000);
});

Deno.test("flags: bad values are usage errors naming the flag", () => {
  const bad: [string[], RegExp][] = [
    [["--max-targets=0"], /--max-targets must be a whole number of at least 1/],
    [["--worker-threads=x"], /--worker-threads/],
    [["--resync-period=10"], /--resync-period must be a duration/],
    [["--leader-elect=maybe"], /takes true or false/],
    [["--resource-types=secret"], /--resource-types/],
    [["--excluded-namespaces=Bad_NS"], /--excluded-namespaces/],
    [["--no-such-flag"], /Unknown option/],
    [["-o", "xml"], /-o must be json, yaml or table/],
  ];
  for (const [argv, re] of bad) {
    // -o is kubemirror plan's; the controller refuses it by name (below).
    const r = argv[0] === "-o" ? parsePlanFlags(argv) : parseFlags(argv);
    assert.ok(!r.ok, argv.join(" "));
    assert.match(r.error, re);
  }
  assert.equal(parseDuration("100ms"), 100);
  assert.equal(parseDuration("2m30s"), 150_000);
  assert.equal(parseDuration("5"), undefined);
});

/** Every flag the earlier binary accepted, as its Deployment passes them. */
const SEED_ARGS = [
  "--metrics-bind-address=:9090",
  "--health-probe-bind-address=:9091",
  "--leader-elect=true",
  "--leader-election-id=kubemirror-controller-leader",
  "--excluded-namespaces=legacy-*",
  "--included-namespaces=app-*,prod-*",
  "--resource-types=Secret.v1,ConfigMap.v1",
  "--discovery-interval=10m",
  "--max-targets=200",
  "--worker-threads=10",
  "--rate-limit-qps=100.0",
  "--rate-limit-burst=200",
  "--resync-period=5m",
  "--verify-source-freshness=true",
  "--lazy-watcher-init=true",
  "--watcher-scan-interval=30s",
  "--kubeconfig=/tmp/kubeconfig",
  "--zap-devel=false",
  "--zap-encoder=json",
  "--zap-log-level=debug",
  "--zap-stacktrace-level=error",
  "--zap-time-encoding=iso8601",
];

Deno.test("flags: every flag the earlier binary accepted is accepted and the meaningful ones take effect", () => {
  const r = parseFlags(SEED_ARGS);
  assert.ok(r.ok, !r.ok ? r.error : "");
  const f = r.flags;
  assert.equal(f.metricsBindAddress, ":9090");
  assert.equal(f.healthProbeBindAddress, ":9091");
  assert.equal(f.discoveryIntervalMs, 600_000);
  assert.equal(f.config.maxTargets, 200);
  assert.equal(f.workerThreads, 10);
  assert.equal(f.rateLimitQps, 100);
  assert.equal(f.rateLimitBurst, 200);
  assert.equal(f.resyncPeriodMs, 300_000);
  assert.equal(f.verifySourceFreshness, true);
  assert.deepEqual(f.config.includedNamespaces, ["app-*", "prod-*"]);
  assert.equal(f.kubeconfig, "/tmp/kubeconfig");
  assert.equal(f.logLevel, "debug", "--zap-log-level maps onto the log level");
  // One note each for the flags that do nothing here, naming the flag and why.
  assert.equal(f.notes.length, 4, f.notes.join("\n"));
  for (
    const flag of ["lazy-watcher-init", "watcher-scan-interval", "zap-stacktrace-level", "zap-time-encoding"]
  ) {
    assert.ok(
      f.notes.some((n) => n.startsWith(`--${flag} is accepted for compatibility and does nothing: `)),
      flag,
    );
  }
  // The space-separated spelling works as well.
  const spaced = parseFlags([
    "--watcher-scan-interval",
    "1m",
    "--zap-log-level",
    "info",
    "--lazy-watcher-init",
  ]);
  assert.ok(spaced.ok && spaced.flags.logLevel === "info" && spaced.flags.notes.length === 2);
});

Deno.test("flags: controller-runtime's logging flags map onto ours", () => {
  const level = (args: string[]) => {
    const r = parseFlags(args);
    assert.ok(r.ok, !r.ok ? r.error : "");
    return r.flags.logLevel;
  };
  assert.equal(level([]), undefined, "LOG_LEVEL decides when no flag is given");
  assert.equal(level(["--zap-devel"]), "debug");
  assert.equal(level(["--zap-devel", "--zap-log-level=error"]), "error");
  assert.equal(level(["--zap-log-level=panic"]), "error");
  assert.equal(level(["--zap-log-level=2"]), "debug");
  const console = parseFlags(["--zap-encoder=console"]);
  assert.ok(console.ok && console.flags.notes.some((n) => /always JSON lines/.test(n)));
  for (
    const [args, re] of [
      [["--zap-log-level=loud"], /--zap-log-level must be/],
      [["--zap-encoder=xml"], /--zap-encoder must be one of json, console/],
      [["--watcher-scan-interval=soon"], /--watcher-scan-interval must be a duration/],
      [["--lazy-watcher-init=maybe"], /--lazy-watcher-init takes true or false/],
    ] as [string[], RegExp][]
  ) {
    const r = parseFlags(args);
    assert.ok(!r.ok, args.join(" "));
    assert.match(r.error, re);
  }
});

Deno.test("flags: the controller refuses kubemirror plan's flags by name; plan takes both", () => {
  for (const argv of [["-f", "examples/"], ["--filename=x.yaml"], ["-o", "yaml"], ["--output=table"]]) {
    const r = parseFlags(argv);
    assert.ok(!r.ok, argv.join(" "));
    assert.match(r.error, /is a flag of kubemirror plan, not of the controller/);
  }
  const plan = parsePlanFlags([
    "-f",
    "a.yaml",
    "-f",
    "b",
    "-o",
    "table",
    "--max-targets=3",
    "--leader-elect=false",
  ]);
  assert.ok(plan.ok, !plan.ok ? plan.error : "");
  assert.deepEqual(plan.flags.files, ["a.yaml", "b"]);
  assert.equal(plan.flags.output, "table");
  assert.equal(plan.flags.config.maxTargets, 3);
  assert.ok(!FLAG_NAMES.includes("filename") && !FLAG_NAMES.includes("output"), "the controller's usage");
});

Deno.test("flags: defaults are written once: the parsed defaults are the core's DEFAULT_CONFIG", () => {
  const r = parseFlags([]);
  assert.ok(r.ok);
  assert.deepEqual(r.flags.config, DEFAULT_CONFIG);
  const plan = parsePlanFlags([]);
  assert.ok(plan.ok);
  assert.deepEqual(plan.flags.config, DEFAULT_CONFIG);
  assert.equal(plan.flags.output, "json");
});

Deno.test("flags: help is its own answer, not a usage error", () => {
  for (const argv of [["--help"], ["-h"], ["--max-targets=2", "-help"], ["--help=true"]]) {
    assert.ok(wantsHelp(argv), argv.join(" "));
  }
  for (const argv of [[], ["--help=false"], ["--max-targets=2"], ["helpful"]]) {
    assert.ok(!wantsHelp(argv), argv.join(" "));
  }
});

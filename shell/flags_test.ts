import assert from "node:assert/strict";
import { parseDuration, parseFlags } from "./flags.ts";

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
    const r = parseFlags(argv);
    assert.ok(!r.ok, argv.join(" "));
    assert.match(r.error, re);
  }
  assert.equal(parseDuration("100ms"), 100);
  assert.equal(parseDuration("2m30s"), 150_000);
  assert.equal(parseDuration("5"), undefined);
});

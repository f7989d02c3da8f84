/**
 * Command-line flags of the controller and of `kubemirror plan` (docs/CONTRACT.md §6), parsed with
 * `node:util`'s parseArgs. Go-style spellings are accepted: `--flag=value`, `--flag value`,
 * `--bool-flag=false`, durations such as `5m` or `100ms`.
 *
 * @example
 * ```ts
 * import { parseFlags, parsePlanFlags, wantsHelp } from "./flags.ts";
 * import assert from "node:assert/strict";
 * const r = parseFlags(["--max-targets=20", "--leader-elect=false"]);
 * assert.ok(r.ok);
 * assert.equal(r.flags.config.maxTargets, 20);
 * assert.equal(r.flags.leaderElect, false);
 * assert.ok(!parseFlags(["-f", "examples/"]).ok, "-f is kubemirror plan's");
 * assert.ok(parsePlanFlags(["-f", "examples/"]).ok);
 * assert.ok(wantsHelp(["--help"]));
 * ```
 * @module
 */
import { parseArgs } from "node:util";
import { DEFAULT_CONFIG, type MirrorConfig } from "../../core/config.ts";
import { clusterNameError } from "../../core/cluster_link.ts";
import { DEFAULT_CLUSTER_NAME } from "../../core/markers.ts";
import { namespacePatternError, splitList } from "../../core/glob.ts";
import { groupKindKey } from "../../core/group_kind.ts";
import { parseResourceType, type ResourceType } from "../../core/mirrorable.ts";
import { errorMessage, type Level } from "../runtime/log.ts";
import { seedFlags } from "./seed_flags.ts";

/** The flags both commands take. */
export interface CommonFlags {
  resourceTypes?: ResourceType[];
  rateLimitQps: number;
  rateLimitBurst: number;
  kubeconfig?: string;
  /** From the earlier binary's logging flags (`--zap-log-level`, `--zap-devel`); else `LOG_LEVEL` rules. */
  logLevel?: Level;
  /** One line each for accepted flags that do nothing here, to log once at start. */
  notes: string[];
  config: MirrorConfig;
  /** Positional arguments left over. */
  positionals: string[];
}

/** The controller's flags. */
export interface ControllerFlags extends CommonFlags {
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  leaderElect: boolean;
  leaderElectionId: string;
  leaderElectionNamespace: string;
  discoveryIntervalMs: number;
  workerThreads: number;
  resyncPeriodMs: number;
  /** A watch with no event or bookmark for this long is restarted. */
  watchIdleTimeoutMs: number;
  verifySourceFreshness: boolean;
}

/** `kubemirror plan`'s flags: the controller's that shape a plan, and its own. */
export interface PlanFlags extends ControllerFlags {
  /** Manifest files and folders. */
  files: string[];
  output: "json" | "yaml" | "table";
}

/** The result of parsing: the flags, or a usage error. */
export type ParsedFlags<F = ControllerFlags> = { ok: true; flags: F } | { ok: false; error: string };

/** Whether the arguments ask for the usage text (`-h`, `--help`); checked before parsing. */
export function wantsHelp(argv: readonly string[]): boolean {
  return argv.some((a) => /^--?(h|help)(=true)?$/.test(a));
}

const BOOLEAN_FLAGS = [
  "leader-elect",
  "verify-source-freshness",
  "require-namespace-opt-in",
  "help",
  // The earlier binary's; accepted so its Deployments start unchanged.
  "lazy-watcher-init",
  "zap-devel",
];

const limits = DEFAULT_CONFIG.transformLimits;

/** Every flag with its default: the one place defaults are written (the core's for what shapes a plan). */
const OPTIONS = {
  "metrics-bind-address": { type: "string", default: ":8080" },
  "health-probe-bind-address": { type: "string", default: ":8081" },
  "leader-election-id": { type: "string", default: "kubemirror-controller-leader" },
  "leader-election-namespace": { type: "string" },
  "excluded-namespaces": { type: "string", multiple: true },
  "included-namespaces": { type: "string", multiple: true },
  "source-namespaces": { type: "string", multiple: true },
  "resource-types": { type: "string", multiple: true },
  "discovery-interval": { type: "string", default: "5m" },
  "max-targets": { type: "string", default: String(DEFAULT_CONFIG.maxTargets) },
  "cluster-name": { type: "string", default: DEFAULT_CLUSTER_NAME },
  "worker-threads": { type: "string", default: "5" },
  "rate-limit-qps": { type: "string", default: "50" },
  "rate-limit-burst": { type: "string", default: "100" },
  "resync-period": { type: "string", default: "10m" },
  "watch-idle-timeout": { type: "string", default: "5m" },
  "strip-label-prefixes": { type: "string", multiple: true },
  "strip-annotation-prefixes": { type: "string", multiple: true },
  "transform-max-rules": { type: "string", default: String(limits.maxRules) },
  "transform-max-rule-bytes": { type: "string", default: String(limits.maxRuleBytes) },
  "transform-timeout": { type: "string", default: `${limits.timeoutMs}ms` },
  "transform-max-rendered-bytes": { type: "string", default: String(limits.maxRenderedBytes) },
  "kubeconfig": { type: "string" },
  // The earlier binary's, accepted unchanged (see notes in parseFlags).
  "watcher-scan-interval": { type: "string" },
  "zap-encoder": { type: "string" },
  "zap-log-level": { type: "string" },
  "zap-stacktrace-level": { type: "string" },
  "zap-time-encoding": { type: "string" },
  // kubemirror plan's own.
  "filename": { type: "string", short: "f", multiple: true },
  "output": { type: "string", short: "o", default: "json" },
} as const;

/** Whether a flag takes no value (`--flag`, `--flag=false`). */
export function isBooleanFlag(name: string): boolean {
  return BOOLEAN_FLAGS.includes(name);
}

/** Flags only `kubemirror plan` takes; the controller refuses them. */
const PLAN_ONLY = ["filename", "output"] as const;

/** The controller's flag names, for usage text. */
export const FLAG_NAMES: readonly string[] = [...Object.keys(OPTIONS), ...BOOLEAN_FLAGS]
  .filter((f) => !(PLAN_ONLY as readonly string[]).includes(f)).sort();

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration such as `90s`, `5m`, `1h30m`, `100ms` into milliseconds. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim();
  if (t === "0") return 0;
  const re = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/y;
  let total = 0;
  let at = 0;
  while (at < t.length) {
    re.lastIndex = at;
    const m = re.exec(t);
    if (!m) return undefined;
    total += Number(m[1]) * UNITS[m[2]];
    at = re.lastIndex;
  }
  return at === 0 ? undefined : total;
}

/** Parses the controller's argv; every problem is a usage error, and so is a flag of `kubemirror plan`. */
export function parseFlags(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
): ParsedFlags<ControllerFlags> {
  const parsed = parseAll(argv, env);
  if (!parsed.ok) return parsed;
  const { files: _files, output: _output, ...flags } = parsed.flags;
  const given = parsed.given;
  for (const f of PLAN_ONLY) {
    if (given.has(f)) {
      const short = OPTIONS[f].short;
      return { ok: false, error: `-${short}/--${f} is a flag of kubemirror plan, not of the controller` };
    }
  }
  return { ok: true, flags };
}

/** Parses `kubemirror plan`'s argv: its own flags and the controller's. */
export function parsePlanFlags(
  argv: readonly string[],
  env: Record<string, string | undefined> = {},
): ParsedFlags<PlanFlags> {
  const parsed = parseAll(argv, env);
  return parsed.ok ? { ok: true, flags: parsed.flags } : parsed;
}

function parseAll(
  argv: readonly string[],
  env: Record<string, string | undefined>,
): { ok: true; flags: PlanFlags; given: Set<string> } | { ok: false; error: string } {
  const booleans: Record<string, boolean> = {};
  const rest: string[] = [];
  for (const arg of argv) {
    const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (m && BOOLEAN_FLAGS.includes(m[1])) {
      if (m[2] === undefined || m[2] === "true") booleans[m[1]] = true;
      else if (m[2] === "false") booleans[m[1]] = false;
      else return { ok: false, error: `--${m[1]} takes true or false, not "${m[2]}"` };
      continue;
    }
    // Go's flag package accepts a single dash for long flags.
    rest.push(m && arg.startsWith("-") && !arg.startsWith("--") && m[1].length > 1 ? `-${arg}` : arg);
  }
  let values: Record<string, string | string[] | undefined>;
  let positionals: string[];
  let given: Set<string>;
  try {
    const parsed = parseArgs({
      args: rest,
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
      tokens: true,
    });
    values = parsed.values as Record<string, string | string[] | undefined>;
    positionals = parsed.positionals;
    given = new Set(parsed.tokens.flatMap((t) => t.kind === "option" ? [t.name] : []));
  } catch (e) {
    return { ok: false, error: errorMessage(e) };
  }
  const str = (k: string) => values[k] as string;
  const list = (k: string) => ((values[k] as string[] | undefined) ?? []).flatMap((v) => splitList(v));
  const errors: string[] = [];
  const int = (k: string, min: number): number => {
    const v = str(k).trim();
    if (!/^[0-9]+$/.test(v) || Number(v) < min) {
      errors.push(`--${k} must be a whole number of at least ${min}, not "${v}"`);
    }
    return Number(v);
  };
  const num = (k: string): number => {
    const v = Number(str(k));
    if (!Number.isFinite(v) || v <= 0) errors.push(`--${k} must be a positive number, not "${str(k)}"`);
    return v;
  };
  const duration = (k: string): number => {
    const v = parseDuration(str(k));
    if (v === undefined) errors.push(`--${k} must be a duration such as 30s, 5m or 1h, not "${str(k)}"`);
    return v ?? 0;
  };
  const globs = (k: string): string[] => {
    const items = list(k);
    for (const g of items) {
      const err = namespacePatternError(g);
      if (err) errors.push(`--${k}: ${err}`);
    }
    return items;
  };
  let resourceTypes: ResourceType[] | undefined;
  if (values["resource-types"] !== undefined) {
    resourceTypes = [];
    for (const item of list("resource-types")) {
      const p = parseResourceType(item);
      if (p.ok) resourceTypes.push(p.type);
      else errors.push(`--resource-types: ${p.error}`);
    }
    if (resourceTypes.length === 0) resourceTypes = undefined;
  }
  const { logLevel, notes } = seedFlags(values, booleans, errors, duration);
  const output = str("output");
  if (!["json", "yaml", "table"].includes(output)) {
    errors.push(`-o must be json, yaml or table, not "${output}"`);
  }
  const config: MirrorConfig = {
    ...(resourceTypes ? { namedKinds: resourceTypes.map(groupKindKey) } : {}),
    excludedNamespaces: globs("excluded-namespaces"),
    includedNamespaces: globs("included-namespaces"),
    sourceNamespaces: globs("source-namespaces"),
    requireNamespaceOptIn: booleans["require-namespace-opt-in"] ?? false,
    maxTargets: int("max-targets", 1),
    clusterName: clusterName(str("cluster-name"), errors),
    stripLabelPrefixes: list("strip-label-prefixes"),
    stripAnnotationPrefixes: list("strip-annotation-prefixes"),
    transformLimits: {
      maxRules: int("transform-max-rules", 0),
      maxRuleBytes: int("transform-max-rule-bytes", 0),
      timeoutMs: duration("transform-timeout"),
      maxRenderedBytes: int("transform-max-rendered-bytes", 1),
    },
  };
  const flags: PlanFlags = {
    metricsBindAddress: str("metrics-bind-address"),
    healthProbeBindAddress: str("health-probe-bind-address"),
    leaderElect: booleans["leader-elect"] ?? true,
    leaderElectionId: str("leader-election-id"),
    // In a cluster the chart passes the release namespace; out of cluster "default" always exists.
    leaderElectionNamespace: str("leader-election-namespace") ?? env.POD_NAMESPACE ?? "default",
    resourceTypes,
    discoveryIntervalMs: duration("discovery-interval"),
    workerThreads: int("worker-threads", 1),
    rateLimitQps: num("rate-limit-qps"),
    rateLimitBurst: int("rate-limit-burst", 1),
    resyncPeriodMs: duration("resync-period"),
    watchIdleTimeoutMs: duration("watch-idle-timeout"),
    verifySourceFreshness: booleans["verify-source-freshness"] ?? false,
    kubeconfig: str("kubeconfig"),
    logLevel,
    notes,
    config,
    files: (values.filename as string[] | undefined) ?? [],
    output: output as PlanFlags["output"],
    positionals,
  };
  if (errors.length > 0) return { ok: false, error: errors.join("\n") };
  return { ok: true, flags, given };
}

/** `--cluster-name`: a DNS-1123 label (§10). */
function clusterName(value: string, errors: string[]): string {
  const err = clusterNameError(value);
  if (err) errors.push(`--cluster-name: ${err}`);
  return value;
}

/**
 * The earlier binary's flags that this one has no use for, or maps onto its own: `--lazy-watcher-init`
 * and `--watcher-scan-interval` (accepted, and said once to do nothing), and controller-runtime's `--zap-*`
 * logging flags (the level is used; the rest are said to do nothing). Its Deployments start unchanged.
 *
 * @example
 * ```ts
 * import { seedFlags } from "./seed_flags.ts";
 * import assert from "node:assert/strict";
 * const errors: string[] = [];
 * const r = seedFlags({ "zap-log-level": "debug" }, { "lazy-watcher-init": true }, errors, () => 0);
 * assert.equal(r.logLevel, "debug");
 * assert.match(r.notes[0], /--lazy-watcher-init is accepted for compatibility and does nothing/);
 * assert.deepEqual(errors, []);
 * ```
 * @module
 */
import type { Level } from "../runtime/log.ts";

/** Zap's level names (and verbosity numbers) onto ours. */
const ZAP_LEVELS: Record<string, Level> = {
  debug: "debug",
  info: "info",
  warn: "warn",
  error: "error",
  dpanic: "error",
  panic: "error",
  fatal: "error",
};

/**
 * The earlier binary's flags that this one has no use for, or maps onto its own: `--lazy-watcher-init`
 * and `--watcher-scan-interval` (label-filtered watches of every kind cost little, so there is nothing
 * to defer), and controller-runtime's `--zap-*` logging flags.
 */
export function seedFlags(
  values: Record<string, string | string[] | undefined>,
  booleans: Record<string, boolean>,
  errors: string[],
  duration: (k: string) => number,
): { logLevel?: Level; notes: string[] } {
  const notes: string[] = [];
  const nothing = (flag: string, why: string) =>
    notes.push(`--${flag} is accepted for compatibility and does nothing: ${why}`);
  const watchWhy =
    "every mirrorable kind is watched from the start through label-filtered watches, which cost little";
  if (booleans["lazy-watcher-init"] !== undefined) nothing("lazy-watcher-init", watchWhy);
  if (values["watcher-scan-interval"] !== undefined) {
    duration("watcher-scan-interval");
    nothing("watcher-scan-interval", watchWhy);
  }
  const choice = (flag: string, allowed: readonly string[]): string | undefined => {
    const v = values[flag] as string | undefined;
    if (v !== undefined && !allowed.includes(v.toLowerCase())) {
      errors.push(`--${flag} must be one of ${allowed.join(", ")}, not "${v}"`);
      return undefined;
    }
    return v?.toLowerCase();
  };
  let logLevel: Level | undefined;
  const level = values["zap-log-level"] as string | undefined;
  if (level !== undefined) {
    const v = level.trim().toLowerCase();
    if (v in ZAP_LEVELS) logLevel = ZAP_LEVELS[v];
    else if (/^[0-9]+$/.test(v)) logLevel = Number(v) > 0 ? "debug" : "info";
    else {errors.push(
        `--zap-log-level must be debug, info, warn, error, dpanic, panic, fatal or a number, not "${level}"`,
      );}
  }
  if (booleans["zap-devel"] && logLevel === undefined) logLevel = "debug";
  if (choice("zap-encoder", ["json", "console"]) === "console" || booleans["zap-devel"]) {
    notes.push(
      "logs are always JSON lines: the console encoder of --zap-encoder=console and --zap-devel is not offered",
    );
  }
  if (choice("zap-stacktrace-level", ["info", "error", "panic"]) !== undefined) {
    nothing("zap-stacktrace-level", "errors are logged as one JSON line without a stack trace");
  }
  if (
    choice("zap-time-encoding", ["epoch", "millis", "nano", "iso8601", "rfc3339", "rfc3339nano"]) !==
      undefined
  ) {
    nothing("zap-time-encoding", 'the "time" field is always RFC 3339 in UTC with milliseconds');
  }
  return { logLevel, notes };
}

/**
 * JSON-lines logging on stderr, filtered by `LOG_LEVEL` (debug, info, warn, error; default info).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createLogger } from "./log.ts";
 * const lines: string[] = [];
 * const log = createLogger("info", {}, (line) => lines.push(line));
 * log.with({ source: "default/cfg" }).info("mirror created", { target: "app1/cfg" });
 * log.debug("not written at info");
 * const { time: _time, ...entry } = JSON.parse(lines[0]);
 * assert.deepEqual(entry, { level: "info", msg: "mirror created", source: "default/cfg", target: "app1/cfg" });
 * assert.equal(lines.length, 1);
 * ```
 * @module
 */
export { errorMessage } from "../../core/errors.ts";

/** Log levels in increasing severity. */
export type Level = "debug" | "info" | "warn" | "error";

const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** A structured logger. */
export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  with(fields: Record<string, unknown>): Logger;
}

/** Parses a level name; unknown names fall back to info. */
export function parseLevel(value: string | undefined): Level {
  const v = (value ?? "").toLowerCase();
  return v === "debug" || v === "warn" || v === "error" ? v : "info";
}

/** A logger writing JSON lines through `write` (stderr by default). */
export function createLogger(
  level: Level,
  base: Record<string, unknown> = {},
  write: (line: string) => void = (line) => console.error(line),
): Logger {
  const emit = (l: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[l] < ORDER[level]) return;
    const entry: Record<string, unknown> = {
      time: new Date().toISOString(),
      level: l,
      msg,
      ...base,
      ...fields,
    };
    for (const [k, v] of Object.entries(entry)) if (v instanceof Error) entry[k] = v.message;
    write(JSON.stringify(entry));
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    with: (fields) => createLogger(level, { ...base, ...fields }, write),
  };
}

/**
 * Time as the controller writes it: RFC 3339 in UTC to the second (a mirror's `last-sync-time`, an
 * Event's timestamps, a Lease's times are derived from milliseconds given by the shell's clock).
 *
 * @example
 * ```ts
 * import { rfc3339 } from "./time.ts";
 * import assert from "node:assert/strict";
 * assert.equal(rfc3339(Date.UTC(2026, 10, 30, 12, 0, 5, 999)), "2026-11-30T12:00:05Z");
 * ```
 * @module
 */

/** RFC 3339 in UTC to the second. */
export function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

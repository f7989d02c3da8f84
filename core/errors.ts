/**
 * The message of whatever was thrown: an Error's message (never "Error: …", never a stack), else its
 * text. The one spelling of this for the core and the shell.
 *
 * @example
 * ```ts
 * import { errorMessage } from "./errors.ts";
 * import assert from "node:assert/strict";
 * assert.equal(errorMessage(new Error("no such key")), "no such key");
 * assert.equal(errorMessage("plain text"), "plain text");
 * ```
 * @module
 */

/** The message of an error, whatever was thrown. */
export function errorMessage(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

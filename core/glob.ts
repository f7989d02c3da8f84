/**
 * Namespace globs: `*` matches any run of characters, `?` exactly one; everything else matches itself.
 * Matching is linear-time backtracking over two indexes, never a regular expression, so no pattern
 * can make it slow.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { globMatch } from "./glob.ts";
 * assert.equal(globMatch("prod-*", "prod-eu"), true);
 * assert.equal(globMatch("app-?", "app-10"), false);
 * ```
 * @module
 */

/** Whether `text` matches `pattern` as a whole. */
export function globMatch(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let mark = 0;
  while (t < text.length) {
    if (p < pattern.length && (pattern[p] === "?" || pattern[p] === text[t])) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      mark = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}

/** Whether a pattern has a wildcard, so that it matches existing names rather than naming one. */
export function isGlob(pattern: string): boolean {
  return pattern.includes("*") || pattern.includes("?");
}

const NAMESPACE_GLOB = /^[a-z0-9*?]([-a-z0-9*?]*[a-z0-9*?])?$/;
const NAMESPACE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/**
 * Why a namespace name or glob is invalid, or `undefined` when it is fine.
 * Names follow the DNS label rules (lower case letters, digits, `-`, at most 63 characters).
 */
export function namespacePatternError(pattern: string): string | undefined {
  if (pattern.length > 63) return `"${pattern}" is longer than 63 characters`;
  if (/[\[\]{}]/.test(pattern)) {
    return `"${pattern}" is not a valid namespace glob: only '*' and '?' are wildcards ([...] and {...} are not)`;
  }
  if (isGlob(pattern)) {
    return NAMESPACE_GLOB.test(pattern) ? undefined : `"${pattern}" is not a valid namespace glob: ` +
      "only lower case letters, digits, '-', '*' and '?' are allowed";
  }
  return NAMESPACE_NAME.test(pattern) ? undefined : `"${pattern}" is not a valid namespace name: ` +
    "lower case letters, digits and '-', starting and ending with a letter or digit";
}

/** Splits a comma list, trimming blanks and dropping empty items. */
export function splitList(value: string | undefined): string[] {
  if (!value) return [];
  return value.split(",").map((s) => s.trim()).filter((s) => s.length > 0);
}

/** Whether any of the globs matches `name`. */
export function matchesAny(globs: readonly string[], name: string): boolean {
  return globs.some((g) => globMatch(g, name));
}

/**
 * Field paths of transformation rules: segments split by `.`, `[N]` indexes arrays and `["key"]`
 * addresses keys that hold dots or slashes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parsePath } from "./path.ts";
 * assert.deepEqual(parsePath('metadata.labels["app.kubernetes.io/name"]'), {
 *   ok: true,
 *   path: [{ key: "metadata" }, { key: "labels" }, { key: "app.kubernetes.io/name" }],
 * });
 * ```
 * @module
 */

/** One step of a path: a map key or an array index. */
export type Segment = { key: string } | { index: number };

/** The result of {@link parsePath}. */
export type ParsedPath = { ok: true; path: Segment[] } | { ok: false; error: string };

/** Parses a rule path; errors say where the path goes wrong. */
export function parsePath(text: string): ParsedPath {
  const path: Segment[] = [];
  let i = 0;
  const fail = (why: string): ParsedPath => ({ ok: false, error: `invalid path "${text}": ${why}` });
  if (text.length === 0) return fail("it is empty");
  let expectKey = true;
  while (i < text.length) {
    const c = text[i];
    if (c === "[") {
      const close = parseBracket(text, i);
      if (typeof close === "string") return fail(close);
      path.push(close.segment);
      i = close.end;
      expectKey = false;
    } else if (c === ".") {
      if (expectKey) return fail(`empty segment at position ${i}`);
      i++;
      expectKey = true;
      if (i >= text.length) return fail("it ends with '.'");
    } else if (c === "]") {
      return fail(`unexpected ']' at position ${i}`);
    } else {
      if (!expectKey) return fail(`expected '.' or '[' at position ${i}`);
      const start = i;
      while (i < text.length && text[i] !== "." && text[i] !== "[" && text[i] !== "]") i++;
      path.push({ key: text.slice(start, i) });
      expectKey = false;
    }
  }
  return { ok: true, path };
}

function parseBracket(text: string, open: number): { segment: Segment; end: number } | string {
  let i = open + 1;
  const quote = text[i];
  if (quote === '"' || quote === "'") {
    let key = "";
    i++;
    while (i < text.length && text[i] !== quote) {
      if (text[i] === "\\" && i + 1 < text.length) i++;
      key += text[i++];
    }
    if (i >= text.length) return `unterminated string starting at position ${open + 1}`;
    i++;
    if (text[i] !== "]") return `expected ']' at position ${i}`;
    if (key.length === 0) return `empty key at position ${open}`;
    return { segment: { key }, end: i + 1 };
  }
  const close = text.indexOf("]", i);
  if (close < 0) return `unterminated '[' at position ${open}`;
  const digits = text.slice(i, close);
  if (!/^[0-9]{1,9}$/.test(digits)) return `"[${digits}]" is neither an array index nor a quoted key`;
  return { segment: { index: Number(digits) }, end: close + 1 };
}

/** Prints a path back; keys that need it are quoted. */
export function formatPath(path: readonly Segment[]): string {
  let out = "";
  for (const s of path) {
    if ("index" in s) out += `[${s.index}]`;
    else if (/^[^.\[\]"']+$/.test(s.key)) out += out.length === 0 ? s.key : `.${s.key}`;
    else out += `[${JSON.stringify(s.key)}]`;
  }
  return out;
}

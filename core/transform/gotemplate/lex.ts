/**
 * The lexer of Go's `text/template` language for {@link parseGoTemplate}: splits a template into text and
 * the tokens of each action, applying the trim markers (`{{- ` and ` -}}`) and dropping comments.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { lex } from "./lex.ts";
 * const items = lex("a {{- .X }}");
 * assert.deepEqual(items[0], { kind: "text", text: "a" }); // "{{-" trimmed the space before it
 * assert.equal(items[1].kind, "action");
 * assert.equal(items[1].text, "{{- .X }}");
 * ```
 * @module
 */
import { GoFloat, type GoValue } from "./value.ts";

/** One token of an action. */
export type Token =
  | { t: "ident" | "field" | "var"; v: string }
  | { t: "dot" | "lparen" | "rparen" | "pipe" | "declare" | "assign" | "comma" | "space" }
  | { t: "literal"; v: GoValue; text: string };

/** Text, or one action's tokens. */
export type Item = { kind: "text"; text: string } | { kind: "action"; tokens: Token[]; text: string };

/** A template that does not parse; the message says why. */
export class ParseError extends Error {}

/** Go's keywords. */
export const KEYWORDS: ReadonlySet<string> = new Set([
  "if",
  "else",
  "end",
  "range",
  "with",
  "break",
  "continue",
  "define",
  "template",
  "block",
]);
const SPACE = /[ \t\r\n]/;

/** Throws a {@link ParseError}. */
export function fail(message: string): never {
  throw new ParseError(message);
}

/** Splits the template into text and the tokens of each action, applying the trim markers. */
export function lex(src: string): Item[] {
  const items: Item[] = [];
  let i = 0;
  let trimNext = false;
  while (i < src.length) {
    const open = src.indexOf("{{", i);
    let text = src.slice(i, open < 0 ? src.length : open);
    if (trimNext) text = text.replace(/^[ \t\r\n]+/, "");
    trimNext = false;
    if (open < 0) {
      if (text) items.push({ kind: "text", text });
      break;
    }
    let p = open + 2;
    if (src[p] === "-" && SPACE.test(src[p + 1] ?? "")) {
      text = text.replace(/[ \t\r\n]+$/, "");
      p += 2;
    }
    if (text) items.push({ kind: "text", text });
    while (SPACE.test(src[p] ?? "")) p++;
    if (src.startsWith("/*", p)) {
      const close = src.indexOf("*/", p + 2);
      if (close < 0) fail("unclosed comment");
      p = close + 2;
      const rest = /^( -)?\}\}/.exec(src.slice(p));
      if (!rest) fail("comment ends before closing delimiter");
      trimNext = rest[1] !== undefined;
      i = p + rest[0].length;
      continue;
    }
    const { tokens, end, trim } = lexAction(src, p);
    items.push({ kind: "action", tokens, text: src.slice(open, end) });
    trimNext = trim;
    i = end;
  }
  return items;
}

function lexAction(src: string, start: number): { tokens: Token[]; end: number; trim: boolean } {
  const tokens: Token[] = [];
  let p = start;
  while (true) {
    if (p >= src.length) fail("unclosed action");
    const c = src[p];
    if (SPACE.test(c)) {
      let q = p;
      while (SPACE.test(src[q] ?? "")) q++;
      if (src[q] === "-" && src.startsWith("}}", q + 1)) return { tokens, end: q + 3, trim: true };
      tokens.push({ t: "space" });
      p = q;
      continue;
    }
    if (src.startsWith("}}", p)) return { tokens, end: p + 2, trim: false };
    if (c === "(") tokens.push({ t: "lparen" }), p++;
    else if (c === ")") tokens.push({ t: "rparen" }), p++;
    else if (c === "|") tokens.push({ t: "pipe" }), p++;
    else if (c === ",") tokens.push({ t: "comma" }), p++;
    else if (src.startsWith(":=", p)) tokens.push({ t: "declare" }), p += 2;
    else if (c === "=") tokens.push({ t: "assign" }), p++;
    else if (c === '"' || c === "`") {
      const [value, next] = c === "`" ? rawString(src, p) : quotedString(src, p);
      tokens.push({ t: "literal", v: value, text: src.slice(p, next) });
      p = next;
    } else if (c === "'") {
      const m = /^'(\\.|[^'\\])'/u.exec(src.slice(p));
      if (!m) fail("malformed character constant");
      const ch = m[1].startsWith("\\") ? unescape(m[1]) : m[1];
      tokens.push({ t: "literal", v: ch.codePointAt(0)!, text: m[0] });
      p += m[0].length;
    } else if (c === "$") {
      const m = /^\$[A-Za-z0-9_]*/.exec(src.slice(p))!;
      tokens.push({ t: "var", v: m[0] });
      p += m[0].length;
    } else if (c === ".") {
      const m = /^\.[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(p));
      if (m) tokens.push({ t: "field", v: m[0].slice(1) }), p += m[0].length;
      else if (/[0-9]/.test(src[p + 1] ?? "")) p = number(src, p, tokens);
      else tokens.push({ t: "dot" }), p++;
    } else if (/[0-9+-]/.test(c)) p = number(src, p, tokens);
    else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(p))!;
      const v = m[0];
      if (v === "true" || v === "false") tokens.push({ t: "literal", v: v === "true", text: v });
      else if (v === "nil") tokens.push({ t: "literal", v: null, text: v });
      else tokens.push({ t: "ident", v });
      p += v.length;
    } else fail(`unexpected ${JSON.stringify(c)} in action`);
  }
}

function number(src: string, p: number, tokens: Token[]): number {
  const m = /^[+-]?(0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|(\d[\d_]*)?\.?\d*([eE][+-]?\d+)?)/.exec(
    src.slice(p),
  );
  const text = m?.[0] ?? "";
  if (!/\d/.test(text)) fail(`bad number syntax: ${JSON.stringify(src.slice(p, p + 10))}`);
  const clean = text.replace(/_/g, "");
  const isFloat = /^[+-]?(\d*\.\d*|\d+[eE])/.test(clean) && !/^[+-]?0[xXbBoO]/.test(clean);
  const sign = clean.startsWith("-") ? -1 : 1;
  const body = clean.replace(/^[+-]/, "");
  const value = isFloat
    ? new GoFloat(sign * Number(body))
    : sign * Number(body.replace(/^0([0-7]+)$/, "0o$1"));
  if (typeof value === "number" && !Number.isSafeInteger(value)) fail(`number ${text} is out of range`);
  tokens.push({ t: "literal", v: value, text });
  return p + text.length;
}

const ESCAPES: Record<string, string> = {
  n: "\n",
  t: "\t",
  r: "\r",
  "\\": "\\",
  '"': '"',
  "'": "'",
  a: "\x07",
  b: "\b",
  f: "\f",
  v: "\v",
  "0": "\0",
};

function unescape(seq: string): string {
  const c = seq[1];
  const hex = { x: 2, u: 4, U: 8 }[c];
  if (hex !== undefined) {
    const code = seq.length === 2 + hex ? parseInt(seq.slice(2), 16) : NaN;
    if (Number.isNaN(code) || code > 0x10ffff) fail(`invalid escape sequence ${seq}`);
    return String.fromCodePoint(code);
  }
  if (c in ESCAPES) return ESCAPES[c];
  fail(`unknown escape sequence ${seq}`);
}

function quotedString(src: string, p: number): [string, number] {
  const m = /^"((?:\\(?:x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)|[^"\\\n])*)"/.exec(src.slice(p));
  if (!m) fail("unterminated quoted string");
  const value = m[1].replace(/\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)/g, (s) => unescape(s));
  return [value, p + m[0].length];
}

function rawString(src: string, p: number): [string, number] {
  const close = src.indexOf("`", p + 1);
  if (close < 0) fail("unterminated raw quoted string");
  return [src.slice(p + 1, close), close + 1];
}

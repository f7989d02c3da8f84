/**
 * Kubernetes label selectors in their string form: `env=prod,tier in (web,api),!legacy`.
 * Supports `=`, `==`, `!=`, `in`, `notin`, `key` (exists) and `!key` (does not exist), with the
 * key and value syntax rules of the API server.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { matchesSelector, parseSelector } from "./label_selector.ts";
 * const parsed = parseSelector("env=prod,tier in (web,api),!legacy");
 * assert.ok(parsed.ok);
 * assert.equal(matchesSelector(parsed.selector, { env: "prod", tier: "web" }), true);
 * assert.equal(matchesSelector(parsed.selector, { env: "prod", tier: "web", legacy: "yes" }), false);
 * ```
 * @module
 */

/** One requirement of a selector. */
export type Requirement =
  | { key: string; op: "=" | "!="; value: string }
  | { key: string; op: "in" | "notin"; values: string[] }
  | { key: string; op: "exists" | "!exists" };

/** A parsed selector: every requirement must hold. */
export interface Selector {
  requirements: Requirement[];
}

/** The result of {@link parseSelector}. */
export type ParsedSelector = { ok: true; selector: Selector } | { ok: false; error: string };

type Token = { kind: "id" | "op" | "(" | ")" | "," | "!"; text: string; at: number };

function tokenize(input: string): Token[] | string {
  const tokens: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i];
    if (c === " " || c === "\t" || c === "\n") {
      i++;
    } else if (c === "(" || c === ")" || c === ",") {
      tokens.push({ kind: c, text: c, at: i });
      i++;
    } else if (c === "=" && input[i + 1] === "=") {
      tokens.push({ kind: "op", text: "=", at: i });
      i += 2;
    } else if (c === "=") {
      tokens.push({ kind: "op", text: "=", at: i });
      i++;
    } else if (c === "!" && input[i + 1] === "=") {
      tokens.push({ kind: "op", text: "!=", at: i });
      i += 2;
    } else if (c === "!") {
      tokens.push({ kind: "!", text: "!", at: i });
      i++;
    } else if (c === ">" || c === "<") {
      return `operator "${c}" at position ${i} is not supported`;
    } else {
      const start = i;
      while (i < input.length && !" \t\n(),=!<>".includes(input[i])) i++;
      tokens.push({ kind: "id", text: input.slice(start, i), at: start });
    }
  }
  return tokens;
}

const NAME = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Why a label key is invalid, or `undefined`. */
export function labelKeyError(key: string): string | undefined {
  const slash = key.indexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length === 0 || prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) {
    return `invalid label key "${key}": the prefix must be a DNS subdomain`;
  }
  if (name.length === 0 || name.length > 63 || !NAME.test(name)) {
    return `invalid label key "${key}": the name must be 1 to 63 letters, digits, '-', '_' or '.', ` +
      "starting and ending with a letter or digit";
  }
  return undefined;
}

/** Why a label value is invalid, or `undefined`. */
export function labelValueError(value: string): string | undefined {
  if (value === "") return undefined;
  if (value.length > 63 || !NAME.test(value)) {
    return `invalid label value "${value}": at most 63 letters, digits, '-', '_' or '.', ` +
      "starting and ending with a letter or digit";
  }
  return undefined;
}

/** Parses a selector string; the error names the position and what was expected. */
export function parseSelector(input: string): ParsedSelector {
  const tokens = tokenize(input);
  if (typeof tokens === "string") return { ok: false, error: tokens };
  const requirements: Requirement[] = [];
  let i = 0;
  const fail = (what: string): ParsedSelector => {
    const tok = tokens[i];
    const where = tok ? `"${tok.text}" at position ${tok.at}` : "end of input";
    return { ok: false, error: `expected ${what}, found ${where}` };
  };
  if (tokens.length === 0) return { ok: false, error: "the selector is empty" };
  while (i < tokens.length) {
    let negate = false;
    if (tokens[i].kind === "!") {
      negate = true;
      i++;
    }
    if (tokens[i]?.kind !== "id") return fail("a label key");
    const key = tokens[i++].text;
    const keyError = labelKeyError(key);
    if (keyError) return { ok: false, error: keyError };
    const next = tokens[i];
    if (negate) {
      requirements.push({ key, op: "!exists" });
    } else if (!next || next.kind === ",") {
      requirements.push({ key, op: "exists" });
    } else if (next.kind === "op") {
      i++;
      let value = "";
      if (tokens[i]?.kind === "id") value = tokens[i++].text;
      const valueError = labelValueError(value);
      if (valueError) return { ok: false, error: valueError };
      requirements.push({ key, op: next.text === "!=" ? "!=" : "=", value });
    } else if (next.kind === "id" && (next.text === "in" || next.text === "notin")) {
      i++;
      if (tokens[i]?.kind !== "(") return fail(`"(" after "${next.text}"`);
      i++;
      const values: string[] = [];
      while (true) {
        if (tokens[i]?.kind === "id") {
          const valueError = labelValueError(tokens[i].text);
          if (valueError) return { ok: false, error: valueError };
          values.push(tokens[i++].text);
        } else {
          values.push("");
        }
        if (tokens[i]?.kind === ",") {
          i++;
          continue;
        }
        if (tokens[i]?.kind === ")") {
          i++;
          break;
        }
        return fail(`"," or ")" in the value list of "${key}"`);
      }
      requirements.push({ key, op: next.text as "in" | "notin", values });
    } else {
      return fail(`"=", "==", "!=", "in" or "notin" after "${key}"`);
    }
    if (i < tokens.length) {
      if (tokens[i].kind !== ",") return fail(`"," between requirements`);
      i++;
      if (i >= tokens.length) return fail("a requirement after ','");
    }
  }
  return { ok: true, selector: { requirements } };
}

/** Whether a set of labels satisfies every requirement. */
export function matchesSelector(selector: Selector, labels: Readonly<Record<string, string>>): boolean {
  return selector.requirements.every((r) => {
    const has = Object.hasOwn(labels, r.key);
    const value = labels[r.key];
    switch (r.op) {
      case "=":
        return has && value === r.value;
      case "!=":
        return !has || value !== r.value;
      case "in":
        return has && r.values.includes(value);
      case "notin":
        return !has || !r.values.includes(value);
      case "exists":
        return has;
      case "!exists":
        return !has;
    }
  });
}

/** Prints a selector back in canonical string form. */
export function formatSelector(selector: Selector): string {
  return selector.requirements.map((r) => {
    switch (r.op) {
      case "=":
      case "!=":
        return `${r.key}${r.op}${r.value}`;
      case "in":
      case "notin":
        return `${r.key} ${r.op} (${r.values.join(",")})`;
      case "exists":
        return r.key;
      case "!exists":
        return `!${r.key}`;
    }
  }).join(",");
}

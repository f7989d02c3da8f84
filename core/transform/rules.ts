/**
 * Parsing and validating the `transform` annotation (docs/CONTRACT.md §5).
 * Problems with the annotation as a whole (bad YAML, over the rule-count or size limit) fail the source;
 * a problem with one rule makes that rule a failing rule (skipped, or failing the mirror when strict).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseTransform } from "./rules.ts";
 * const parsed = parseTransform("rules:\n  - path: data.LOG_LEVEL\n    value: error\n", { maxRules: 50, maxRuleBytes: 10240 });
 * assert.ok(parsed.ok);
 * assert.equal(parsed.spec.rules.length, 1);
 * ```
 * @module
 */
import { errorMessage } from "../errors.ts";
import { parse as parseYaml } from "yaml";
import { namespacePatternError } from "../glob.ts";
import type { JsonValue } from "../types.ts";
import { formatPath, parsePath, type Segment } from "./path.ts";
import { touchesProtected } from "./protected.ts";
import { compileTemplate, type Template } from "./template.ts";

/** What a rule does at its path. */
export type RuleAction =
  | { type: "value"; value: string }
  | { type: "template"; template: Template }
  | { type: "merge"; entries: Record<string, JsonValue> }
  | { type: "delete" };

/** A valid rule. */
export interface Rule {
  /** Position in the annotation's list, from 0. */
  index: number;
  path: Segment[];
  action: RuleAction;
  /** Glob over the target namespace; empty applies everywhere. */
  namespacePattern: string;
}

/** A rule that cannot run, with the reason. */
export interface RuleError {
  index: number;
  message: string;
}

/** The parsed annotation. */
export interface TransformSpec {
  /** The annotation's text; part of the content hash. */
  text: string;
  rules: Rule[];
  invalid: RuleError[];
}

/** Limits checked when the annotation is parsed. */
export interface ParseLimits {
  maxRules: number;
  maxRuleBytes: number;
}

/** The result of {@link parseTransform}. */
export type ParsedTransform = { ok: true; spec: TransformSpec } | { ok: false; error: string };

const RULE_FIELDS = new Set(["path", "value", "template", "merge", "delete", "namespacePattern"]);
const ACTIONS = ["value", "template", "merge", "delete"] as const;

/** Parses and validates the annotation text. */
export function parseTransform(text: string, limits: ParseLimits): ParsedTransform {
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > limits.maxRuleBytes) {
    return {
      ok: false,
      error: `transform is ${bytes} bytes, over the limit of ${limits.maxRuleBytes} bytes`,
    };
  }
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 50, uniqueKeys: true, logLevel: "error" });
  } catch (e) {
    const message = errorMessage(e).split("\n")[0];
    return { ok: false, error: `transform is not valid YAML: ${message}` };
  }
  if (doc === null || doc === undefined) return { ok: true, spec: { text, rules: [], invalid: [] } };
  if (typeof doc !== "object" || Array.isArray(doc) || !("rules" in doc)) {
    return { ok: false, error: "transform must be a map with a 'rules' list" };
  }
  const extra = Object.keys(doc).filter((k) => k !== "rules");
  if (extra.length > 0) return { ok: false, error: `transform has unknown field(s): ${extra.join(", ")}` };
  const list = (doc as { rules: unknown }).rules;
  if (list === null) return { ok: true, spec: { text, rules: [], invalid: [] } };
  if (!Array.isArray(list)) return { ok: false, error: "transform 'rules' must be a list" };
  if (list.length > limits.maxRules) {
    return { ok: false, error: `transform has ${list.length} rules, over the limit of ${limits.maxRules}` };
  }
  const rules: Rule[] = [];
  const invalid: RuleError[] = [];
  list.forEach((raw, index) => {
    const parsed = parseRule(raw, index);
    if ("message" in parsed) invalid.push(parsed);
    else rules.push(parsed);
  });
  return { ok: true, spec: { text, rules, invalid } };
}

function parseRule(raw: unknown, index: number): Rule | RuleError {
  const fail = (message: string): RuleError => ({ index, message: `rule ${index + 1}: ${message}` });
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return fail("must be a map");
  const r = raw as Record<string, unknown>;
  const unknown = Object.keys(r).filter((k) => !RULE_FIELDS.has(k));
  if (unknown.length > 0) return fail(`unknown field(s) ${unknown.join(", ")}`);
  if (typeof r.path !== "string" || r.path.trim() === "") return fail("'path' is required");
  const parsedPath = parsePath(r.path.trim());
  if (!parsedPath.ok) return fail(parsedPath.error);
  const path = parsedPath.path;
  const where = `(${formatPath(path)})`;
  const present = ACTIONS.filter((a) =>
    r[a] !== undefined && r[a] !== null && !(a === "delete" && r[a] === false)
  );
  if (present.length !== 1) {
    return fail(
      present.length === 0
        ? `${where} needs exactly one of value, template, merge or delete: true`
        : `${where} has ${present.join(" and ")}; exactly one of value, template, merge or delete is allowed`,
    );
  }
  let pattern = "";
  if (r.namespacePattern !== undefined && r.namespacePattern !== null) {
    if (typeof r.namespacePattern !== "string") return fail(`${where} namespacePattern must be a string`);
    pattern = r.namespacePattern.trim();
    const err = pattern === "" ? undefined : namespacePatternError(pattern);
    if (err) return fail(`${where} namespacePattern ${err}`);
  }
  let action: RuleAction;
  switch (present[0]) {
    case "value": {
      const v = r.value;
      if (typeof v === "object") return fail(`${where} value must be a string; use merge for maps`);
      action = { type: "value", value: String(v) };
      break;
    }
    case "template": {
      if (typeof r.template !== "string") return fail(`${where} template must be a string`);
      const t = compileTemplate(r.template);
      if (!t.ok) return fail(`${where} ${t.error}`);
      action = { type: "template", template: t.template };
      break;
    }
    case "merge": {
      const m = r.merge;
      if (typeof m !== "object" || Array.isArray(m)) return fail(`${where} merge must be a map`);
      action = { type: "merge", entries: m as Record<string, JsonValue> };
      break;
    }
    default: {
      if (r.delete !== true) return fail(`${where} delete must be true`);
      action = { type: "delete" };
    }
  }
  const protectedWhy = touchesProtected(
    path,
    action.type === "merge" ? Object.keys(action.entries) : undefined,
  );
  if (protectedWhy) return fail(`${where} touches a protected path: ${protectedWhy}`);
  return { index, path, action, namespacePattern: pattern };
}

/**
 * Applying parsed transformation rules to one desired mirror.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { applyTransform } from "./apply.ts";
 * import { parseTransform } from "./rules.ts";
 * import { sizeOnlyBudget } from "./budget.ts";
 * const parsed = parseTransform("rules:\n  - path: data.A\n    value: b\n", { maxRules: 50, maxRuleBytes: 10240 });
 * if (!parsed.ok) throw new Error(parsed.error);
 * const out = applyTransform({ kind: "ConfigMap", data: {} }, parsed.spec, {
 *   vars: { TargetNamespace: "app1", SourceNamespace: "default", SourceName: "cfg", TargetName: "cfg",
 *     Labels: {}, Annotations: {} },
 *   budget: sizeOnlyBudget(1 << 20),
 * });
 * assert.deepEqual(out.object.data, { A: "b" });
 * ```
 * @module
 */
import { errorMessage } from "../errors.ts";
import { globMatch } from "../glob.ts";
import type { JsonObject, JsonValue, KubeObject } from "../types.ts";
import { type Budget, BudgetExceeded, checkBudget } from "./budget.ts";
import { formatPath, type Segment } from "./path.ts";
import { protectedFingerprint } from "./protected.ts";
import type { Rule, TransformSpec } from "./rules.ts";
import type { TemplateVars } from "./template.ts";

/** What one mirror's transformation needs besides the rules. */
export interface TransformContext {
  vars: TemplateVars;
  budget: Budget;
}

/** A rule that failed for one mirror. */
export interface RuleFailure {
  index: number;
  message: string;
}

/** The outcome: the transformed object, failed rules, and why the whole transformation stopped, if it did. */
export interface TransformOutcome {
  object: KubeObject;
  failures: RuleFailure[];
  /** Set when a limit stopped the transformation: the object must not be written. */
  stopped?: string;
}

/** Base64 of a string's UTF-8 bytes, as the API server expects Secret data. */
export function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

class RuleProblem extends Error {}

function isMap(v: unknown): v is JsonObject {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function describeType(v: unknown): string {
  return Array.isArray(v)
    ? "a list"
    : v === null
    ? "null"
    : typeof v === "object"
    ? "a map"
    : `a ${typeof v}`;
}

/** Walks to the parent of the last segment, creating missing maps when `create` is set. */
function parentOf(
  root: JsonObject,
  path: readonly Segment[],
  create: boolean,
): JsonObject | JsonValue[] | undefined {
  let cur: JsonValue = root;
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i];
    const here = formatPath(path.slice(0, i + 1));
    if ("index" in seg) {
      if (!Array.isArray(cur)) {
        throw new RuleProblem(`${formatPath(path.slice(0, i))} is ${describeType(cur)}, not a list`);
      }
      if (seg.index >= cur.length) {
        throw new RuleProblem(`index ${seg.index} is out of range at ${here} (length ${cur.length})`);
      }
      cur = cur[seg.index];
    } else {
      if (!isMap(cur)) {
        throw new RuleProblem(
          `${formatPath(path.slice(0, i)) || "the object"} is ${describeType(cur)}, not a map`,
        );
      }
      if (cur[seg.key] === undefined || cur[seg.key] === null) {
        if (!create) return undefined;
        if ("index" in path[i + 1]) {
          throw new RuleProblem(
            `index ${(path[i + 1] as { index: number }).index} is out of range at ${
              formatPath(path.slice(0, i + 2))
            } (no list)`,
          );
        }
        cur[seg.key] = {};
      }
      cur = cur[seg.key];
    }
  }
  if (!isMap(cur) && !Array.isArray(cur)) {
    throw new RuleProblem(`${formatPath(path.slice(0, -1))} is ${describeType(cur)}, not a map or list`);
  }
  return cur;
}

function setAt(root: JsonObject, path: readonly Segment[], value: JsonValue): void {
  const parent = parentOf(root, path, true)!;
  const last = path[path.length - 1];
  if ("index" in last) {
    if (!Array.isArray(parent)) {
      throw new RuleProblem(`${formatPath(path.slice(0, -1))} is a map, not a list`);
    }
    if (last.index >= parent.length) {
      throw new RuleProblem(
        `index ${last.index} is out of range at ${formatPath(path)} (length ${parent.length})`,
      );
    }
    parent[last.index] = value;
  } else {
    if (Array.isArray(parent)) throw new RuleProblem(`${formatPath(path.slice(0, -1))} is a list, not a map`);
    parent[last.key] = value;
  }
}

function getAt(root: JsonObject, path: readonly Segment[]): JsonValue | undefined {
  const parent = parentOf(root, path, false);
  if (parent === undefined) return undefined;
  const last = path[path.length - 1];
  if ("index" in last) return Array.isArray(parent) ? parent[last.index] : undefined;
  return Array.isArray(parent) ? undefined : parent[last.key];
}

function deleteAt(root: JsonObject, path: readonly Segment[]): void {
  const parent = parentOf(root, path, false);
  if (parent === undefined) return;
  const last = path[path.length - 1];
  if ("index" in last) {
    if (!Array.isArray(parent)) {
      throw new RuleProblem(`${formatPath(path.slice(0, -1))} is a map, not a list`);
    }
    if (last.index >= parent.length) {
      throw new RuleProblem(
        `index ${last.index} is out of range at ${formatPath(path)} (length ${parent.length})`,
      );
    }
    parent.splice(last.index, 1);
  } else if (!Array.isArray(parent)) {
    delete parent[last.key];
  }
}

function applyRule(obj: JsonObject, rule: Rule, secretData: boolean, ctx: TransformContext): void {
  const encode = (v: JsonValue): JsonValue => secretData && typeof v === "string" ? base64(v) : v;
  switch (rule.action.type) {
    case "value":
      setAt(obj, rule.path, encode(rule.action.value));
      return;
    case "template":
      setAt(obj, rule.path, encode(rule.action.template.render(ctx.vars, ctx.budget)));
      return;
    case "delete":
      deleteAt(obj, rule.path);
      return;
    case "merge": {
      const existing = getAt(obj, rule.path);
      if (existing !== undefined && existing !== null && !isMap(existing)) {
        throw new RuleProblem(
          `merge needs a map at ${formatPath(rule.path)}, found ${describeType(existing)}`,
        );
      }
      const merged: JsonObject = { ...(existing ?? {}) };
      for (const [k, v] of Object.entries(rule.action.entries)) merged[k] = encode(structuredClone(v));
      setAt(obj, rule.path, merged);
      return;
    }
  }
}

/**
 * Applies the rules whose namespacePattern matches the target namespace, in order, to a copy of `desired`.
 * A failing rule leaves the object as it was before that rule. A limit stops everything.
 */
export function applyTransform(
  desired: KubeObject,
  spec: TransformSpec,
  ctx: TransformContext,
): TransformOutcome {
  const isSecret = desired.kind === "Secret" && desired.apiVersion === "v1";
  let obj = structuredClone(desired) as JsonObject;
  const failures: RuleFailure[] = spec.invalid.map((e) => ({ ...e }));
  const guard = protectedFingerprint(obj as KubeObject);
  try {
    for (const rule of spec.rules) {
      checkBudget(ctx.budget, 0);
      if (rule.namespacePattern && !globMatch(rule.namespacePattern, ctx.vars.TargetNamespace)) continue;
      const before = structuredClone(obj);
      const first = rule.path[0];
      const secretData = isSecret && "key" in first && first.key === "data";
      try {
        applyRule(obj, rule, secretData, ctx);
        if (protectedFingerprint(obj as KubeObject) !== guard) {
          throw new RuleProblem("it changed a protected field");
        }
      } catch (e) {
        if (e instanceof BudgetExceeded) throw e;
        obj = before;
        const message = errorMessage(e);
        failures.push({
          index: rule.index,
          message: `rule ${rule.index + 1} (${formatPath(rule.path)}): ${message}`,
        });
      }
    }
    checkBudget(ctx.budget, JSON.stringify(obj).length);
  } catch (e) {
    if (!(e instanceof BudgetExceeded)) throw e;
    return { object: desired, failures, stopped: `transformation stopped: ${e.message}` };
  }
  failures.sort((a, b) => a.index - b.index);
  return { object: obj as KubeObject, failures };
}

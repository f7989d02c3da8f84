/**
 * Runs a parsed Go template ({@link parseGoTemplate}) as Go's `text/template` does, over the template's
 * own data only: the six variables, with `Labels` and `Annotations` as `map[string]string`. Every
 * node, command and `range` step is charged to the budget, and the output is measured as it grows, so a
 * template that would loop or grow past a limit is stopped with {@link BudgetExceeded}.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GO_FUNCTIONS, executeGoTemplate } from "./exec.ts";
 * import { parseGoTemplate } from "./parse.ts";
 * import { sizeOnlyBudget } from "../budget.ts";
 * const parsed = parseGoTemplate("{{ range $k, $v := .Labels }}{{ $k }}={{ $v }};{{ end }}", GO_FUNCTIONS);
 * if (!parsed.ok) throw new Error(parsed.error);
 * const out = executeGoTemplate(parsed.nodes, { TargetNamespace: "a", SourceNamespace: "b",
 *   SourceName: "c", TargetName: "c", Labels: { x: "1" }, Annotations: {} }, sizeOnlyBudget(1024));
 * assert.equal(out, "x=1;");
 * ```
 * @module
 */
import { errorMessage } from "../../errors.ts";
import { type Budget, BudgetExceeded, checkBudget } from "../budget.ts";
import { andOr, GO_BUILTINS } from "./builtins.ts";
import type { GoArg, GoCommand, GoControl, GoNode, GoPipe } from "./parse.ts";
import { formatValue, GoStruct, goTypeName, type GoValue, isMap, isTrue, sortedKeys } from "./value.ts";
import { STRING_HELPERS } from "../string_helpers.ts";
import type { TemplateVars } from "../template_vars.ts";

/** Every function name a Go-spelled template may call. */
export const GO_FUNCTIONS: ReadonlySet<string> = new Set([
  ...Object.keys(GO_BUILTINS),
  ...Object.keys(STRING_HELPERS),
  "and",
  "or",
  "default",
]);

/** Thrown for a template that fails while it runs; the message says where. */
export class GoExecError extends Error {}

class Break {}
class Continue {}
const NO_FINAL = Symbol("no final argument");
type Final = GoValue | typeof NO_FINAL;

function stringArg(fn: string, v: GoValue): string {
  if (typeof v === "string") return v;
  if (v === undefined) throw new Error(`${fn}: invalid value; expected string`);
  throw new Error(`${fn}: wrong type for value; expected string; got ${goTypeName(v)}`);
}

function* rangeEntries(value: GoValue): Generator<[GoValue, GoValue]> {
  if (typeof value === "number") { for (let i = 0; i < value; i++) yield [i, i]; }
  else if (Array.isArray(value)) { for (let i = 0; i < value.length; i++) yield [i, value[i]]; }
  else if (isMap(value)) { for (const k of sortedKeys(value)) yield [k, value[k]]; }
}

class State {
  #out: string[] = [];
  #size = 0;
  #vars: { name: string; value: GoValue }[];
  constructor(readonly root: GoStruct, readonly budget: Budget) {
    this.#vars = [{ name: "$", value: root }];
  }

  get output(): string {
    return this.#out.join("");
  }

  write(text: string): void {
    this.#size += text.length;
    checkBudget(this.budget, this.#size);
    this.#out.push(text);
  }

  step(): void {
    checkBudget(this.budget, this.#size);
  }

  mark(): number {
    return this.#vars.length;
  }

  pop(mark: number): void {
    this.#vars.length = mark;
  }

  push(name: string, value: GoValue): void {
    this.#vars.push({ name, value });
  }

  setVar(name: string, value: GoValue): void {
    for (let i = this.#vars.length - 1; i >= 0; i--) {
      if (this.#vars[i].name === name) {
        this.#vars[i].value = value;
        return;
      }
    }
    throw new Error(`undefined variable: ${name}`);
  }

  varValue(name: string): GoValue {
    for (let i = this.#vars.length - 1; i >= 0; i--) {
      if (this.#vars[i].name === name) return this.#vars[i].value;
    }
    throw new Error(`undefined variable: ${name}`);
  }

  walk(dot: GoValue, nodes: readonly GoNode[]): void {
    for (const node of nodes) {
      this.step();
      switch (node.type) {
        case "text":
          this.write(node.text);
          break;
        case "action": {
          const value = this.at(node.pipe.text, () => this.pipeline(dot, node.pipe));
          if (node.pipe.decl.length === 0) this.write(formatValue(value));
          break;
        }
        case "if":
        case "with": {
          const mark = this.mark();
          const value = this.at(node.pipe.text, () => this.pipeline(dot, node.pipe));
          if (isTrue(value)) this.walk(node.type === "with" ? value : dot, node.list);
          else if (node.elseList) this.walk(dot, node.elseList);
          this.pop(mark);
          break;
        }
        case "range":
          this.range(dot, node);
          break;
        case "break":
          throw new Break();
        case "continue":
          throw new Continue();
      }
    }
  }

  range(dot: GoValue, node: GoControl): void {
    const mark = this.mark();
    const value = this.at(node.pipe.text, () => this.pipeline(dot, { ...node.pipe, decl: [] }));
    const decl = node.pipe.decl;
    if (typeof value === "number" && decl.length > 1) {
      throw new GoExecError(`can't use ${value} to iterate over more than one variable`);
    }
    if (
      value !== undefined && value !== null && typeof value !== "number" && !Array.isArray(value) &&
      !isMap(value)
    ) {
      throw new GoExecError(`range can't iterate over ${formatValue(value)}`);
    }
    const inner = this.mark();
    let count = 0;
    // One step at a time (never a list built up front), each charged to the budget.
    for (const [key, elem] of rangeEntries(value)) {
      count++;
      this.step();
      if (decl.length === 1) this.push(decl[0], elem);
      if (decl.length === 2) {
        this.push(decl[0], key);
        this.push(decl[1], elem);
      }
      try {
        this.walk(elem, node.list);
      } catch (e) {
        if (e instanceof Break) break;
        if (!(e instanceof Continue)) throw e;
      } finally {
        this.pop(inner);
      }
    }
    if (count === 0 && node.elseList) this.walk(dot, node.elseList);
    this.pop(mark);
  }

  /** Runs `fn`, naming the action in any error it throws (limits pass through untouched). */
  at<T>(where: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (
        e instanceof BudgetExceeded || e instanceof Break || e instanceof Continue || e instanceof GoExecError
      ) {
        throw e;
      }
      throw new GoExecError(`at ${where}: ${errorMessage(e)}`);
    }
  }

  pipeline(dot: GoValue, pipe: GoPipe): GoValue {
    let value: Final = NO_FINAL;
    for (const cmd of pipe.cmds) value = this.command(dot, cmd, value);
    const result = value === NO_FINAL ? undefined : value;
    for (const name of pipe.decl) {
      if (pipe.assign) this.setVar(name, result);
      else this.push(name, result);
    }
    return result;
  }

  command(dot: GoValue, cmd: GoCommand, final: Final): GoValue {
    this.step();
    const [first, ...rest] = cmd.args;
    if (first.type === "function") return this.call(dot, first.name, rest, final);
    if (rest.length > 0 || final !== NO_FINAL) {
      throw new Error(`can't give argument to non-function ${first.text}`);
    }
    return this.arg(dot, first);
  }

  arg(dot: GoValue, a: GoArg): GoValue {
    switch (a.type) {
      case "literal":
        return a.value;
      case "dot":
        return dot;
      case "field":
        return this.chain(dot, a.chain);
      case "variable":
        return this.chain(this.varValue(a.name), a.chain);
      case "pipe":
        return this.chain(this.pipeline(dot, a.pipe), a.chain);
      case "function":
        return this.call(dot, a.name, [], NO_FINAL);
    }
  }

  chain(receiver: GoValue, names: readonly string[]): GoValue {
    let v = receiver;
    for (const name of names) {
      if (v === undefined) return undefined; // Go: a field of no value is no value
      if (v instanceof GoStruct) {
        if (!Object.hasOwn(v.fields, name)) {
          throw new Error(`can't evaluate field ${name} in type ${v.typeName}`);
        }
        v = v.fields[name];
      } else if (isMap(v)) v = Object.hasOwn(v, name) ? v[name] : undefined;
      else if (v === null) throw new Error(`nil pointer evaluating interface {}.${name}`);
      else throw new Error(`can't evaluate field ${name} in type ${goTypeName(v)}`);
    }
    return v;
  }

  call(dot: GoValue, name: string, argNodes: readonly GoArg[], final: Final): GoValue {
    const n = argNodes.length + (final === NO_FINAL ? 0 : 1);
    const evalAll = () => {
      const args = argNodes.map((a) => this.arg(dot, a));
      if (final !== NO_FINAL) args.push(final);
      return args;
    };
    if (name === "and" || name === "or") {
      if (n === 0) throw new Error(`wrong number of args for ${name}: want at least 1 got 0`);
      // Short-circuit: later operands are not evaluated once the result is known.
      const values: GoValue[] = [];
      for (const a of argNodes) {
        const v = this.arg(dot, a);
        values.push(v);
        if (isTrue(v) === (name === "or")) return v;
      }
      if (final !== NO_FINAL) values.push(final);
      return andOr(name, values);
    }
    const args = evalAll();
    const helper = STRING_HELPERS[name];
    if (helper) {
      if (args.length !== helper.arity) {
        throw new Error(`wrong number of args for ${name}: want ${helper.arity} got ${args.length}`);
      }
      const out = helper.fn(args.map((v) => stringArg(name, v)), this.budget);
      if (typeof out === "string") checkBudget(this.budget, out.length);
      return out;
    }
    if (name === "default") {
      if (args.length !== 2) throw new Error(`wrong number of args for default: want 2 got ${args.length}`);
      const [fallback, value] = args.map((v) => (v === undefined ? null : v));
      return value === null || value === "" ? fallback : value;
    }
    const out = GO_BUILTINS[name](args);
    if (typeof out === "string") checkBudget(this.budget, out.length);
    return out;
  }
}

/** Renders a parsed template; throws {@link GoExecError} on a failure and {@link BudgetExceeded} past a limit. */
export function executeGoTemplate(nodes: readonly GoNode[], data: TemplateVars, budget: Budget): string {
  const root = new GoStruct("TransformContext", {
    TargetNamespace: data.TargetNamespace,
    SourceNamespace: data.SourceNamespace,
    SourceName: data.SourceName,
    TargetName: data.TargetName,
    Labels: { ...data.Labels },
    Annotations: { ...data.Annotations },
  });
  const state = new State(root, budget);
  try {
    state.walk(root, nodes);
  } catch (e) {
    if (e instanceof Break || e instanceof Continue) throw new GoExecError("break or continue outside range");
    throw e;
  }
  return state.output;
}

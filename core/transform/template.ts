/**
 * Transformation templates in either spelling. A template in the earlier implementation's Go spelling
 * (`{{ .TargetNamespace }}`, `{{- if … -}}`, `range`, `$x :=`, pipes) runs on a Go `text/template`
 * evaluator and renders exactly as Go would; one in Handlebars spelling (`{{TargetNamespace}}`,
 * `{{#if …}}`, `{{#each Labels}}`) runs on Handlebars, strict. Both see the same variables and the same
 * helpers, and every helper, block and loop step checks the budget, so a template can neither grow a
 * string past the size limit nor run past the time limit.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { compileTemplate } from "./template.ts";
 * import { sizeOnlyBudget } from "./budget.ts";
 * const t = compileTemplate('{{- if hasPrefix .TargetNamespace "prod-" -}} error {{- else -}} debug {{- end }}');
 * if (!t.ok) throw new Error(t.error);
 * const out = t.template.render({ TargetNamespace: "prod-eu", SourceNamespace: "default", SourceName: "cfg",
 *   TargetName: "cfg", Labels: {}, Annotations: {} }, sizeOnlyBudget(1 << 20));
 * assert.equal(out, "error");
 * ```
 * @module
 */
import { errorMessage } from "../errors.ts";
import Handlebars from "handlebars";
import { type Budget, BudgetExceeded, checkBudget } from "./budget.ts";
import { goTemplateToHandlebars } from "./go_to_handlebars.ts";
import {
  andOr,
  executeGoTemplate,
  GO_BUILTINS,
  GO_FUNCTIONS,
  type GoNode,
  type GoPipe,
  type GoValue,
  parseGoTemplate,
} from "./gotemplate/mod.ts";
import { STRING_HELPERS } from "./string_helpers.ts";
import { TEMPLATE_VARIABLES, type TemplateVars } from "./template_vars.ts";

export { TEMPLATE_VARIABLES, type TemplateVars } from "./template_vars.ts";

/** Which engine runs a template. */
export type TemplateSpelling = "go" | "handlebars";

/** A compiled template. */
export interface Template {
  /** The template as written. */
  source: string;
  /** The spelling it was read in. */
  spelling: TemplateSpelling;
  /** Renders; throws an Error with a clear message on a failure, {@link BudgetExceeded} past a limit. */
  render(vars: TemplateVars, budget: Budget): string;
}

/** The result of {@link compileTemplate}. */
export type CompiledTemplate = { ok: true; template: Template } | { ok: false; error: string };

type HelperOptions = { data?: { budget?: Budget }; name?: string; fn?: unknown; inverse?: unknown };

function budgetOf(options: HelperOptions): Budget | undefined {
  return options?.data?.budget;
}

function str(name: string, value: unknown, position: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new Error(`${name}: the ${position} argument must be a string, not a ${typeof value}`);
}

const POSITIONS = ["first", "second", "third"];

/** Wraps a helper: checks its argument count, and checks the budget before and after it runs. */
function helper(name: string, arity: number | undefined, fn: (args: unknown[], budget?: Budget) => unknown) {
  return function (this: unknown, ...all: unknown[]) {
    const options = all.pop() as HelperOptions;
    if (arity !== undefined && all.length !== arity) {
      throw new Error(`${name} takes ${arity} argument${arity === 1 ? "" : "s"}, got ${all.length}`);
    }
    const budget = budgetOf(options);
    if (budget) checkBudget(budget, 0);
    const result = fn(all, budget);
    if (budget && typeof result === "string") checkBudget(budget, result.length);
    return result;
  };
}

/** Wraps one of Handlebars' block helpers so that every block it renders is charged to the budget. */
function chargedBlock(original: (...args: unknown[]) => unknown) {
  return function (this: unknown, ...all: unknown[]) {
    const options = all[all.length - 1] as HelperOptions;
    const budget = budgetOf(options);
    if (!budget) return original.apply(this, all);
    checkBudget(budget, 0);
    const charge = (f: unknown) =>
      typeof f === "function"
        ? function (this: unknown, ...args: unknown[]) {
          checkBudget(budget, 0);
          const out = f.apply(this, args);
          if (typeof out === "string") checkBudget(budget, out.length);
          return out;
        }
        : f;
    all[all.length - 1] = { ...options, fn: charge(options.fn), inverse: charge(options.inverse) };
    return original.apply(this, all);
  };
}

const ENV = Handlebars.create();
for (const name of Object.keys(ENV.helpers)) ENV.unregisterHelper(name);

/** Handlebars' own block helpers that templates may use. */
const BLOCK_HELPERS = ["if", "unless", "each", "with"];

const HELPERS: Record<string, (...args: unknown[]) => unknown> = {
  default: helper("default", 2, ([fallback, value]) => {
    const v = value === undefined || value === null || value === false ? "" : value;
    return v === "" ? fallback : v;
  }),
  index: helper("index", 2, ([map, key]) => {
    if (map === undefined || map === null) return "";
    if (typeof map !== "object" || Array.isArray(map)) {
      throw new Error("index: the first argument must be a map");
    }
    const k = str("index", key, "second");
    return Object.hasOwn(map, k) ? (map as Record<string, unknown>)[k] : "";
  }),
  and: helper("and", undefined, (args) => andOr("and", args as GoValue[])),
  or: helper("or", undefined, (args) => andOr("or", args as GoValue[])),
};
for (const [name, h] of Object.entries(STRING_HELPERS)) {
  HELPERS[name] = helper(
    name,
    h.arity,
    (args, budget) => h.fn(args.map((v, i) => str(name, v, POSITIONS[i])), budget),
  );
}
for (const name of ["eq", "ne", "lt", "le", "gt", "ge", "not", "len", "print", "printf"]) {
  HELPERS[name] = helper(name, undefined, (args) => GO_BUILTINS[name](args as GoValue[]));
}
for (const [name, fn] of Object.entries(HELPERS)) ENV.registerHelper(name, fn);
for (const name of BLOCK_HELPERS) {
  ENV.registerHelper(name, chargedBlock(Handlebars.helpers[name] as (...args: unknown[]) => unknown));
}

/** The helper names a template may call (Go templates may also use Go's `println`). */
export const TEMPLATE_HELPERS: readonly string[] = Object.keys(HELPERS).sort();

const KNOWN_HELPERS = Object.fromEntries([...TEMPLATE_HELPERS, ...BLOCK_HELPERS].map((h) => [h, true]));

type Node = { type: string; [key: string]: any };

const BLOCK_DATA = new Set(["index", "key", "first", "last"]);

/**
 * Walks the parsed template and names the first construct docs/CONTRACT.md §5 does not allow. `scoped` is
 * true inside `#each` and `#with`, where names are looked up on the new context (strict mode still
 * refuses a missing one when it renders).
 */
function validate(node: Node, helperPosition: boolean, scoped: boolean): string | undefined {
  const all = (nodes: Node[] | undefined, inner = scoped) => {
    for (const child of nodes ?? []) {
      const err = validate(child, false, inner);
      if (err) return err;
    }
    return undefined;
  };
  switch (node.type) {
    case "Program":
      return all(node.body);
    case "ContentStatement":
    case "CommentStatement":
    case "StringLiteral":
    case "NumberLiteral":
    case "BooleanLiteral":
    case "UndefinedLiteral":
    case "NullLiteral":
      return undefined;
    case "MustacheStatement":
    case "SubExpression": {
      if (node.hash?.pairs?.length) return "named arguments (key=value) are not supported";
      const hasParams = (node.params as Node[]).length > 0;
      const isCall = hasParams || node.type === "SubExpression" ||
        (node.path.type === "PathExpression" && TEMPLATE_HELPERS.includes(node.path.original));
      return validate(node.path, isCall, scoped) ?? all(node.params);
    }
    case "BlockStatement": {
      const name = node.path?.original ?? "";
      if (!BLOCK_HELPERS.includes(name)) {
        return `unknown block helper {{#${name}}} (known: ${BLOCK_HELPERS.map((b) => "#" + b).join(", ")})`;
      }
      if (node.hash?.pairs?.length) return "named arguments (key=value) are not supported";
      const inner = scoped || name === "each" || name === "with";
      return all(node.params) ?? validate(node.program, false, inner) ??
        (node.inverse ? validate(node.inverse, false, scoped) : undefined);
    }
    case "PathExpression": {
      if (helperPosition) {
        return TEMPLATE_HELPERS.includes(node.original)
          ? undefined
          : `unknown helper "${node.original}" (known: ${TEMPLATE_HELPERS.join(", ")})`;
      }
      const parts: string[] = node.parts;
      if (node.data) {
        if (scoped && BLOCK_DATA.has(parts[0]) && parts.length === 1) return undefined;
        if (parts[0] !== "root" || parts.length < 2) {
          return `"@${parts.join(".")}" is not a template variable`;
        }
      } else {
        if (scoped) return undefined;
        if (node.depth > 0 || node.original.startsWith("this") || node.original.startsWith(".")) {
          return `"${node.original}" is not a template variable`;
        }
      }
      const path = node.data ? parts.slice(1) : parts;
      const head = path[0];
      if (!TEMPLATE_VARIABLES.includes(head)) {
        return `unknown variable "${head}" (known: ${TEMPLATE_VARIABLES.join(", ")})`;
      }
      const depth = head === "Labels" || head === "Annotations" ? 2 : 1;
      if (path.length > depth) return `"${node.original}" goes deeper than the variable allows`;
      return undefined;
    }
    case "PartialStatement":
    case "PartialBlockStatement":
      return "partials are not supported";
    case "DecoratorBlock":
    case "Decorator":
      return "decorators are not supported";
    default:
      return `"${node.type}" is not supported`;
  }
}

/** Marks only Handlebars has: blocks, comments, partials, `~`, triple braces, `@data`, `this`, `../`. */
const HANDLEBARS_ONLY =
  /\{\{~|~\}\}|\{\{\s*(?:[#^!>&{]|\/(?!\*))|@(?:root|index|key|first|last)\b|\{\{[^}]*(?:\bthis\b|\.\.\/)/;
/** Marks of the Go spelling: `.Field`, `$var`, pipes, trim markers, Go's keywords. */
const LOOKS_GO =
  /\{\{-?\s*(?:\.|\$|(?:if|range|with|end|else|break|continue|template|define|block)\b)|\{\{[^}]*(?:\s\.[A-Za-z]|\||:=)/;

/**
 * Which engine a template is for: Handlebars when it uses anything only Handlebars has; Go when Go's
 * parser accepts it; otherwise Handlebars (bare `{{TargetNamespace}}` is Handlebars spelling).
 */
export function templateSpelling(text: string): TemplateSpelling {
  if (HANDLEBARS_ONLY.test(text)) return "handlebars";
  if (parseGoTemplate(text, GO_FUNCTIONS).ok) return "go";
  if (LOOKS_GO.test(text) && !compileHandlebars(text).ok) return "go";
  return "handlebars";
}

/**
 * Field chains on the template's data (`.X` where dot is still the data, and `$.X` anywhere) checked
 * when the template is compiled, so a misspelt variable is reported before any mirror is rendered.
 */
function checkFields(nodes: readonly GoNode[], dotIsData: boolean): string | undefined {
  const chain = (names: readonly string[], text: string): string | undefined => {
    if (names.length === 0) return undefined;
    if (!TEMPLATE_VARIABLES.includes(names[0])) {
      return `unknown variable "${names[0]}" in ${text} (known: ${TEMPLATE_VARIABLES.join(", ")})`;
    }
    const depth = names[0] === "Labels" || names[0] === "Annotations" ? 2 : 1;
    return names.length > depth ? `"${text}" goes deeper than the variable allows` : undefined;
  };
  const pipe = (p: GoPipe, dataDot: boolean): string | undefined => {
    for (const cmd of p.cmds) {
      for (const a of cmd.args) {
        const err = a.type === "field" && dataDot
          ? chain(a.chain, a.text)
          : a.type === "variable" && a.name === "$"
          ? chain(a.chain, a.text)
          : a.type === "pipe"
          ? pipe(a.pipe, dataDot)
          : undefined;
        if (err) return err;
      }
    }
    return undefined;
  };
  for (const n of nodes) {
    const err = n.type === "action"
      ? pipe(n.pipe, dotIsData)
      : n.type === "if" || n.type === "with" || n.type === "range"
      ? pipe(n.pipe, dotIsData) ?? checkFields(n.list, dotIsData && n.type === "if") ??
        checkFields(n.elseList ?? [], dotIsData)
      : undefined;
    if (err) return err;
  }
  return undefined;
}

function compileGo(text: string): CompiledTemplate {
  const parsed = parseGoTemplate(text, GO_FUNCTIONS);
  if (!parsed.ok) {
    return { ok: false, error: `template syntax error: ${parsed.error} (in ${JSON.stringify(text)})` };
  }
  const problem = checkFields(parsed.nodes, true);
  if (problem) return { ok: false, error: `template ${JSON.stringify(text)}: ${problem}` };
  const nodes = parsed.nodes;
  return {
    ok: true,
    template: {
      source: text,
      spelling: "go",
      render(vars: TemplateVars, budget: Budget): string {
        try {
          return executeGoTemplate(nodes, vars, budget);
        } catch (e) {
          if (e instanceof BudgetExceeded) throw e;
          throw new Error(`template ${JSON.stringify(text)}: ${firstLine(e)}`);
        }
      },
    },
  };
}

function compileHandlebars(text: string): CompiledTemplate {
  // Go-spelled actions inside a Handlebars template ({{.X}} next to {{#if}}) are rewritten first.
  const source = goTemplateToHandlebars(text);
  let ast: Node;
  try {
    ast = Handlebars.parse(source) as unknown as Node;
  } catch (e) {
    return { ok: false, error: `template syntax error: ${firstLine(e)}` };
  }
  const problem = validate(ast, false, false);
  if (problem) return { ok: false, error: `template ${JSON.stringify(text)}: ${problem}` };
  const options = { strict: true, noEscape: true, knownHelpers: KNOWN_HELPERS, knownHelpersOnly: true };
  try {
    // Handlebars compiles lazily; precompiling surfaces compile errors here rather than per mirror.
    ENV.precompile(source, options);
  } catch (e) {
    return { ok: false, error: `template ${JSON.stringify(text)}: ${firstLine(e)}` };
  }
  const fn = ENV.compile(source, options);
  return {
    ok: true,
    template: {
      source: text,
      spelling: "handlebars",
      render(vars: TemplateVars, budget: Budget): string {
        try {
          const out = fn(vars, { data: { budget }, allowProtoPropertiesByDefault: false });
          checkBudget(budget, out.length);
          return out;
        } catch (e) {
          if (e instanceof BudgetExceeded) throw e;
          throw new Error(`template ${JSON.stringify(text)}: ${firstLine(e)}`);
        }
      },
    },
  };
}

/**
 * Compiles a template in either spelling ({@link templateSpelling}); the error says what is wrong and
 * where. The result renders with {@link Template.render}.
 */
export function compileTemplate(text: string): CompiledTemplate {
  return templateSpelling(text) === "go" ? compileGo(text) : compileHandlebars(text);
}

function firstLine(e: unknown): string {
  const message = errorMessage(e);
  return message.split("\n")[0].replace(/ - \d+:\d+$/, "");
}

/**
 * Templates in the Handlebars spelling (`{{TargetNamespace}}`, `{{#if …}}`, `{{#each Labels}}`), strict:
 * an environment of its own with only our helpers and Handlebars' four block helpers, every helper and
 * block charged to the budget, and the template's tree checked before it is compiled so that an unknown
 * variable or helper is reported at once. Go-spelled actions inside are rewritten first.
 *
 * @example
 * ```ts
 * import { compileHandlebars } from "./handlebars.ts";
 * import { sizeOnlyBudget } from "./budget.ts";
 * import assert from "node:assert/strict";
 * const t = compileHandlebars("{{#if (hasPrefix TargetNamespace \"prod-\")}}error{{else}}debug{{/if}}");
 * if (!t.ok) throw new Error(t.error);
 * const vars = { TargetNamespace: "prod-eu", SourceNamespace: "default", SourceName: "cfg", TargetName: "cfg",
 *   Labels: {}, Annotations: {} };
 * assert.equal(t.template.render(vars, sizeOnlyBudget(1024)), "error");
 * assert.ok(!compileHandlebars("{{nope}}").ok);
 * ```
 * @module
 */
import Handlebars from "handlebars";
import { type Budget, BudgetExceeded, checkBudget } from "./budget.ts";
import { type CompiledTemplate, templateErrorLine as firstLine } from "./compiled_template.ts";
import { goTemplateToHandlebars } from "./go_to_handlebars.ts";
import { andOr, GO_BUILTINS, type GoValue } from "./gotemplate/mod.ts";
import { STRING_HELPERS } from "./string_helpers.ts";
import { TEMPLATE_VARIABLES, type TemplateVars } from "./template_vars.ts";

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

/** Compiles a template in the Handlebars spelling. */
export function compileHandlebars(text: string): CompiledTemplate {
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

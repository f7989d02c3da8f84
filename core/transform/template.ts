/**
 * Strict Handlebars templates for transformation rules, with the contract's helpers and variables.
 * Go-template spelling is rewritten first, so both spellings render the same. Block helpers, partials
 * and unknown names are refused when the template is compiled; every helper checks the budget, so a
 * template can neither grow a string past the size limit nor run past the time limit.
 *
 * @example
 * ```ts
 * import { compileTemplate } from "./template.ts";
 * import { sizeOnlyBudget } from "./budget.ts";
 * const t = compileTemplate("https://{{.TargetNamespace}}.api.example.com");
 * if (t.ok) t.template.render({ TargetNamespace: "app1", SourceNamespace: "default", SourceName: "cfg",
 *   TargetName: "cfg", Labels: {}, Annotations: {} }, sizeOnlyBudget(1 << 20));
 * // "https://app1.api.example.com"
 * ```
 * @module
 */
import Handlebars from "handlebars";
import { type Budget, BudgetExceeded, checkBudget } from "./budget.ts";
import { goTemplateToHandlebars } from "./go_template.ts";

/** The variables a template may use. */
export interface TemplateVars {
  TargetNamespace: string;
  SourceNamespace: string;
  SourceName: string;
  TargetName: string;
  Labels: Record<string, string>;
  Annotations: Record<string, string>;
}

/** The variable names, in the order the contract lists them. */
export const TEMPLATE_VARIABLES: readonly string[] = [
  "TargetNamespace",
  "SourceNamespace",
  "SourceName",
  "TargetName",
  "Labels",
  "Annotations",
];

/** A compiled template. */
export interface Template {
  /** The template as written. */
  source: string;
  /** Renders; throws an Error with a clear message on a failure, {@link BudgetExceeded} past a limit. */
  render(vars: TemplateVars, budget: Budget): string;
}

/** The result of {@link compileTemplate}. */
export type CompiledTemplate = { ok: true; template: Template } | { ok: false; error: string };

type HelperOptions = { data?: { budget?: Budget }; name?: string };

function budgetOf(options: HelperOptions): Budget | undefined {
  return options?.data?.budget;
}

function str(name: string, value: unknown, position: string): string {
  if (value === undefined || value === null) return "";
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new Error(`${name}: the ${position} argument must be a string, not a ${typeof value}`);
}

/** Wraps a helper: checks its argument count, and checks the budget before and after it runs. */
function helper(name: string, arity: number, fn: (...args: unknown[]) => unknown) {
  return function (this: unknown, ...all: unknown[]) {
    const options = all.pop() as HelperOptions;
    if (all.length !== arity) {
      throw new Error(`${name} takes ${arity} argument${arity === 1 ? "" : "s"}, got ${all.length}`);
    }
    const budget = budgetOf(options);
    if (budget) checkBudget(budget, 0);
    const result = fn(...all);
    if (budget && typeof result === "string") checkBudget(budget, result.length);
    return result;
  };
}

function replaceAll(s: string, old: string, replacement: string, budget: Budget | undefined): string {
  if (old === "") {
    // Go inserts the replacement around every character; bound the size before building it.
    const size = s.length + (s.length + 1) * replacement.length;
    if (budget) checkBudget(budget, size);
    return replacement + [...s].map((ch) => ch + replacement).join("");
  }
  const count = s.split(old).length - 1;
  const size = s.length + count * (replacement.length - old.length);
  if (budget) checkBudget(budget, size);
  return s.split(old).join(replacement);
}

const ENV = Handlebars.create();
for (const name of Object.keys(ENV.helpers)) ENV.unregisterHelper(name);

const HELPERS: Record<string, (...args: unknown[]) => unknown> = {
  upper: helper("upper", 1, (s) => str("upper", s, "first").toUpperCase()),
  lower: helper("lower", 1, (s) => str("lower", s, "first").toLowerCase()),
  trimPrefix: helper("trimPrefix", 2, (s, p) => {
    const text = str("trimPrefix", s, "first");
    const prefix = str("trimPrefix", p, "second");
    return prefix && text.startsWith(prefix) ? text.slice(prefix.length) : text;
  }),
  trimSuffix: helper("trimSuffix", 2, (s, p) => {
    const text = str("trimSuffix", s, "first");
    const suffix = str("trimSuffix", p, "second");
    return suffix && text.endsWith(suffix) ? text.slice(0, text.length - suffix.length) : text;
  }),
  hasPrefix: helper(
    "hasPrefix",
    2,
    (s, p) => str("hasPrefix", s, "first").startsWith(str("hasPrefix", p, "second")),
  ),
  hasSuffix: helper(
    "hasSuffix",
    2,
    (s, p) => str("hasSuffix", s, "first").endsWith(str("hasSuffix", p, "second")),
  ),
  default: helper("default", 2, (fallback, value) => {
    const v = value === undefined || value === null || value === false ? "" : value;
    return v === "" ? fallback : v;
  }),
  index: helper("index", 2, (map, key) => {
    if (map === undefined || map === null) return "";
    if (typeof map !== "object" || Array.isArray(map)) {
      throw new Error("index: the first argument must be a map");
    }
    const k = str("index", key, "second");
    return Object.hasOwn(map, k) ? (map as Record<string, unknown>)[k] : "";
  }),
};
// replace needs the budget before it builds its result, so it is wrapped by hand.
HELPERS.replace = function (...all: unknown[]) {
  const options = all.pop() as HelperOptions;
  if (all.length !== 3) throw new Error(`replace takes 3 arguments, got ${all.length}`);
  const budget = budgetOf(options);
  if (budget) checkBudget(budget, 0);
  const [s, old, replacement] = all.map((v, i) => str("replace", v, ["first", "second", "third"][i]));
  return replaceAll(s, old, replacement, budget);
};
for (const [name, fn] of Object.entries(HELPERS)) ENV.registerHelper(name, fn);

/** The helper names a template may call. */
export const TEMPLATE_HELPERS: readonly string[] = Object.keys(HELPERS).sort();

const KNOWN_HELPERS = Object.fromEntries(TEMPLATE_HELPERS.map((h) => [h, true]));

type Node = { type: string; [key: string]: any };

/** Walks the parsed template and names the first construct the contract does not allow. */
function validate(node: Node, helperPosition: boolean): string | undefined {
  switch (node.type) {
    case "Program":
      for (const child of node.body as Node[]) {
        const err = validate(child, false);
        if (err) return err;
      }
      return undefined;
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
      const hasParams = (node.params as Node[]).length > 0 || Boolean(node.hash?.pairs?.length);
      if (node.hash?.pairs?.length) return "named arguments (key=value) are not supported";
      const isCall = hasParams || node.type === "SubExpression" ||
        (node.path.type === "PathExpression" && TEMPLATE_HELPERS.includes(node.path.original));
      const err = validate(node.path, isCall);
      if (err) return err;
      for (const p of node.params as Node[]) {
        const e = validate(p, false);
        if (e) return e;
      }
      return undefined;
    }
    case "PathExpression": {
      if (helperPosition) {
        return TEMPLATE_HELPERS.includes(node.original)
          ? undefined
          : `unknown helper "${node.original}" (known: ${TEMPLATE_HELPERS.join(", ")})`;
      }
      if (node.data) return `"@${node.parts.join(".")}" is not a template variable`;
      if (node.depth > 0 || node.original.startsWith("this") || node.original.startsWith(".")) {
        return `"${node.original}" is not a template variable`;
      }
      const head = node.parts[0];
      if (!TEMPLATE_VARIABLES.includes(head)) {
        return `unknown variable "${head}" (known: ${TEMPLATE_VARIABLES.join(", ")})`;
      }
      const depth = head === "Labels" || head === "Annotations" ? 2 : 1;
      if (node.parts.length > depth) return `"${node.original}" goes deeper than the variable allows`;
      return undefined;
    }
    case "BlockStatement":
      return `block helpers such as {{#${node.path?.original ?? ""}}} are not supported`;
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

/**
 * Compiles a template in either spelling; the error says what is wrong and where.
 * The result renders with {@link Template.render}.
 */
export function compileTemplate(text: string): CompiledTemplate {
  const source = goTemplateToHandlebars(text);
  let ast: Node;
  try {
    ast = Handlebars.parse(source) as unknown as Node;
  } catch (e) {
    return { ok: false, error: `template syntax error: ${firstLine(e)}` };
  }
  const problem = validate(ast, false);
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

function firstLine(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.split("\n")[0].replace(/ - \d+:\d+$/, "");
}

/**
 * Go's `text/template` built-in functions that people use in transformation templates — `eq ne lt le
 * gt ge not len index print printf println` — with Go's semantics and Go's error texts. `and` and `or`
 * short-circuit, so the evaluator runs them itself ({@link andOr} decides the result). Both template
 * spellings call these, so a comparison means the same in each.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { GO_BUILTINS } from "./builtins.ts";
 * assert.deepEqual(GO_BUILTINS.printf(["%s-%03d", "app", 7]), "app-007");
 * assert.equal(GO_BUILTINS.eq(["prod", "dev", "prod"]), true);
 * ```
 * @module
 */
import {
  byteLength,
  formatFloat,
  formatValue,
  goExponent,
  GoFloat,
  GoStruct,
  goTypeName,
  type GoValue,
  isMap,
  isTrue,
} from "./value.ts";

type Kind = "bool" | "int" | "float" | "string" | "invalid" | "other";

function kindOf(v: GoValue): Kind {
  if (v === undefined) return "invalid";
  if (typeof v === "boolean") return "bool";
  if (typeof v === "number") return "int";
  if (typeof v === "string") return "string";
  if (v instanceof GoFloat) return "float";
  return "other";
}

const BAD_COMPARISON = "incompatible types for comparison";
const BAD_COMPARISON_TYPE = "invalid type for comparison";

function scalar(v: GoValue): string | number | boolean {
  return v instanceof GoFloat ? v.value : v as string | number | boolean;
}

function equal(a: GoValue, b: GoValue): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (ka !== kb) {
    if (a !== undefined && b !== undefined) throw new Error(`eq: ${BAD_COMPARISON}`);
    return false;
  }
  if (ka === "other") {
    if (a === null || b === null) return a === b;
    throw new Error(`eq: non-comparable type ${goTypeName(a)}`);
  }
  return ka === "invalid" || scalar(a) === scalar(b);
}

function less(name: string, a: GoValue, b: GoValue): boolean {
  const ka = kindOf(a);
  const kb = kindOf(b);
  if (
    ka === "bool" || ka === "invalid" || ka === "other" || kb === "bool" || kb === "invalid" || kb === "other"
  ) {
    throw new Error(`${name}: ${BAD_COMPARISON_TYPE}`);
  }
  if (ka !== kb) throw new Error(`${name}: ${BAD_COMPARISON}`);
  return scalar(a) < scalar(b);
}

function arity(name: string, args: readonly GoValue[], n: number): void {
  if (args.length !== n) throw new Error(`wrong number of args for ${name}: want ${n} got ${args.length}`);
}

/** Go's `fmt.Sprint`: a space between operands when neither side is a string. */
function sprint(args: readonly GoValue[]): string {
  let out = "";
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== "string" && typeof args[i - 1] !== "string") out += " ";
    out += formatValue(a ?? null, false);
  });
  return out;
}

function quote(s: string): string {
  return JSON.stringify(s).replace(/\\u00([0-9a-f]{2})/g, "\\x$1");
}

function pad(text: string, width: number | undefined, flags: string, numeric: boolean): string {
  if (width === undefined || text.length >= width) return text;
  if (flags.includes("-")) return text + " ".repeat(width - text.length);
  if (flags.includes("0") && numeric) {
    const sign = /^[+-]/.test(text) ? text[0] : "";
    return sign + "0".repeat(width - text.length) + text.slice(sign.length);
  }
  return " ".repeat(width - text.length) + text;
}

function bad(verb: string, v: GoValue): string {
  return v === null || v === undefined
    ? `%!${verb}(<nil>)`
    : `%!${verb}(${goTypeName(v)}=${formatValue(v, false)})`;
}

function formatVerb(verb: string, v: GoValue, flags: string, prec: number | undefined): string {
  const plus = (
    n: number,
    s: string,
  ) => (flags.includes("+") && n >= 0 ? "+" + s : flags.includes(" ") && n >= 0 ? " " + s : s);
  switch (verb) {
    case "v":
      return formatValue(v ?? null, false);
    case "s":
      if (typeof v === "string") return prec === undefined ? v : [...v].slice(0, prec).join("");
      if (isMap(v) || Array.isArray(v) || v instanceof GoStruct) return formatValue(v, false);
      return bad(verb, v);
    case "q":
      if (typeof v === "string") return quote(v);
      if (typeof v === "number") return `'${String.fromCodePoint(v)}'`;
      return bad(verb, v);
    case "d":
      return typeof v === "number" ? plus(v, String(v)) : bad(verb, v);
    case "b":
    case "o":
    case "x":
    case "X": {
      const base = { b: 2, o: 8, x: 16, X: 16 }[verb];
      let text: string;
      if (typeof v === "number") text = v.toString(base);
      else if (typeof v === "string" && (verb === "x" || verb === "X")) {
        text = [...new TextEncoder().encode(v)].map((b) => b.toString(16).padStart(2, "0")).join("");
      } else return bad(verb, v);
      return verb === "X" ? text.toUpperCase() : text;
    }
    case "c":
      return typeof v === "number" ? String.fromCodePoint(v) : bad(verb, v);
    case "t":
      return typeof v === "boolean" ? String(v) : bad(verb, v);
    case "f":
    case "F":
    case "e":
    case "E":
    case "g":
    case "G": {
      if (!(v instanceof GoFloat)) return bad(verb, v);
      const f = v.value;
      let text: string;
      if (verb === "f" || verb === "F") text = f.toFixed(prec ?? 6);
      else if (verb === "e" || verb === "E") text = goExponent(f.toExponential(prec ?? 6));
      else text = prec === undefined ? formatFloat(f) : goExponent(f.toPrecision(prec));
      return plus(f, /[EG]/.test(verb) ? text.toUpperCase() : text);
    }
    default:
      return `%!${verb}(${goTypeName(v)}=${formatValue(v, false)})`;
  }
}

/** Go's `fmt.Sprintf` for the verbs templates use: `%v %s %q %d %b %o %x %X %c %t %f %e %g %%`. */
export function sprintf(format: string, args: readonly GoValue[]): string {
  let out = "";
  let next = 0;
  const re = /%([-+# 0]*)(\d+)?(?:\.(\d+))?([a-zA-Z%])/y;
  for (let i = 0; i < format.length;) {
    const at = format.indexOf("%", i);
    if (at < 0) {
      out += format.slice(i);
      break;
    }
    out += format.slice(i, at);
    re.lastIndex = at;
    const m = re.exec(format);
    if (!m) {
      out += "%!(NOVERB)";
      break;
    }
    i = re.lastIndex;
    const [, flags, width, precision, verb] = m;
    if (verb === "%") {
      out += "%";
      continue;
    }
    if (next >= args.length) {
      out += `%!${verb}(MISSING)`;
      continue;
    }
    const v = args[next++];
    const numeric = typeof v === "number" || v instanceof GoFloat;
    const text = formatVerb(verb, v, flags, precision === undefined ? undefined : Number(precision));
    out += pad(text, width === undefined ? undefined : Number(width), flags, numeric);
  }
  if (next < args.length) {
    out += `%!(EXTRA ${
      args.slice(next).map((a) => `${goTypeName(a)}=${formatValue(a ?? null, false)}`).join(", ")
    })`;
  }
  return out;
}

/** `and` / `or`: the first operand that decides the result, else the last (Go's short-circuit rule). */
export function andOr(name: "and" | "or", values: readonly GoValue[]): GoValue {
  for (const v of values.slice(0, -1)) if (isTrue(v) === (name === "or")) return v;
  return values[values.length - 1];
}

/** Go's built-in functions, each taking its evaluated arguments. */
export const GO_BUILTINS: Readonly<Record<string, (args: GoValue[]) => GoValue>> = {
  eq(args) {
    if (args.length < 2) throw new Error("eq: missing argument for comparison");
    return args.slice(1).some((b) => equal(args[0], b));
  },
  ne(args) {
    arity("ne", args, 2);
    return !equal(args[0], args[1]);
  },
  lt(args) {
    arity("lt", args, 2);
    return less("lt", args[0], args[1]);
  },
  le(args) {
    arity("le", args, 2);
    return less("le", args[0], args[1]) || equal(args[0], args[1]);
  },
  gt(args) {
    arity("gt", args, 2);
    return !(less("gt", args[0], args[1]) || equal(args[0], args[1]));
  },
  ge(args) {
    arity("ge", args, 2);
    return !less("ge", args[0], args[1]);
  },
  not(args) {
    arity("not", args, 1);
    return !isTrue(args[0]);
  },
  len(args) {
    arity("len", args, 1);
    const v = args[0];
    if (typeof v === "string") return byteLength(v);
    if (Array.isArray(v)) return v.length;
    if (isMap(v)) return Object.keys(v).length;
    throw new Error(`len of ${v === undefined || v === null ? "nil pointer" : `type ${goTypeName(v)}`}`);
  },
  index(args) {
    if (args.length < 1) throw new Error("wrong number of args for index: want at least 1 got 0");
    let item = args[0];
    for (const key of args.slice(1)) {
      if (item === undefined || item === null) throw new Error("index of untyped nil");
      if (isMap(item)) {
        if (typeof key !== "string") throw new Error(`value has type ${goTypeName(key)}; should be string`);
        item = Object.hasOwn(item, key) ? item[key] : "";
      } else if (Array.isArray(item)) {
        if (typeof key !== "number") throw new Error(`cannot index slice/array with type ${goTypeName(key)}`);
        if (key < 0 || key >= item.length) throw new Error(`index out of range: ${key}`);
        item = item[key];
      } else throw new Error(`can't index item of type ${goTypeName(item)}`);
    }
    return item;
  },
  print: (args) => sprint(args),
  println: (args) => args.map((a) => formatValue(a ?? null, false)).join(" ") + "\n",
  printf(args) {
    if (typeof args[0] !== "string") {
      throw new Error(`wrong type for value; expected string; got ${goTypeName(args[0])}`);
    }
    return sprintf(args[0], args.slice(1));
  },
};

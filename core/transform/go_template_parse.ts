/**
 * Parses the earlier implementation's templates, Go's `text/template` language, into a tree: text,
 * actions, `if`/`else if`/`else`, `with`/`else with`, `range` (with `$i, $v :=`, `else`, `break`,
 * `continue`), variables (`$x := …`, `$x = …`, `$`), pipelines, parentheses, comments and whitespace
 * trimming (`{{- ` and ` -}}`). Names are checked as Go checks them at parse time: an unknown function
 * or an undeclared variable is an error here, before any mirror is rendered.
 *
 * @example
 * ```ts
 * import { parseGoTemplate } from "./go_template_parse.ts";
 * const r = parseGoTemplate('{{ if hasPrefix .TargetNamespace "prod-" }}error{{ else }}debug{{ end }}',
 *   new Set(["hasPrefix"]));
 * // r.ok === true; r.nodes[0].type === "if"
 * ```
 * @module
 */
import { GoFloat, type GoValue } from "./go_value.ts";

/** One operand of a command. */
export type GoArg =
  | { type: "field"; chain: string[]; text: string }
  | { type: "dot"; text: string }
  | { type: "variable"; name: string; chain: string[]; text: string }
  | { type: "function"; name: string; text: string }
  | { type: "literal"; value: GoValue; text: string }
  | { type: "pipe"; pipe: GoPipe; chain: string[]; text: string };

/** A command: a function call or a single operand. */
export interface GoCommand {
  args: GoArg[];
}

/** A pipeline, with the variables it declares (`:=`) or assigns (`=`). */
export interface GoPipe {
  decl: string[];
  assign: boolean;
  cmds: GoCommand[];
  text: string;
}

/** `if`, `with` or `range`, with its body and its `else` branch. */
export interface GoControl {
  type: "if" | "with" | "range";
  pipe: GoPipe;
  list: GoNode[];
  elseList?: GoNode[];
}

/** A node of the parsed template. */
export type GoNode =
  | { type: "text"; text: string }
  | { type: "action"; pipe: GoPipe }
  | GoControl
  | { type: "break" | "continue" };

/** The result of {@link parseGoTemplate}. */
export type ParsedGoTemplate = { ok: true; nodes: GoNode[] } | { ok: false; error: string };

type Token =
  | { t: "ident" | "field" | "var"; v: string }
  | { t: "dot" | "lparen" | "rparen" | "pipe" | "declare" | "assign" | "comma" | "space" }
  | { t: "literal"; v: GoValue; text: string };

type Item = { kind: "text"; text: string } | { kind: "action"; tokens: Token[]; text: string };

class ParseError extends Error {}

const KEYWORDS = new Set([
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

function fail(message: string): never {
  throw new ParseError(message);
}

/** Splits the template into text and the tokens of each action, applying the trim markers. */
function lex(src: string): Item[] {
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

/** Parses a template; `functions` are the names that may be called. */
export function parseGoTemplate(src: string, functions: ReadonlySet<string>): ParsedGoTemplate {
  try {
    return { ok: true, nodes: new Parser(lex(src), functions).template() };
  } catch (e) {
    if (e instanceof ParseError) return { ok: false, error: e.message };
    throw e;
  }
}

type Stop = { kind: "end" } | { kind: "else"; tokens: Token[] } | { kind: "eof" };

class Parser {
  #at = 0;
  #vars: string[] = ["$"];
  #rangeDepth = 0;
  constructor(readonly items: Item[], readonly functions: ReadonlySet<string>) {}

  template(): GoNode[] {
    const [nodes, stop] = this.list();
    if (stop.kind === "end") fail("unexpected {{end}}");
    if (stop.kind === "else") fail("unexpected {{else}}");
    return nodes;
  }

  list(): [GoNode[], Stop] {
    const nodes: GoNode[] = [];
    while (this.#at < this.items.length) {
      const item = this.items[this.#at++];
      if (item.kind === "text") {
        nodes.push({ type: "text", text: item.text });
        continue;
      }
      const tokens = item.tokens.filter((t, i) => !(t.t === "space" && i === 0));
      const head = tokens[0];
      if (!head) fail("missing value for command");
      if (head.t === "ident" && KEYWORDS.has(head.v)) {
        const rest = tokens.slice(1);
        switch (head.v) {
          case "end":
            if (rest.some((t) => t.t !== "space")) fail("unexpected tokens after end");
            return [nodes, { kind: "end" }];
          case "else":
            return [nodes, { kind: "else", tokens: rest }];
          case "if":
          case "with":
          case "range":
            nodes.push(this.control(head.v, rest));
            continue;
          case "break":
          case "continue":
            if (this.#rangeDepth === 0) fail(`{{${head.v}}} outside {{range}}`);
            nodes.push({ type: head.v });
            continue;
          default:
            fail(`{{${head.v}}} is not supported in transformation templates`);
        }
      }
      nodes.push({ type: "action", pipe: this.pipeline(tokens, "command", item.text) });
    }
    return [nodes, { kind: "eof" }];
  }

  control(kind: "if" | "with" | "range", tokens: Token[]): GoNode {
    const mark = this.#vars.length;
    const pipe = this.pipeline(tokens, kind, `{{${kind} …}}`);
    // The pipeline's own variables are seen in both branches; the body's end with it.
    const afterPipe = this.#vars.length;
    if (kind === "range") this.#rangeDepth++;
    const [list, stop] = this.list();
    if (kind === "range") this.#rangeDepth--;
    let elseList: GoNode[] | undefined;
    if (stop.kind === "eof") fail(`unexpected EOF: {{${kind}}} has no {{end}}`);
    if (stop.kind === "else") {
      const rest = stop.tokens;
      const first = rest.find((t) => t.t !== "space");
      if (first && first.t === "ident" && (first.v === "if" || first.v === "with")) {
        if (first.v !== kind) fail(`{{else ${first.v}}} inside {{${kind}}}`);
        // `{{else if …}}` is `{{else}}{{if …}}…{{end}}` sharing the outer {{end}}.
        this.#vars.length = afterPipe;
        elseList = [this.control(kind, rest.slice(rest.indexOf(first) + 1))];
      } else {
        if (first) fail("unexpected tokens after else");
        this.#vars.length = afterPipe;
        const [more, end] = this.list();
        if (end.kind !== "end") fail(`expected {{end}} after {{else}} of {{${kind}}}`);
        elseList = more;
      }
    }
    this.#vars.length = mark;
    return { type: kind, pipe, list, elseList };
  }

  pipeline(all: Token[], context: string, text: string): GoPipe {
    let tokens = all;
    const decl: string[] = [];
    let assign = false;
    const sig = tokens.filter((t) => t.t !== "space");
    // `$x :=`, `$x =`, or (range only) `$i, $v :=`.
    const declIndex = sig.findIndex((t) => t.t === "declare" || t.t === "assign");
    if (declIndex > 0 && sig.slice(0, declIndex).every((t) => t.t === "var" || t.t === "comma")) {
      const names = sig.slice(0, declIndex).filter((t) => t.t === "var").map((t) => (t as { v: string }).v);
      const commas = sig.slice(0, declIndex).filter((t) => t.t === "comma").length;
      if (names.length !== commas + 1 || names.length > 2) fail("too many declarations in pipeline");
      if (names.length === 2 && context !== "range") fail("too many declarations in command");
      assign = sig[declIndex].t === "assign";
      decl.push(...names);
      let cut = 0;
      for (let seen = 0; cut < tokens.length; cut++) {
        if (tokens[cut].t !== "space" && seen++ === declIndex) break;
      }
      tokens = tokens.slice(cut + 1);
    }
    const cmds = this.commands(tokens);
    if (cmds.length === 0) fail(`missing value for ${context}`);
    for (const name of decl) {
      if (assign) this.#lookupVar(name);
      else this.#vars.push(name);
    }
    return { decl, assign, cmds, text };
  }

  #lookupVar(name: string): void {
    if (!this.#vars.includes(name)) fail(`undefined variable "${name}"`);
  }

  commands(tokens: Token[]): GoCommand[] {
    const cmds: GoCommand[] = [];
    let args: GoArg[] = [];
    let i = 0;
    const end = () => {
      if (args.length === 0) fail("missing command in pipeline");
      cmds.push({ args });
      args = [];
    };
    while (i < tokens.length) {
      const t = tokens[i];
      if (t.t === "space") {
        i++;
        continue;
      }
      if (t.t === "pipe") {
        end();
        i++;
        continue;
      }
      const [arg, next] = this.operand(tokens, i);
      if (args.length > 0 && tokens[i - 1]?.t !== "space" && tokens[i - 1]?.t !== "lparen") {
        fail(`missing space before ${arg.text}`);
      }
      args.push(arg);
      i = next;
    }
    if (args.length > 0) end();
    else if (cmds.length > 0) fail("missing command after |");
    for (const c of cmds) {
      if (c.args[0].type === "literal" && c.args[0].value === null) fail("nil is not a command");
    }
    return cmds;
  }

  operand(tokens: Token[], i: number): [GoArg, number] {
    const t = tokens[i];
    let arg: GoArg;
    let next = i + 1;
    switch (t.t) {
      case "field": {
        const chain = [t.v];
        while (tokens[next]?.t === "field") chain.push((tokens[next++] as { v: string }).v);
        return [{ type: "field", chain, text: "." + chain.join(".") }, next];
      }
      case "dot":
        arg = { type: "dot", text: "." };
        break;
      case "var":
        this.#lookupVar(t.v);
        arg = { type: "variable", name: t.v, chain: [], text: t.v };
        break;
      case "ident":
        if (KEYWORDS.has(t.v)) fail(`unexpected keyword ${t.v} in operand`);
        if (!this.functions.has(t.v)) {
          fail(
            `function "${t.v}" not defined: unknown helper "${t.v}" (known: ${
              [...this.functions].sort().join(", ")
            })`,
          );
        }
        return [{ type: "function", name: t.v, text: t.v }, next];
      case "literal":
        return [{ type: "literal", value: t.v, text: t.text }, next];
      case "lparen": {
        let depth = 1;
        let j = next;
        for (; j < tokens.length && depth > 0; j++) {
          if (tokens[j].t === "lparen") depth++;
          if (tokens[j].t === "rparen") depth--;
        }
        if (depth > 0) fail("unclosed left paren");
        const inner = tokens.slice(next, j - 1);
        const cmds = this.commands(inner);
        if (cmds.length === 0) fail("missing value in parentheses");
        arg = { type: "pipe", pipe: { decl: [], assign: false, cmds, text: "(…)" }, chain: [], text: "(…)" };
        next = j;
        break;
      }
      case "rparen":
        fail("unexpected right paren");
        break;
      default:
        fail(`unexpected ${t.t === "declare" ? ":=" : t.t === "assign" ? "=" : t.t} in operand`);
    }
    while (tokens[next]?.t === "field") {
      if (arg.type === "dot") fail('unexpected . after term "."');
      const name = (tokens[next++] as { v: string }).v;
      (arg as { chain: string[] }).chain.push(name);
      arg.text += "." + name;
    }
    return [arg, next];
  }
}

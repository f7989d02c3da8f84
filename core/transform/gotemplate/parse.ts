/**
 * Parses the earlier implementation's templates, Go's `text/template` language, into a tree: text,
 * actions, `if`/`else if`/`else`, `with`/`else with`, `range` (with `$i, $v :=`, `else`, `break`,
 * `continue`), variables (`$x := …`, `$x = …`, `$`), pipelines, parentheses, comments and whitespace
 * trimming (`{{- ` and ` -}}`). Names are checked as Go checks them at parse time: an unknown function
 * or an undeclared variable is an error here, before any mirror is rendered.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseGoTemplate } from "./parse.ts";
 * const r = parseGoTemplate('{{ if hasPrefix .TargetNamespace "prod-" }}error{{ else }}debug{{ end }}',
 *   new Set(["hasPrefix"]));
 * assert.ok(r.ok);
 * assert.equal(r.nodes[0].type, "if");
 * ```
 * @module
 */
import { fail, type Item, KEYWORDS, lex, ParseError, type Token } from "./lex.ts";
import type { GoValue } from "./value.ts";

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

/**
 * Go's `text/template`, evaluated in TypeScript: the lexer, the parser, the executor with Go's built-ins,
 * and Go's value semantics (truth, comparison, printing). Transform templates written in the earlier
 * implementation's Go spelling with control flow render through this engine (`../template.ts` decides
 * which spelling a template uses).
 *
 * @example
 * ```ts
 * import { executeGoTemplate, GO_FUNCTIONS, parseGoTemplate } from "./mod.ts";
 * import assert from "node:assert/strict";
 * const parsed = parseGoTemplate('{{if eq .TargetNamespace "prod"}}error{{else}}debug{{end}}', GO_FUNCTIONS);
 * if (!parsed.ok) throw new Error(parsed.error);
 * const vars = { TargetNamespace: "prod", SourceNamespace: "default", SourceName: "cfg", TargetName: "cfg",
 *   Labels: {}, Annotations: {} };
 * const budget = { now: () => 0, deadline: 100, maxBytes: 1024 };
 * assert.equal(executeGoTemplate(parsed.nodes, vars, budget), "error");
 * ```
 * @module
 */
export { andOr, GO_BUILTINS, sprintf } from "./builtins.ts";
export { executeGoTemplate, GO_FUNCTIONS, GoExecError } from "./exec.ts";
export { ParseError } from "./lex.ts";
export {
  type GoArg,
  type GoCommand,
  type GoControl,
  type GoNode,
  type GoPipe,
  type ParsedGoTemplate,
  parseGoTemplate,
} from "./parse.ts";
export type { GoValue } from "./value.ts";

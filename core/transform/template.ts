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
import type { CompiledTemplate, TemplateSpelling } from "./compiled_template.ts";
import { compileGo } from "./go_spelling.ts";
import { GO_FUNCTIONS, parseGoTemplate } from "./gotemplate/mod.ts";
import { compileHandlebars } from "./handlebars.ts";

export type { CompiledTemplate, Template, TemplateSpelling } from "./compiled_template.ts";
export { TEMPLATE_HELPERS } from "./handlebars.ts";
export { TEMPLATE_VARIABLES, type TemplateVars } from "./template_vars.ts";

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
 * Compiles a template in either spelling ({@link templateSpelling}); the error says what is wrong and
 * where. The result renders with `template.render(vars, budget)`.
 */
export function compileTemplate(text: string): CompiledTemplate {
  return templateSpelling(text) === "go" ? compileGo(text) : compileHandlebars(text);
}

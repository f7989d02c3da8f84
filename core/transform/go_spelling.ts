/**
 * Templates in the earlier implementation's Go spelling (`{{ .TargetNamespace }}`, `{{- if … -}}`,
 * `range`, `$x :=`, pipes): parsed and run by the Go `text/template` engine (`gotemplate/`), with every
 * field chain on the data checked when the template is compiled.
 *
 * @example
 * ```ts
 * import { compileGo } from "./go_spelling.ts";
 * import { sizeOnlyBudget } from "./budget.ts";
 * import assert from "node:assert/strict";
 * const t = compileGo('{{ replace .TargetNamespace "-" "_" | upper }}');
 * if (!t.ok) throw new Error(t.error);
 * const vars = { TargetNamespace: "prod-eu", SourceNamespace: "default", SourceName: "cfg", TargetName: "cfg",
 *   Labels: {}, Annotations: {} };
 * assert.equal(t.template.render(vars, sizeOnlyBudget(1024)), "PROD_EU");
 * assert.ok(!compileGo("{{ .Nope }}").ok);
 * ```
 * @module
 */
import { type Budget, BudgetExceeded } from "./budget.ts";
import { type CompiledTemplate, templateErrorLine as firstLine } from "./compiled_template.ts";
import {
  executeGoTemplate,
  GO_FUNCTIONS,
  type GoNode,
  type GoPipe,
  parseGoTemplate,
} from "./gotemplate/mod.ts";
import { TEMPLATE_VARIABLES, type TemplateVars } from "./template_vars.ts";

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

/** Compiles a template in the Go spelling. */
export function compileGo(text: string): CompiledTemplate {
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

/**
 * Rewrites the earlier implementation's Go-template spelling into Handlebars, so that both spellings
 * render the same: `{{.TargetNamespace}}` → `{{TargetNamespace}}`, `{{ .X | upper }}` → `{{upper X}}`,
 * `{{- x -}}` → `{{~ x ~}}`. A template already in Handlebars spelling comes back unchanged.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { goTemplateToHandlebars } from "./go_to_handlebars.ts";
 * assert.equal(
 *   goTemplateToHandlebars('{{ .TargetNamespace | replace "-" "_" | upper }}'),
 *   '{{upper (replace "-" "_" TargetNamespace)}}',
 * );
 * ```
 * @module
 */

/** Rewrites every `{{ … }}` action of a template from Go-template to Handlebars spelling. */
export function goTemplateToHandlebars(template: string): string {
  return template.replace(/\{\{(-?)(\s*)([\s\S]*?)(\s*)(-?)\}\}/g, (whole, trimL, _s1, body, _s2, trimR) => {
    // A Go trim marker needs a space next to it; otherwise the '-' belongs to the body.
    const left = trimL === "-" && _s1.length > 0 ? "~" : trimL;
    const right = trimR === "-" && _s2.length > 0 ? "~" : trimR;
    if (/^[!#\/>^{&]/.test(body) || /^else\b/.test(body) || body.length === 0) return whole;
    const stages = splitTopLevel(body, "|").map((s) => dropDots(s.trim()));
    if (stages.some((s) => s.length === 0)) return whole;
    let expr = stages[0];
    for (const stage of stages.slice(1)) {
      expr = `${stage} ${hasTopLevelSpace(expr) ? `(${expr})` : expr}`;
    }
    const l = left === "-" ? "-" + _s1 : left === "~" ? "~" : "";
    const r = right === "-" ? _s2 + "-" : right === "~" ? "~" : "";
    return `{{${l}${expr}${r}}}`;
  });
}

/** Splits on `sep` outside string literals and parentheses. */
function splitTopLevel(text: string, sep: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quote = "";
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\") i++;
      else if (c === quote) quote = "";
    } else if (c === '"' || c === "'" || c === "`") quote = c;
    else if (c === "(") depth++;
    else if (c === ")") depth--;
    else if (c === sep && depth === 0) {
      parts.push(text.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(text.slice(start));
  return parts;
}

/** Removes Go's leading `.` from field references outside string literals; turns `…` into "…". */
function dropDots(text: string): string {
  let out = "";
  let quote = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === "\\" && quote !== "`") {
        out += c + (text[i + 1] ?? "");
        i++;
        continue;
      }
      if (c === quote) {
        out += quote === "`" ? '"' : c;
        quote = "";
        continue;
      }
      out += quote === "`" && c === '"' ? '\\"' : c;
      continue;
    }
    if (c === '"' || c === "'" || c === "`") {
      quote = c;
      out += c === "`" ? '"' : c;
      continue;
    }
    const prev = i === 0 ? " " : text[i - 1];
    if (c === "." && /[\s(]/.test(prev) && /[A-Za-z_]/.test(text[i + 1] ?? "")) continue;
    out += c;
  }
  return out;
}

function hasTopLevelSpace(text: string): boolean {
  return splitTopLevel(text.replace(/\s+/g, " "), " ").filter((s) => s.length > 0).length > 1;
}

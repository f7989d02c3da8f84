/**
 * A compiled transformation template, whichever spelling it was written in, and how a template's error
 * reads: one line, naming the template.
 *
 * @example
 * ```ts
 * import { templateErrorLine } from "./compiled_template.ts";
 * import assert from "node:assert/strict";
 * assert.equal(templateErrorLine(new Error("Parse error on line 1:\n{{#if}}\n---^")), "Parse error on line 1:");
 * ```
 * @module
 */
import { errorMessage } from "../errors.ts";
import type { Budget } from "./budget.ts";
import type { TemplateVars } from "./template_vars.ts";

/** Which engine runs a template. */
export type TemplateSpelling = "go" | "handlebars";

/** A compiled template. */
export interface Template {
  /** The template as written. */
  source: string;
  /** The spelling it was read in. */
  spelling: TemplateSpelling;
  /** Renders; throws an Error with a clear message on a failure, a BudgetExceeded past a limit. */
  render(vars: TemplateVars, budget: Budget): string;
}

/** The result of compiling a template. */
export type CompiledTemplate = { ok: true; template: Template } | { ok: false; error: string };

/** The first line of an error's message, without Handlebars' position suffix. */
export function templateErrorLine(e: unknown): string {
  const message = errorMessage(e);
  return message.split("\n")[0].replace(/ - \d+:\d+$/, "");
}

/**
 * The variables a transformation template sees, the same in both spellings (docs/CONTRACT.md §5).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { TEMPLATE_VARIABLES } from "./template_vars.ts";
 * assert.equal(TEMPLATE_VARIABLES.includes("TargetNamespace"), true);
 * ```
 * @module
 */

/** The variables a template may use. */
export interface TemplateVars {
  TargetNamespace: string;
  SourceNamespace: string;
  SourceName: string;
  TargetName: string;
  Labels: Record<string, string>;
  Annotations: Record<string, string>;
}

/** The variable names, in the order docs/CONTRACT.md §5 lists them. */
export const TEMPLATE_VARIABLES: readonly string[] = [
  "TargetNamespace",
  "SourceNamespace",
  "SourceName",
  "TargetName",
  "Labels",
  "Annotations",
];

/**
 * Printing a plan document as JSON, YAML or a table (docs/CONTRACT.md §7).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatPlan } from "./plan_output.ts";
 * assert.deepEqual(formatPlan({ actions: [], errors: [], warnings: [] }, "json"), '{\n  "actions": [],\n  "errors": []\n}\n');
 * ```
 * @module
 */
import { stringify as toYaml } from "yaml";
import type { PlanAction, PlanError } from "../../core/plan.ts";
import type { PlanDocument } from "../../core/plan_all.ts";

/** The document as printed: internal fields left out, keys in the order of docs/CONTRACT.md §7. */
export function publicDocument(doc: PlanDocument): Record<string, unknown> {
  return {
    actions: doc.actions.map((a: PlanAction) => {
      const out: Record<string, unknown> = { action: a.action, source: a.source, target: a.target };
      if (a.direction) out.direction = a.direction;
      if (a.reason !== undefined) out.reason = a.reason;
      if (a.recreate) out.recreate = true;
      if (a.object !== undefined) out.object = a.object;
      return out;
    }),
    errors: doc.errors.map((e: PlanError) => {
      const out: Record<string, unknown> = { source: e.source, message: e.message };
      if (e.key) out.key = e.key;
      if (e.reason) out.reason = e.reason;
      if (e.namespace) out.namespace = e.namespace;
      return out;
    }),
    // Only when there are any, so documents without warnings keep the two keys of docs/CONTRACT.md §7.
    ...(doc.warnings.length > 0 ? { warnings: doc.warnings } : {}),
  };
}

function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join("  ").trimEnd())
    .join("\n") + "\n";
}

/** Formats the document. */
export function formatPlan(doc: PlanDocument, output: "json" | "yaml" | "table"): string {
  if (output === "json") return JSON.stringify(publicDocument(doc), null, 2) + "\n";
  if (output === "yaml") return toYaml(publicDocument(doc), { aliasDuplicateObjects: false });
  const kindOf = (s: { apiVersion: string; kind: string }) =>
    s.apiVersion.includes("/") ? `${s.kind}.${s.apiVersion.split("/")[0]}` : s.kind;
  let text = table([
    ["ACTION", "KIND", "SOURCE", "TARGET", "REASON"],
    ...doc.actions.map((a) => [
      a.direction === "pull" && a.action !== "pull" ? `${a.action} (pull)` : a.action,
      kindOf(a.source),
      sourceName(a.source),
      `${a.target.namespace}/${a.target.name}`,
      a.reason ?? "",
    ]),
  ]);
  if (doc.errors.length > 0) {
    text += "\n" + table([
      ["ERROR", "KIND", "SOURCE", "MESSAGE"],
      ...doc.errors.map((
        e,
      ) => ["error", kindOf(e.source), sourceName(e.source), e.message]),
    ]);
  }
  if (doc.warnings.length > 0) {
    text += "\n" + table([
      ["WARNING", "KIND", "SOURCE", "MESSAGE"],
      ...doc.warnings.map((
        w,
      ) => [w.reason, kindOf(w.source), sourceName(w.source), w.message]),
    ]);
  }
  return text;
}

/** A source as the table names it: `namespace/name`, or `cluster:namespace/name` through a link (§10). */
function sourceName(s: { namespace: string; name: string; cluster?: string }): string {
  return `${s.cluster ? `${s.cluster}:` : ""}${s.namespace}/${s.name}`;
}

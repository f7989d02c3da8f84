/**
 * The answers people ask for, read off the plan the controller acts on: for one source and one namespace,
 * what happens there and why (`kubectl mirror why`); for one key, how its targets stand (`kubectl mirror
 * status`). Pure: the plan comes in, sentences and counts go out.
 *
 * @example
 * ```ts
 * import { explainTarget } from "./explain.ts";
 * import { planSource } from "./plan.ts";
 * import { DEFAULT_CONFIG } from "./config.ts";
 * import assert from "node:assert/strict";
 * const source = { apiVersion: "v1", kind: "ConfigMap", data: { a: "1" }, metadata: { name: "cfg", namespace: "default",
 *   labels: { "kubemirror.raczylo.com/enabled": "true" },
 *   annotations: { "kubemirror.raczylo.com/sync": "true", "kubemirror.raczylo.com/target-namespaces": "app-*" } } };
 * const namespaces = [{ name: "app-1", labels: {}, phase: "Active" as const }, { name: "db", labels: {}, phase: "Active" as const }];
 * const plan = planSource(source, { namespaces, observed: [], config: DEFAULT_CONFIG, time: { now: "2026-11-30T00:00:00Z" } });
 * const why = explainTarget({ plan, source, namespace: "db" });
 * assert.equal(why.mirrored, false);
 * assert.match(why.text, /not a target/);
 * ```
 * @module
 */
import {
  ANNOTATION_TARGET_NAMESPACE_SELECTOR,
  ANNOTATION_TARGET_NAMESPACES,
  LABEL_ALLOW_MIRRORS,
} from "./markers.ts";
import type { PlanAction, SourcePlan } from "./plan.ts";
import type { KubeObject } from "./types.ts";

/** How one target namespace stands, in one word. */
export type TargetState =
  | "in-sync"
  | "differs"
  | "to-create"
  | "to-delete"
  | "conflict"
  | "skipped"
  | "refused"
  | "not-a-target"
  | "invalid";

/** The answer for one source and one namespace. */
export interface TargetExplanation {
  state: TargetState;
  /** Whether the namespace holds the source's copy and keeps it (in sync, or about to be updated). */
  mirrored: boolean;
  /** One paragraph, for a person. */
  text: string;
}

/** What `why` needs: the key's plan, the source (if it exists), and the namespace asked about. */
export interface ExplainInput {
  plan: SourcePlan;
  source?: KubeObject;
  namespace: string;
}

const describe = (p: SourcePlan) => `${p.source.kind} ${p.source.namespace}/${p.source.name}`;

/** What happens for one source in one namespace, and why, from the plan. */
export function explainTarget({ plan, source, namespace }: ExplainInput): TargetExplanation {
  const who = describe(plan);
  const into = `${who} → ${namespace}`;
  const blocking = plan.errors.filter((e) => e.namespace === undefined);
  const action = plan.actions.find((a) => a.target.namespace === namespace);
  if (!action && blocking.length > 0) {
    return {
      state: "invalid",
      mirrored: false,
      text: `${into}: nothing is mirrored anywhere: ${blocking.map((e) => e.message).join("; ")}.`,
    };
  }
  if (!action) {
    if (!source) {
      return { state: "not-a-target", mirrored: false, text: `${into}: the source does not exist.` };
    }
    const a = source.metadata?.annotations ?? {};
    const named = [
      a[ANNOTATION_TARGET_NAMESPACES] ? `target-namespaces "${a[ANNOTATION_TARGET_NAMESPACES]}"` : undefined,
      a[ANNOTATION_TARGET_NAMESPACE_SELECTOR]
        ? `the selector "${a[ANNOTATION_TARGET_NAMESPACE_SELECTOR]}"`
        : undefined,
    ].filter(Boolean);
    const labeled = /(^|,)\s*all-labeled\s*(,|$)/.test(a[ANNOTATION_TARGET_NAMESPACES] ?? "")
      ? ` (all-labeled takes only the namespaces labelled ${LABEL_ALLOW_MIRRORS}=true)`
      : "";
    return {
      state: "not-a-target",
      mirrored: false,
      text:
        `${into}: not a target: ${named.length > 0 ? named.join(" and ") : "the source names no target"} ` +
        `${named.length > 1 ? "do" : "does"} not include ${namespace}${labeled}.`,
    };
  }
  return explainAction(into, action);
}

function explainAction(into: string, a: PlanAction): TargetExplanation {
  const because = a.reason ? `: ${a.reason}` : "";
  switch (a.action) {
    case "unchanged":
      return { state: "in-sync", mirrored: true, text: `${into}: mirrored, and in sync with the source.` };
    case "update":
      return {
        state: "differs",
        mirrored: true,
        text: `${into}: mirrored, but it differs from the source and will be updated${because}.`,
      };
    case "create":
      return {
        state: "to-create",
        mirrored: false,
        text: `${into}: not mirrored yet; the controller creates it.`,
      };
    case "delete":
      return {
        state: "to-delete",
        mirrored: false,
        text: `${into}: mirrored until now, and being removed${because}.`,
      };
    case "conflict":
      return { state: "conflict", mirrored: false, text: `${into}: not mirrored: a conflict${because}.` };
    case "pull":
      return {
        state: a.reason?.startsWith("revoked") ? "refused" : "differs",
        mirrored: !a.reason?.startsWith("revoked"),
        text: `${into}: pulled; the controller writes it${because}.`,
      };
    case "skip":
      return skipped(into, a);
  }
}

function skipped(into: string, a: PlanAction): TargetExplanation {
  const reason = a.reason ?? "skipped";
  switch (a.code) {
    case "truncated":
      return {
        state: "skipped",
        mirrored: false,
        text: `${into}: not mirrored: cut by max-targets (${reason}); raise the source's ` +
          `kubemirror.raczylo.com/max-targets or the controller's --max-targets, or narrow its targets.`,
      };
    case "refused":
      return { state: "refused", mirrored: false, text: `${into}: the pull is refused: ${reason}.` };
    case "blocked":
      return {
        state: "skipped",
        mirrored: false,
        text: `${into}: not mirrored: the transform failed: ${reason}.`,
      };
    default:
      return { state: "skipped", mirrored: false, text: `${into}: not mirrored: ${reason}.` };
  }
}

/** How one key's targets stand, counted. */
export interface KeySummary {
  /** Target namespaces resolved (mirrored or to be). */
  targets: number;
  inSync: number;
  toCreate: number;
  toUpdate: number;
  toDelete: number;
  conflicts: number;
  /** Left out by `max-targets`. */
  cut: number;
  /** Errors of the source (invalid annotations, transform failures, refusals). */
  errors: number;
}

/** Counts a key's plan: what `kubectl mirror status` prints per source or pulling object. */
export function summarize(plan: SourcePlan): KeySummary {
  const count = (f: (a: PlanAction) => boolean) => plan.actions.filter(f).length;
  return {
    targets: count((a) => ["unchanged", "update", "create", "conflict", "pull"].includes(a.action)),
    inSync: count((a) => a.action === "unchanged"),
    toCreate: count((a) => a.action === "create"),
    toUpdate: count((a) => a.action === "update" || a.action === "pull"),
    toDelete: count((a) => a.action === "delete"),
    conflicts: count((a) => a.action === "conflict"),
    cut: count((a) => a.action === "skip" && a.code === "truncated"),
    errors: plan.errors.length,
  };
}

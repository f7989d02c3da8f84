/**
 * The functional core of KubeMirror: values in, values out. No I/O, no clock, no randomness; time and
 * state come in as arguments and plans go out as data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { DEFAULT_CONFIG, planSource } from "./mod.ts";
 * const plan = planSource({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "x", namespace: "default" } },
 *   { namespaces: [], observed: [], config: DEFAULT_CONFIG, time: { now: "2026-01-01T00:00:00Z" } });
 * assert.deepEqual(plan.actions, []); // not a source: no label, no annotation
 * ```
 * @module
 */
export * from "./config.ts";
export * from "./drift.ts";
export * from "./fight.ts";
export * from "./glob.ts";
export * from "./hash.ts";
export * from "./heap_release.ts";
export * from "./markers.ts";
export * from "./label_selector.ts";
export * from "./leader.ts";
export * from "./mirrorable.ts";
export * from "./ownership.ts";
export * from "./plan.ts";
export * from "./plan_memo.ts";
export * from "./plan_namespaces.ts";
export * from "./plan_targets.ts";
export * from "./plan_all.ts";
export * from "./plan_key.ts";
export * from "./render.ts";
export * from "./source_spec.ts";
export * from "./status.ts";
export * from "./targets.ts";
export * from "./transform/mod.ts";
export * from "./types.ts";

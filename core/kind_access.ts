/**
 * What the controller may do with each discovered kind, and which watches to start and stop: the access
 * rule (docs/CONTRACT.md §2) and the discovery diff, as data for the shell to carry out. A kind it may
 * not get, list or watch is not watched (`none`); one it may read but not write is watched so that its
 * sources can be told which rights are missing (`read-only`); every other kind is `full`.
 *
 * @example
 * ```ts
 * import { diffWatchedKinds, kindAccess } from "./kind_access.ts";
 * import assert from "node:assert/strict";
 * assert.equal(kindAccess([]), "full");
 * assert.equal(kindAccess(["create", "update"]), "read-only");
 * assert.equal(kindAccess(["list"]), "none");
 * const secrets = { group: "", version: "v1", kind: "Secret", plural: "secrets" };
 * const diff = diffWatchedKinds(new Map(), [{ kind: secrets, missingVerbs: [] }]);
 * assert.deepEqual(diff.start.map((k) => k.kind.kind), ["Secret"]);
 * ```
 * @module
 */
import { groupKindKey } from "./group_kind.ts";
import type { MirrorableKind } from "./mirrorable.ts";

/** How far the controller's identity may serve a kind. */
export type KindAccess = "full" | "read-only" | "none";

/** The access a kind allows, from the verbs of `MIRROR_VERBS` the identity lacks. */
export function kindAccess(missingVerbs: readonly string[]): KindAccess {
  if (missingVerbs.length === 0) return "full";
  return missingVerbs.some((v) => v === "get" || v === "list" || v === "watch") ? "none" : "read-only";
}

/** A kind as discovery found it, with the verbs the identity lacks on it. */
export interface DiscoveredKind {
  kind: MirrorableKind;
  missingVerbs: string[];
}

/** What to change after a discovery run. */
export interface WatchedKindsDiff {
  /** Kinds to start watching (new, or served at another version or resource name than watched). */
  start: DiscoveredKind[];
  /** Keys (`group/Kind`) of watches to stop: gone, no longer readable, or replaced. */
  stop: string[];
  /** Kinds watched already, with their missing verbs as now found (rights may have changed). */
  keep: DiscoveredKind[];
}

/**
 * The diff between the kinds watched now (by key) and those discovery found: kinds with access `none`
 * are not watched; a kind whose version or resource name changed is stopped and started again.
 */
export function diffWatchedKinds(
  watched: ReadonlyMap<string, MirrorableKind>,
  discovered: readonly DiscoveredKind[],
): WatchedKindsDiff {
  const wanted = new Map<string, DiscoveredKind>();
  for (const d of discovered) if (kindAccess(d.missingVerbs) !== "none") wanted.set(groupKindKey(d.kind), d);
  const diff: WatchedKindsDiff = { start: [], stop: [], keep: [] };
  for (const [key, d] of wanted) {
    const current = watched.get(key);
    if (current && current.version === d.kind.version && current.plural === d.kind.plural) {
      diff.keep.push(d);
      continue;
    }
    if (current) diff.stop.push(key);
    diff.start.push(d);
  }
  for (const key of watched.keys()) if (!wanted.has(key)) diff.stop.push(key);
  return diff;
}

/** What to do about a kind the controller may not serve. */
export const RBAC_HINT =
  "grant the verbs get, list, watch, create, update, patch and delete on it in a ClusterRole " +
  'labelled kubemirror.raczylo.com/aggregate-to-controller: "true" (see examples/rbac-custom-kind.yaml); ' +
  "it is picked up at the next discovery";

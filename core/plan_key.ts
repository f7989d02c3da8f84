/**
 * Plans one key (a source's kind, namespace and name) from a snapshot of what is known about it: the
 * one planning function behind both the controller's reconcile and `kubemirror plan`, so the dry run
 * says what the controller does. The source may be missing (deleted, or no longer labelled: its mirrors
 * are deleted), and the kind may be one that is not mirrored (its mirrors are deleted too).
 *
 * @example
 * ```ts
 * import { planKey } from "./plan_key.ts";
 * import { DEFAULT_CONFIG } from "./config.ts";
 * import assert from "node:assert/strict";
 * const plan = planKey({ ref: { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "gone" },
 *   observed: [], namespaces: [], config: DEFAULT_CONFIG, time: { now: "2026-01-01T00:00:00Z" } });
 * assert.deepEqual(plan.actions, []); // nothing of it is left
 * ```
 * @module
 */
import type { MirrorConfig } from "./config.ts";
import { RBAC_HINT } from "./kind_access.ts";
import { isPullingObject, planPull } from "./pull.ts";
import type { LinkScope } from "./cluster_link.ts";
import { type LinkPeer, planOrphans, planSource, SOURCE_GONE, type SourcePlan } from "./plan.ts";
import type { PlanMemo } from "./plan_memo.ts";
import type { RenderClock } from "./render.ts";
import { isEnabledSource } from "./source_spec.ts";
import type { KubeObject, NamespaceInfo, SourceRef } from "./types.ts";

/** What is known about one key. */
export interface KeySnapshot {
  ref: SourceRef;
  /** The source as read; undefined when it is gone or no longer labelled. */
  source?: KubeObject;
  /** Objects of the kind at the source's name: its mirrors, and anything else in the way. */
  observed: readonly KubeObject[];
  /** Other sources of the same kind and name. */
  peers?: readonly KubeObject[];
  namespaces: readonly NamespaceInfo[];
  config: MirrorConfig;
  time: RenderClock;
  /** Why this kind may not be mirrored at all, when it may not. */
  kindDenied?: string;
  /**
   * Write verbs the controller's identity lacks on this kind, and the resource as RBAC names it: the
   * kind is watched read-only, nothing is written, and the source's author is told what is missing.
   */
  missingRights?: { verbs: readonly string[]; resource: string };
  /** When the key's object pulls (§9): the object its `pull-from` names, of the same kind, if labelled. */
  pulled?: KubeObject;
  /** When the key's object pulls: other kinds holding a labelled object at the name it pulls from. */
  pulledElsewhere?: readonly string[];
  /**
   * For a key read through a link (`ref.cluster` set): the link, while its Secret names that cluster.
   * Absent then: the link was removed, and its mirrors go.
   */
  link?: LinkScope;
  /** Sources of the same kind and name read through links. */
  linkPeers?: readonly LinkPeer[];
  /** What the last plan of this key left for the next ({@link SourcePlan.memo}). */
  memo?: PlanMemo;
}

/** Why a removed link's mirrors are deleted. */
export function linkRemoved(cluster: string): string {
  return `the link to cluster "${cluster}" was removed`;
}

/** Plans one key. */
export function planKey(s: KeySnapshot): SourcePlan {
  if (s.ref.cluster !== undefined) {
    if (!s.link) {
      return {
        source: s.ref,
        actions: planOrphans(s.ref, s.observed, linkRemoved(s.ref.cluster)),
        errors: [],
        warnings: [],
      };
    }
    // A link that is down (or not synced yet) plans nothing: its mirrors stay as they are.
    if (!s.link.up) return { source: s.ref, actions: [], errors: [], warnings: [] };
  }
  if (s.missingRights && s.missingRights.verbs.length > 0) {
    const enabled = s.source !== undefined && isEnabledSource(s.source);
    const message = `kubemirror may not ${s.missingRights.verbs.join(", ")} ${s.missingRights.resource}, ` +
      `so nothing is mirrored: ${RBAC_HINT}`;
    return {
      source: s.ref,
      actions: [],
      errors: enabled ? [{ source: s.ref, kind: "unwritable", message }] : [],
      warnings: [],
    };
  }
  if (s.kindDenied) {
    const enabled = s.source !== undefined && isEnabledSource(s.source);
    return {
      source: s.ref,
      actions: planOrphans(s.ref, s.observed, s.kindDenied),
      errors: enabled ? [{ source: s.ref, kind: "forbidden", message: s.kindDenied }] : [],
      warnings: [],
    };
  }
  if (s.source && !s.link && isPullingObject(s.source)) {
    const pull = planPull({
      puller: s.source,
      pulled: s.pulled,
      pulledElsewhere: s.pulledElsewhere,
      config: s.config,
      time: s.time,
    });
    // An object that pulls is never a source: mirrors it pushed before go, as for a disabled source.
    return { ...pull, actions: [...planOrphans(s.ref, s.observed, SOURCE_GONE), ...pull.actions] };
  }
  if (!s.source) {
    return { source: s.ref, actions: planOrphans(s.ref, s.observed, SOURCE_GONE), errors: [], warnings: [] };
  }
  return planSource(s.source, {
    namespaces: s.namespaces,
    observed: s.observed,
    peers: s.peers,
    linkPeers: s.linkPeers,
    config: s.config,
    time: s.time,
    ...(s.link ? { link: s.link } : {}),
    ...(s.memo ? { memo: s.memo } : {}),
  });
}

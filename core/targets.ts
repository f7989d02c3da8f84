/**
 * Choosing target namespaces (docs/CONTRACT.md §3): a pure function of the source's target spec, its
 * namespace, every namespace with its labels and phase, and the flags. The result is the sorted target
 * list plus, for each candidate left out, the reason.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveTargets } from "./targets.ts";
 * import { DEFAULT_CONFIG } from "./config.ts";
 * const r = resolveTargets({ items: [{ type: "glob", pattern: "app-*" }] }, "default",
 *   [{ name: "app-1", labels: {}, phase: "Active" }, { name: "db", labels: {}, phase: "Active" }], DEFAULT_CONFIG);
 * assert.deepEqual(r.targets, ["app-1"]);
 * ```
 * @module
 */
import type { MirrorConfig } from "./config.ts";
import { globMatch, matchesAny } from "./glob.ts";
import { ALWAYS_EXCLUDED_NAMESPACES, LABEL_ALLOW_MIRRORS } from "./markers.ts";
import { matchesSelector, type Selector } from "./label_selector.ts";
import type { NamespaceInfo } from "./types.ts";

/** One item of the `target-namespaces` annotation. */
export type TargetItem =
  | { type: "name"; name: string }
  | { type: "glob"; pattern: string }
  | { type: "all" }
  | { type: "all-labeled" };

/** What a source asks for. */
export interface TargetSpec {
  items: TargetItem[];
  selector?: Selector;
  /** The source's own `max-targets`; it only ever lowers the global one. */
  maxTargets?: number;
}

/** A candidate left out, and why: excluded by the rules, or cut by the target cap. */
export interface SkippedNamespace {
  namespace: string;
  code: "excluded" | "truncated";
  reason: string;
}

/** The result of {@link resolveTargets}. */
export interface Resolution {
  /** Sorted; includes pending names. */
  targets: string[];
  /** Targets named exactly that do not exist yet; mirrored once they appear. */
  pending: string[];
  /** Sorted by namespace. */
  skipped: SkippedNamespace[];
}

const byName = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Where a source read through a link may write (§10): opt-in is always required, and the link may narrow. */
export interface LinkTargets {
  /** The upstream cluster's name, for messages. */
  cluster: string;
  /** Names and globs; empty: every namespace. */
  allowedNamespaces: readonly string[];
}

/**
 * Why `name` may not receive mirrors, or `undefined` when it may. For a source read through `link`, the
 * namespace of the same name as the source's is a namespace like any other (it is in another cluster).
 */
export function exclusionReason(
  name: string,
  ns: NamespaceInfo | undefined,
  sourceNamespace: string,
  config: MirrorConfig,
  link?: LinkTargets,
): string | undefined {
  if (!link && name === sourceNamespace) return "it is the source namespace";
  if (ALWAYS_EXCLUDED_NAMESPACES.includes(name)) return "system namespaces never receive mirrors";
  if (matchesAny(config.excludedNamespaces, name)) return "excluded by --excluded-namespaces";
  if (config.includedNamespaces.length > 0 && !matchesAny(config.includedNamespaces, name)) {
    return "outside --included-namespaces";
  }
  const optIn = ns?.labels[LABEL_ALLOW_MIRRORS];
  if (optIn === "false") return `the namespace opted out (${LABEL_ALLOW_MIRRORS}=false)`;
  if (ns?.phase === "Terminating") return "the namespace is terminating";
  if (link && link.allowedNamespaces.length > 0 && !matchesAny(link.allowedNamespaces, name)) {
    return `outside the allowed-namespaces of the link to cluster "${link.cluster}"`;
  }
  if (link && optIn !== "true") {
    return `the namespace has not opted in (${LABEL_ALLOW_MIRRORS}=true), required for mirrors from other clusters`;
  }
  if (config.requireNamespaceOptIn && optIn !== "true") {
    return `the namespace has not opted in (${LABEL_ALLOW_MIRRORS}=true), required by --require-namespace-opt-in`;
  }
  return undefined;
}

/** Resolves a source's targets. The result does not depend on the order of `namespaces`. */
export function resolveTargets(
  spec: TargetSpec,
  sourceNamespace: string,
  namespaces: readonly NamespaceInfo[],
  config: MirrorConfig,
  link?: LinkTargets,
): Resolution {
  const byNs = new Map<string, NamespaceInfo>();
  for (const ns of namespaces) byNs.set(ns.name, ns);
  const candidates = new Set<string>();
  for (const item of spec.items) {
    switch (item.type) {
      case "name":
        candidates.add(item.name);
        break;
      case "glob":
        for (const ns of byNs.keys()) if (globMatch(item.pattern, ns)) candidates.add(ns);
        break;
      case "all":
        for (const ns of byNs.keys()) candidates.add(ns);
        break;
      case "all-labeled":
        for (const ns of byNs.values()) {
          if (ns.labels[LABEL_ALLOW_MIRRORS] === "true") candidates.add(ns.name);
        }
        break;
    }
  }
  if (spec.selector) {
    for (const ns of byNs.values()) if (matchesSelector(spec.selector, ns.labels)) candidates.add(ns.name);
  }
  const kept: string[] = [];
  const skipped: SkippedNamespace[] = [];
  for (const name of [...candidates].sort(byName)) {
    const reason = exclusionReason(name, byNs.get(name), sourceNamespace, config, link);
    if (reason) skipped.push({ namespace: name, code: "excluded", reason });
    else kept.push(name);
  }
  const limit = Math.min(config.maxTargets, spec.maxTargets ?? Infinity);
  const targets = kept.slice(0, Math.max(0, limit));
  for (const name of kept.slice(targets.length)) {
    const which = spec.maxTargets !== undefined && spec.maxTargets < config.maxTargets
      ? `the source's max-targets (${spec.maxTargets})`
      : `--max-targets (${config.maxTargets})`;
    skipped.push({
      namespace: name,
      code: "truncated",
      reason: `cut by ${which}: ${kept.length} namespaces matched`,
    });
  }
  skipped.sort((a, b) => byName(a.namespace, b.namespace));
  return { targets, pending: targets.filter((t) => !byNs.has(t)), skipped };
}

/**
 * Whether a change to namespace `name` may change what {@link resolveTargets} answers for `spec`: the
 * filter that decides which sources a namespace event wakes. It never misses a namespace the resolution
 * would target or report as skipped; it may wake a source for nothing (a glob or `all` matches more than
 * the flags let through), which only costs a reconcile from the caches.
 */
export function mayTarget(spec: TargetSpec, name: string): boolean {
  if (spec.selector) return true;
  return spec.items.some((item) =>
    item.type === "all" || item.type === "all-labeled" ||
    (item.type === "name" && item.name === name) ||
    (item.type === "glob" && globMatch(item.pattern, name))
  );
}

/**
 * Watch events to queue keys: which sources a change wakes. A source's own change wakes it; a mirror's
 * change wakes the source its markers name (before and after); a namespace's new labels or phase wake
 * every source whose targets may include it ({@link mayTarget}, a property-tested filter in the core)
 * and the sources of every mirror in it. The resync wakes every source and every set of mirrors.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { keysForMirror } from "./event_handlers.ts";
 * const keys = keysForMirror("/ConfigMap", { metadata: { name: "cfg", namespace: "app1",
 *   labels: { "kubemirror.raczylo.com/mirror": "true" }, annotations: {
 *   "kubemirror.raczylo.com/source-namespace": "default", "kubemirror.raczylo.com/source-name": "cfg" } } });
 * assert.deepEqual(keys, ["/ConfigMap/default/cfg"]);
 * ```
 * @module
 */
import type { MirrorConfig } from "../../core/config.ts";
import { mirrorSourceOf } from "../../core/ownership.ts";
import { parseSource } from "../../core/source_spec.ts";
import { mayTarget } from "../../core/targets.ts";
import type { KubeObject } from "../../core/types.ts";
import type { ObjectCache } from "../kube/object_store.ts";
import { isPullingObject } from "../../core/pull.ts";
import { BY_CLUSTER, BY_NAMESPACE, BY_PULL_FROM, BY_SOURCE } from "./mirror_indexes.ts";
import { sourceKey } from "./queue_keys.ts";

/** The caches of one kind, as the handlers read them. */
export interface WatchedKind {
  sources: ObjectCache;
  mirrors: ObjectCache;
}

/** The key of a source's own change. */
export function keyForSource(gk: string, obj: KubeObject): string {
  return sourceKey(gk, obj.metadata?.namespace ?? "", obj.metadata?.name ?? "");
}

/**
 * The keys a change to a labelled object wakes: its own, and the objects that pull it (found through the
 * sources cache's index by `pull-from`, never a scan). A pulling object's own change wakes only itself
 * and whatever pulls from it (to be refused: no chains).
 */
export function keysForSource(gk: string, obj: KubeObject, sources: ObjectCache): string[] {
  const ns = obj.metadata?.namespace ?? "";
  const name = obj.metadata?.name ?? "";
  const keys = [sourceKey(gk, ns, name)];
  for (const p of sources.byIndex(BY_PULL_FROM, `${ns}/${name}`)) keys.push(keyForSource(gk, p));
  return keys;
}

/** The sources a mirror's change wakes: the one its markers name now, and the one they named before. */
export function keysForMirror(gk: string, obj: KubeObject, old?: KubeObject): string[] {
  const keys = new Set<string>();
  for (const o of [old ? mirrorSourceOf(old) : undefined, mirrorSourceOf(obj)]) {
    if (o) keys.add(sourceKey(gk, o.namespace, o.name, o.cluster));
  }
  return [...keys];
}

/** The sources read through links, per kind, as the handlers read them (§10). */
export type LinkSources = (gk: string) => Iterable<{ cluster: string; sources: ObjectCache }>;

/** The sources a namespace's change wakes; none when neither its labels nor its phase changed. */
export function keysForNamespace(
  ns: KubeObject,
  old: KubeObject | undefined,
  kinds: Iterable<[string, WatchedKind]>,
  config: MirrorConfig,
  links?: LinkSources,
): string[] {
  const name = ns.metadata?.name ?? "";
  const same = old !== undefined &&
    JSON.stringify(old.metadata?.labels ?? {}) === JSON.stringify(ns.metadata?.labels ?? {}) &&
    Boolean(old.metadata?.deletionTimestamp) === Boolean(ns.metadata?.deletionTimestamp);
  if (same) return [];
  const keys = new Set<string>();
  for (const [gk, k] of kinds) {
    for (const s of k.sources.list()) {
      // Pulling objects do not depend on namespaces' labels or phase (§9).
      if (isPullingObject(s)) continue;
      const parsed = parseSource(s, config);
      // An invalid source is woken too: cheap, and it keeps its Event current.
      if (!parsed.ok || mayTarget(parsed.spec.targets, name)) keys.add(keyForSource(gk, s));
    }
    for (const link of links?.(gk) ?? []) {
      for (const s of link.sources.list()) {
        const parsed = parseSource(s, config);
        if (parsed.ok && !mayTarget(parsed.spec.targets, name)) continue;
        keys.add(sourceKey(gk, s.metadata?.namespace ?? "", s.metadata?.name ?? "", link.cluster));
      }
    }
    for (const m of k.mirrors.byIndex(BY_NAMESPACE, name)) {
      for (const key of keysForMirror(gk, m)) keys.add(key);
    }
  }
  return [...keys];
}

/** Every source (local and through links), and every set of mirrors (whose source may have left the cache). */
export function resyncKeys(kinds: Iterable<[string, WatchedKind]>, links?: LinkSources): string[] {
  const keys = new Set<string>();
  for (const [gk, k] of kinds) {
    for (const s of k.sources.list()) keys.add(keyForSource(gk, s));
    for (const link of links?.(gk) ?? []) {
      for (const s of link.sources.list()) {
        keys.add(sourceKey(gk, s.metadata?.namespace ?? "", s.metadata?.name ?? "", link.cluster));
      }
    }
    for (const sk of k.mirrors.indexValues(BY_SOURCE)) keys.add(keyOfIndexValue(gk, sk));
  }
  return [...keys];
}

/** The keys of every source of one link (§10): its upstream sources and the sources its mirrors name. */
export function keysForLink(
  cluster: string,
  kinds: Iterable<[string, WatchedKind]>,
  links: LinkSources,
): string[] {
  const keys = new Set<string>();
  for (const [gk, k] of kinds) {
    for (const link of links(gk)) {
      if (link.cluster !== cluster) continue;
      for (const s of link.sources.list()) {
        keys.add(sourceKey(gk, s.metadata?.namespace ?? "", s.metadata?.name ?? "", cluster));
      }
    }
    for (const m of k.mirrors.byIndex(BY_CLUSTER, cluster)) {
      for (const key of keysForMirror(gk, m)) keys.add(key);
    }
  }
  return [...keys];
}

/** A {@link BY_SOURCE} index value back to the source's key. */
function keyOfIndexValue(gk: string, value: string): string {
  const hash = value.indexOf("#");
  const [ns, name] = value.slice(hash + 1).split("/");
  return sourceKey(gk, ns, name, hash >= 0 ? value.slice(0, hash) : undefined);
}

/**
 * What is known about one key when it is planned: its source, the objects at its name, the other
 * sources of that name and the namespaces, from the caches; plus the reads the caches cannot answer
 * (objects at a mirror's name that are not labelled mirrors, found by a create that met AlreadyExists;
 * with `--verify-source-freshness`, the source itself). Of every namespace, or of the namespaces that
 * changed since the key's last plan.
 *
 * @example
 * ```ts
 * import { KeySnapshots } from "./key_snapshots.ts";
 * import type { KindState } from "./kind_watches.ts";
 * import type { KubeClient } from "../kube/client.ts";
 * import type { ObjectCache } from "../kube/object_store.ts";
 * import { parseFlags } from "../config/flags.ts";
 * declare const client: KubeClient;
 * declare const namespaces: ObjectCache;
 * declare const configMaps: KindState;
 * const parsed = parseFlags([]);
 * if (parsed.ok) {
 *   const snapshots = new KeySnapshots({ client, flags: parsed.flags, namespaces, now: Date.now });
 *   const snapshot = await snapshots.full(configMaps, "/ConfigMap/default/cfg");
 *   console.log(snapshot.observed.length); // its mirrors, and anything else at its name
 * }
 * ```
 * @module
 */
import { groupKindKey, kindLabel, rbacResource } from "../../core/group_kind.ts";
import { ANNOTATION_PULL_FROM } from "../../core/markers.ts";
import type { MirrorableKind } from "../../core/mirrorable.ts";
import type { LinkPeer } from "../../core/plan.ts";
import type { KeySnapshot } from "../../core/plan_key.ts";
import { isPullingObject, parsePullFrom } from "../../core/pull.ts";
import { rfc3339 } from "../../core/time.ts";
import { type KubeObject, type NamespaceInfo, namespaceInfo, type SourceRef } from "../../core/types.ts";
import type { ControllerFlags } from "../config/flags.ts";
import { ignoreNotFound, type KubeClient, resourcePath } from "../kube/client.ts";
import type { ObjectCache } from "../kube/object_store.ts";
import type { ClusterLinks } from "./cluster_links.ts";
import type { KindState } from "./kind_watches.ts";
import { BY_NAME } from "./mirror_indexes.ts";
import { parseKey } from "./queue_keys.ts";

/** What the snapshots read. */
export interface SnapshotDeps {
  client: KubeClient;
  flags: Pick<ControllerFlags, "config" | "resyncPeriodMs" | "verifySourceFreshness">;
  namespaces: ObjectCache;
  /** Every watched kind (a pulling object naming an object of another kind is told so). */
  kinds?(): Iterable<KindState>;
  /** The cluster links (§10), when any may exist. */
  links?: LinkView;
  /** Wall-clock milliseconds (when a foreign object was read, last-sync-time). */
  now: () => number;
}

/** What the reconciler reads of the cluster links. */
export type LinkView = Pick<
  ClusterLinks,
  "scope" | "sources" | "sourcesOfKind" | "links" | "secrets" | "isUp"
>;

/** What is known about keys, and the foreign objects met at their mirrors' names. */
export class KeySnapshots {
  /**
   * Objects at a mirror's name that are not labelled mirrors, found by a create that met AlreadyExists,
   * with when they were read: the label-filtered watch never shows them. Read again once a resync
   * period has passed, to notice `adopt` or removal.
   */
  readonly #foreign = new Map<string, Map<string, { object: KubeObject; readAt: number }>>();
  readonly #now: () => number;

  constructor(readonly deps: SnapshotDeps) {
    this.#now = deps.now;
  }

  /** An object that is not a labelled mirror, met at a mirror's name in `namespace`. */
  noteForeign(key: string, namespace: string, object: KubeObject): void {
    const map = this.#foreign.get(key) ?? new Map<string, { object: KubeObject; readAt: number }>();
    map.set(namespace, { object, readAt: this.#now() });
    this.#foreign.set(key, map);
  }

  /** A mirror was written in `namespace`: whatever was there before is no longer in the way. */
  clearForeign(key: string, namespace: string): void {
    this.#foreign.get(key)?.delete(namespace);
  }

  /** The key's source is gone. */
  forget(key: string): void {
    this.#foreign.delete(key);
  }

  /** What is known about the key, in every namespace: the caches, plus the reads they cannot answer. */
  async full(k: KindState, key: string, signal?: AbortSignal): Promise<KeySnapshot> {
    const { namespace, name, cluster } = parseKey(key);
    const r = k.kind;
    const ref = refOf(k, key);
    if (cluster) return await this.#linkSnapshot(k, key, ref, cluster, signal);
    const time = { now: rfc3339(this.#now()), clock: () => performance.now() };
    const base = { ref, config: this.deps.flags.config, time };
    let source = k.sources.get(`${namespace}/${name}`);
    if (k.missingVerbs.length > 0) {
      // Nothing can be written for this kind: the plan only tells the source's author what is missing.
      const missingRights = { verbs: k.missingVerbs, resource: rbacResource(r) };
      return { ...base, source, observed: [], namespaces: [], missingRights };
    }
    if (source && this.deps.flags.verifySourceFreshness) source = await this.#fresh(r, source, signal);
    const pull = source && isPullingObject(source) ? this.#pulled(k, source) : {};
    const observed = k.mirrors.byIndex(BY_NAME, name);
    for (const f of await this.#foreignObjects(k, key, signal)) {
      // The mirrors cache is the truth for labelled objects; a foreign snapshot never hides it.
      if (!observed.some((o) => o.metadata?.namespace === f.metadata?.namespace)) observed.push(f);
    }
    return {
      ...base,
      source,
      observed,
      peers: k.sources.list().filter((p) => p.metadata?.name === name && p.metadata?.namespace !== namespace),
      namespaces: this.deps.namespaces.list().map(namespaceInfo),
      ...pull,
    };
  }

  /** A link's source (§10): read from the link's cache; its mirrors and peers from this cluster's. */
  async #linkSnapshot(
    k: KindState,
    key: string,
    ref: SourceRef,
    cluster: string,
    signal?: AbortSignal,
  ): Promise<KeySnapshot> {
    const time = { now: rfc3339(this.#now()), clock: () => performance.now() };
    const base = { ref, config: this.deps.flags.config, time };
    const gk = groupKindKey(k.kind);
    const link = this.deps.links?.scope(cluster, gk);
    const source = this.deps.links?.sources(cluster, gk)?.get(`${ref.namespace}/${ref.name}`);
    if (k.missingVerbs.length > 0) {
      const missingRights = { verbs: k.missingVerbs, resource: rbacResource(k.kind) };
      return { ...base, source, observed: [], namespaces: [], missingRights, ...(link ? { link } : {}) };
    }
    const observed = k.mirrors.byIndex(BY_NAME, ref.name);
    for (const f of await this.#foreignObjects(k, key, signal)) {
      if (!observed.some((o) => o.metadata?.namespace === f.metadata?.namespace)) observed.push(f);
    }
    const linkPeers: LinkPeer[] = [];
    for (const l of this.deps.links?.sourcesOfKind(gk) ?? []) {
      for (const s of l.sources.list()) {
        if (
          s.metadata?.name !== ref.name || (l.cluster === cluster && s.metadata?.namespace === ref.namespace)
        ) continue;
        linkPeers.push({ link: l.scope, source: s });
      }
    }
    return {
      ...base,
      source,
      observed,
      peers: k.sources.list().filter((p) => p.metadata?.name === ref.name),
      linkPeers,
      namespaces: this.deps.namespaces.list().map(namespaceInfo),
      ...(link ? { link } : {}),
    };
  }

  /** For a pulling object: the object it names in this kind's cache, or the other kinds that hold one. */
  #pulled(k: KindState, puller: KubeObject): Pick<KeySnapshot, "pulled" | "pulledElsewhere"> {
    const from = parsePullFrom(puller.metadata?.annotations?.[ANNOTATION_PULL_FROM]);
    if (!from) return {};
    const key = `${from.namespace}/${from.name}`;
    const pulled = k.sources.get(key);
    if (pulled) return { pulled };
    const elsewhere = [...(this.deps.kinds?.() ?? [])].filter((o) => o !== k && o.sources.get(key));
    return { pulledElsewhere: elsewhere.map((o) => kindLabel(o.kind)) };
  }

  /**
   * What is known about a local source's key in `namespaces` only: its source, the objects at its name
   * there and those namespaces. Undefined when it must be looked at everywhere: a link's key, a kind
   * that may not be written, a source gone or pulling, or another source of the same name.
   */
  async ofNamespaces(
    k: KindState,
    key: string,
    namespaces: ReadonlySet<string>,
    signal?: AbortSignal,
  ): Promise<(KeySnapshot & { source: KubeObject }) | undefined> {
    const { namespace, name, cluster } = parseKey(key);
    if (cluster || k.missingVerbs.length > 0) return undefined;
    let source = k.sources.get(`${namespace}/${name}`);
    if (!source || isPullingObject(source)) return undefined;
    if (k.sources.list().some((p) => p.metadata?.name === name && p.metadata?.namespace !== namespace)) {
      return undefined;
    }
    if (this.deps.flags.verifySourceFreshness) source = await this.#fresh(k.kind, source, signal);
    const observed: KubeObject[] = [];
    const infos: NamespaceInfo[] = [];
    for (const ns of namespaces) {
      const mirror = k.mirrors.get(`${ns}/${name}`);
      if (mirror) observed.push(mirror);
      const info = this.deps.namespaces.get(ns);
      if (info) infos.push(namespaceInfo(info));
    }
    for (const f of await this.#foreignObjects(k, key, signal)) {
      const ns = f.metadata?.namespace ?? "";
      if (namespaces.has(ns) && !observed.some((o) => o.metadata?.namespace === ns)) observed.push(f);
    }
    const time = { now: rfc3339(this.#now()), clock: () => performance.now() };
    return { ref: refOf(k, key), source, observed, namespaces: infos, config: this.deps.flags.config, time };
  }

  /** The foreign objects known for a source, read again when older than a resync period. */
  async #foreignObjects(k: KindState, key: string, signal?: AbortSignal): Promise<KubeObject[]> {
    const map = this.#foreign.get(key);
    if (!map) return [];
    const stale = this.#now() - this.deps.flags.resyncPeriodMs * 0.9;
    for (const [ns, entry] of [...map]) {
      // Once the mirrors cache holds an object at that name, the snapshot has no say any more.
      if (k.mirrors.get(`${ns}/${entry.object.metadata?.name}`)) {
        map.delete(ns);
        continue;
      }
      if (entry.readAt > stale) continue;
      const live = await ignoreNotFound(
        this.deps.client.get(resourcePath(k.kind, ns, entry.object.metadata?.name), { signal }),
      );
      if (!live) map.delete(ns);
      else {
        map.set(ns, {
          object: { ...live, apiVersion: entry.object.apiVersion, kind: entry.object.kind },
          readAt: this.#now(),
        });
      }
    }
    if (map.size === 0) this.#foreign.delete(key);
    return [...map.values()].map((e) => e.object);
  }

  /** `--verify-source-freshness`: the source as the API server has it, when newer than the cache's. */
  async #fresh(r: MirrorableKind, cached: KubeObject, signal?: AbortSignal): Promise<KubeObject> {
    const live = await ignoreNotFound(
      this.deps.client.get(resourcePath(r, cached.metadata?.namespace, cached.metadata?.name), { signal }),
    );
    if (live && live.metadata?.resourceVersion !== cached.metadata?.resourceVersion) {
      return { ...live, apiVersion: cached.apiVersion, kind: cached.kind };
    }
    return cached;
  }
}

/** The source a key names, as its kind's watch serves it. */
function refOf(k: KindState, key: string): SourceRef {
  const { namespace, name, cluster } = parseKey(key);
  const r = k.kind;
  return {
    apiVersion: r.group ? `${r.group}/${r.version}` : r.version,
    kind: r.kind,
    namespace,
    name,
    ...(cluster ? { cluster } : {}),
  };
}

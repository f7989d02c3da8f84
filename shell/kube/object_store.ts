/**
 * The store behind a watch cache (client-go's indexer): objects by key, with secondary indexes kept in step
 * with every put and remove, so an index never names an object the store no longer holds. What an object
 * keeps in the store is decided by whoever puts it in ({@link slim}, the informer's transform).
 *
 * @example
 * ```ts
 * import { ObjectStore } from "./object_store.ts";
 * const store = new ObjectStore({ app: (o) => [o.metadata?.labels?.app ?? ""] });
 * store.put("a/cfg", { metadata: { namespace: "a", name: "cfg", labels: { app: "web" } } });
 * console.log(store.byIndex("app", "web").length); // 1
 * store.remove("a/cfg");
 * console.log(store.indexValues("app")); // []
 * ```
 * @module
 */
import { slimMaps } from "../../core/content_digest.ts";
import { LABEL_MIRROR } from "../../core/markers.ts";
import type { KubeObject } from "../../core/types.ts";

/** A cache the reconciler reads, and writes its own results through. */
export interface ObjectCache {
  get(key: string): KubeObject | undefined;
  list(): KubeObject[];
  byIndex(name: string, value: string): KubeObject[];
  indexValues(name: string): string[];
  /** Puts the answer of our own write in, ahead of its watch event (never over a newer version). */
  observe(obj: KubeObject): void;
  /** Drops an object we deleted, ahead of its watch event. */
  drop(key: string): void;
}

/** Index name → the values an object is filed under. */
export type Indexers = Readonly<Record<string, (obj: KubeObject) => readonly string[]>>;

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

/** Drops what the controller never reads, to keep the cache small. */
export function slim(obj: KubeObject): KubeObject {
  const meta = obj.metadata;
  if (!meta) return obj;
  const { managedFields: _m, ...rest } = meta;
  if (rest.annotations && LAST_APPLIED in rest.annotations) {
    const { [LAST_APPLIED]: _l, ...annotations } = rest.annotations;
    rest.annotations = annotations;
  }
  return { ...obj, metadata: rest };
}

/**
 * What a one-shot read of the cluster (`kubemirror plan`, `kubectl mirror`) keeps of a listed object: a
 * mirror as the controller caches it ({@link slim}, long values as their digests), so a list of 100,000
 * mirrors is never held whole; anything else whole (a source is rendered, an object in the way is shown).
 */
export function slimMirror(obj: KubeObject): KubeObject {
  return obj.metadata?.labels?.[LABEL_MIRROR] === "true" ? slimMaps(slim(obj)) : obj;
}

/** The cache key of an object: `namespace/name`, or `name` for cluster-scoped ones. */
export function objectKey(obj: KubeObject): string {
  const ns = obj.metadata?.namespace;
  return ns ? `${ns}/${obj.metadata?.name}` : (obj.metadata?.name ?? "");
}

const NUMERIC = /^[0-9]+$/;

/** Whether `a` is a newer version than `b` (resourceVersions compare as numbers when both are). */
export function newer(a: KubeObject, b: KubeObject): boolean {
  return newerThanVersion(a, b.metadata?.resourceVersion ?? "");
}

/** Whether `obj` was written after the version `rv` (an object's, or a list's resourceVersion). */
export function newerThanVersion(obj: KubeObject, rv: string): boolean {
  const ro = obj.metadata?.resourceVersion ?? "";
  return NUMERIC.test(ro) && NUMERIC.test(rv) && BigInt(ro) > BigInt(rv);
}

/** A change a relist found, for the handlers: the listed object, and the one it replaced or removed. */
export interface StoreChange {
  type: "ADDED" | "MODIFIED" | "DELETED";
  obj: KubeObject;
  old?: KubeObject;
}

/** Objects by key, and the indexes over them. */
export class ObjectStore {
  readonly #objects = new Map<string, KubeObject>();
  /** index name → indexed value → keys */
  readonly #indices = new Map<string, Map<string, Set<string>>>();

  constructor(readonly indexers: Indexers = {}) {}

  get size(): number {
    return this.#objects.size;
  }

  /** The object at `key`. */
  get(key: string): KubeObject | undefined {
    return this.#objects.get(key);
  }

  /** Every object. */
  list(): KubeObject[] {
    return [...this.#objects.values()];
  }

  /** The objects filed under `value` in the index `name`. */
  byIndex(name: string, value: string): KubeObject[] {
    const keys = this.#indices.get(name)?.get(value);
    return keys ? [...keys].map((k) => this.#objects.get(k)!) : [];
  }

  /** The values the index `name` holds objects under. */
  indexValues(name: string): string[] {
    return [...(this.#indices.get(name)?.keys() ?? [])];
  }

  /** Puts `obj` at `key`, filing it under its index values in place of the old object's. */
  put(key: string, obj: KubeObject): void {
    this.#unindex(key);
    this.#objects.set(key, obj);
    for (const [name, fn] of Object.entries(this.indexers)) {
      const index = this.#indices.get(name) ?? new Map<string, Set<string>>();
      this.#indices.set(name, index);
      for (const value of fn(obj)) {
        const keys = index.get(value) ?? new Set<string>();
        keys.add(key);
        index.set(value, keys);
      }
    }
  }

  /** Removes the object at `key` and its index entries. */
  remove(key: string): void {
    this.#unindex(key);
    this.#objects.delete(key);
  }

  /**
   * Replaces the contents with a list's items (client-go's `Replace`) and says what changed: added and
   * modified first, then deleted (the cached object goes as `old`). What the store holds newer than the list
   * stays: our own writes observed after the list's snapshot (a list served from a lagging watch cache after
   * an API server restart); dropping them would make the next reconcile write them again.
   */
  replace(items: readonly KubeObject[], listVersion: string): StoreChange[] {
    const listed = new Map<string, KubeObject>();
    for (const obj of items) listed.set(objectKey(obj), obj);
    const changes: StoreChange[] = [];
    for (const [key, obj] of listed) {
      const before = this.#objects.get(key);
      // The very object cached (the informer's list keeps the cached copy of a version it holds): an
      // in-sync relist of 100,000 objects re-files none of them.
      if (before === obj || (before && newer(before, obj))) continue;
      this.put(key, obj);
      if (!before) changes.push({ type: "ADDED", obj });
      else if (before.metadata?.resourceVersion !== obj.metadata?.resourceVersion) {
        changes.push({ type: "MODIFIED", obj, old: before });
      }
    }
    const gone: [string, KubeObject][] = [];
    for (const [key, obj] of this.#objects) {
      if (!listed.has(key) && !newerThanVersion(obj, listVersion)) gone.push([key, obj]);
    }
    for (const [key, obj] of gone) {
      this.remove(key);
      changes.push({ type: "DELETED", obj, old: obj });
    }
    return changes;
  }

  #unindex(key: string): void {
    const old = this.#objects.get(key);
    if (!old) return;
    for (const [name, fn] of Object.entries(this.indexers)) {
      const index = this.#indices.get(name);
      for (const value of fn(old)) {
        const keys = index?.get(value);
        keys?.delete(key);
        if (keys?.size === 0) index!.delete(value);
      }
    }
  }
}

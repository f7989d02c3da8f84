/**
 * Test doubles for the shell: a fake API server on an in-memory store (resourceVersions, AlreadyExists,
 * optimistic-concurrency conflicts, 404s, merge patches, injectable faults) that records every request,
 * and an in-memory cache with the informer's indexing rules.
 * @module
 */
import { applyMergePatch } from "../../core/merge_patch.ts";
import type { JsonValue, KubeObject } from "../../core/types.ts";
import { type ObjectCache, objectKey } from "./object_store.ts";
import {
  ApiError,
  type CallOptions,
  type KubeClient,
  type ListResult,
  type Method,
  type RequestOptions,
} from "./client.ts";

/** An in-memory API server for namespaced objects. */
export class FakeKube implements KubeClient {
  /** Every request, as `METHOD path`. */
  readonly requests: string[] = [];
  readonly objects = new Map<string, KubeObject>();
  readonly events: KubeObject[] = [];
  #rv = 100;
  #faults: { method: Method; path: RegExp; status: number; reason: string }[] = [];

  /** The next request matching `method` and `path` fails with `status`. */
  fail(method: Method, path: RegExp, status: number, reason = ""): void {
    this.#faults.push({ method, path, status, reason });
  }

  /** Stores an object as the API server has it (its path from its kind, namespace and name). */
  put(obj: KubeObject): KubeObject {
    const stored = structuredClone(obj);
    stored.metadata = { uid: `uid-${this.#rv}`, ...stored.metadata, resourceVersion: String(++this.#rv) };
    this.objects.set(itemPath(stored), stored);
    return structuredClone(stored);
  }

  request<T = KubeObject>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    try {
      options.signal?.throwIfAborted();
      this.requests.push(`${method} ${path}`);
      return Promise.resolve(structuredClone(this.#handle(method, path, options.body as KubeObject)) as T);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  get<T = KubeObject>(path: string, options: CallOptions = {}): Promise<T> {
    return this.request<T>("GET", path, { signal: options.signal });
  }

  list<T extends KubeObject = KubeObject>(): Promise<ListResult<T>> {
    throw new Error("the reconciler never lists");
  }

  watch(): Promise<() => void> {
    throw new Error("the reconciler never watches");
  }

  #handle(method: Method, path: string, body: KubeObject | undefined): unknown {
    const fault = this.#faults.findIndex((f) => f.method === method && f.path.test(path));
    if (fault >= 0) {
      const [f] = this.#faults.splice(fault, 1);
      throw new ApiError(f.status, f.reason, `${method} ${path}: injected ${f.status}`);
    }
    if (/\/events$/.test(path) && method === "POST") {
      this.events.push(body!);
      return body;
    }
    const existing = this.objects.get(path);
    const rvMismatch = (rv: string | undefined) =>
      rv !== undefined && rv !== existing?.metadata?.resourceVersion;
    switch (method) {
      case "GET":
        if (!existing) throw new ApiError(404, "NotFound", `${path} not found`);
        return existing;
      case "POST": {
        const item = `${path}/${body!.metadata!.name}`;
        if (this.objects.has(item)) throw new ApiError(409, "AlreadyExists", `${item} already exists`);
        return this.put(body!);
      }
      case "PUT":
        if (!existing) throw new ApiError(404, "NotFound", `${path} not found`);
        if (rvMismatch(body!.metadata?.resourceVersion)) throw new ApiError(409, "Conflict", "stale");
        return this.put({ ...body!, metadata: { ...body!.metadata, uid: existing.metadata?.uid } });
      case "PATCH": {
        if (!existing) throw new ApiError(404, "NotFound", `${path} not found`);
        if (rvMismatch(body!.metadata?.resourceVersion)) throw new ApiError(409, "Conflict", "stale");
        const { resourceVersion: _rv, ...meta } = body!.metadata ?? {};
        const patched = applyMergePatch(existing as JsonValue, { ...body, metadata: meta } as JsonValue);
        return this.put(patched as KubeObject);
      }
      case "DELETE": {
        if (!existing) throw new ApiError(404, "NotFound", `${path} not found`);
        const pre = (body as { preconditions?: { resourceVersion?: string } } | undefined)?.preconditions;
        if (rvMismatch(pre?.resourceVersion)) throw new ApiError(409, "Conflict", "precondition failed");
        this.objects.delete(path);
        return { status: "Success" };
      }
    }
  }
}

/** The item path of a core or grouped namespaced object. */
export function itemPath(o: KubeObject): string {
  const gv = o.apiVersion ?? "v1";
  const plural = `${(o.kind ?? "").toLowerCase()}s`;
  const base = gv.includes("/") ? `/apis/${gv}` : `/api/${gv}`;
  return `${base}/namespaces/${o.metadata?.namespace}/${plural}/${o.metadata?.name}`;
}

/** A cache kept by hand, indexed as the informer indexes. */
export class MemoryCache implements ObjectCache {
  readonly #store = new Map<string, KubeObject>();
  constructor(readonly indexers: Record<string, (o: KubeObject) => readonly string[]> = {}) {}

  get(key: string): KubeObject | undefined {
    return this.#store.get(key);
  }
  list(): KubeObject[] {
    return [...this.#store.values()];
  }
  byIndex(name: string, value: string): KubeObject[] {
    return this.list().filter((o) => this.indexers[name]?.(o).includes(value));
  }
  indexValues(name: string): string[] {
    return [...new Set(this.list().flatMap((o) => this.indexers[name]?.(o) ?? []))];
  }
  observe(obj: KubeObject): void {
    this.#store.set(objectKey(obj), structuredClone(obj));
  }
  drop(key: string): void {
    this.#store.delete(key);
  }
}

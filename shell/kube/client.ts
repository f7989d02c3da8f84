/**
 * The client seam: what the controller needs of the API server. {@link KubeApi} is the real one; tests
 * give the reconciler a fake built on an in-memory store and assert the exact requests it makes.
 *
 * @example
 * ```ts
 * import type { KubeClient } from "./client.ts";
 * async function names(client: KubeClient): Promise<string[]> {
 *   const { items } = await client.list("/api/v1/namespaces");
 *   return items.map((n) => n.metadata?.name ?? "");
 * }
 * ```
 * @module
 */
import type { KubeObject } from "../../core/types.ts";

/** One watch event. */
export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: KubeObject;
}

/** An HTTP method the controller uses. */
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Options of one request. */
export interface RequestOptions {
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  contentType?: string;
  /** Aborts the request (and keeps it from starting): stop, or the Lease lost. */
  signal?: AbortSignal;
}

/** Requests, paged lists and watches. */
export interface KubeClient {
  /** JSON in, JSON out; throws an `ApiError` on a non-2xx answer. */
  request(method: Method, path: string, options?: RequestOptions): Promise<any>;
  get(path: string, query?: RequestOptions["query"], signal?: AbortSignal): Promise<any>;
  list(
    path: string,
    query?: Record<string, string | undefined>,
  ): Promise<{ items: KubeObject[]; resourceVersion: string }>;
  watch(
    path: string,
    query: Record<string, string | number | boolean | undefined>,
    onEvent: (event: WatchEvent) => void,
    onDone: (err?: unknown) => void,
  ): Promise<() => void>;
}

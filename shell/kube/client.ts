/**
 * The client seam: what the controller needs of the API server, with its errors and helpers beside it.
 * The real client (`kube_api.ts`) is made only by the process wiring; everything else is written against
 * this interface, and tests give it a fake built on an in-memory store (`_testing.ts`).
 *
 * Every method takes one options bag; its `signal` aborts the call (and keeps it from starting): the
 * process stopping, or the Lease lost.
 *
 * @example
 * ```ts
 * import { ApiError, ignoreNotFound, isStatus, resourcePath } from "./client.ts";
 * import assert from "node:assert/strict";
 * const secrets = { group: "", version: "v1", plural: "secrets" };
 * assert.equal(resourcePath(secrets, "team-a", "registry"), "/api/v1/namespaces/team-a/secrets/registry");
 * const missing = new ApiError(404, "NotFound", "secrets \"registry\" not found");
 * assert.ok(isStatus(missing, 404));
 * assert.equal(await ignoreNotFound(Promise.reject(missing)), undefined);
 * ```
 * @module
 */
import type { KubeObject } from "../../core/types.ts";
import { errorMessage } from "../runtime/log.ts";

/** One watch event. */
export interface WatchEvent {
  type: "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK" | "ERROR";
  object: KubeObject;
}

/** An HTTP method the controller uses. */
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

/** Query parameters; undefined ones are left out. */
export type Query = Record<string, string | number | boolean | undefined>;

/** Options every call takes. */
export interface CallOptions {
  query?: Query;
  /** Aborts the call (and keeps it from starting): the process stopping, or the Lease lost. */
  signal?: AbortSignal;
}

/** Options of a paged list. */
export interface ListOptions extends CallOptions {
  /**
   * What to keep of each item, applied as its page arrives: a list of many large objects is never held
   * whole at once (an informer's cache keeps a slimmed copy of each).
   */
  keep?: (item: KubeObject) => KubeObject;
}

/** Options of a request with a body. */
export interface RequestOptions extends CallOptions {
  body?: unknown;
  contentType?: string;
}

/** A collection as read: its items (with their kind filled in) and the version a watch starts from. */
export interface ListResult<T extends KubeObject = KubeObject> {
  items: T[];
  resourceVersion: string;
}

/** Requests, paged lists and watches. */
export interface KubeClient {
  /** JSON in, JSON out; throws an {@link ApiError} on a non-2xx answer. */
  request<T = KubeObject>(method: Method, path: string, options?: RequestOptions): Promise<T>;
  /** A GET; throws an {@link ApiError} on a non-2xx answer. */
  get<T = KubeObject>(path: string, options?: CallOptions): Promise<T>;
  /** Every page of a collection (each item as `options.keep` makes it, when given). */
  list<T extends KubeObject = KubeObject>(path: string, options?: ListOptions): Promise<ListResult<T>>;
  /**
   * Starts a watch: events arrive through `onEvent`, and `onDone` is called once when it ends (normally,
   * with an error, or aborted). Resolves to a function that aborts it.
   */
  watch(
    path: string,
    options: CallOptions,
    onEvent: (event: WatchEvent) => void,
    onDone: (err?: unknown) => void,
  ): Promise<() => void>;
}

/** An error answer from the API server. */
export class ApiError extends Error {
  constructor(readonly status: number, readonly reason: string, message: string) {
    super(message);
    this.name = "ApiError";
  }
}

/** Whether an error is an API answer with this status. */
export function isStatus(e: unknown, status: number): e is ApiError {
  return e instanceof ApiError && e.status === status;
}

/** Whether a failure is one that retrying cannot fix (a refused certificate, missing rights or permissions). */
export function lastingFailure(e: unknown): boolean {
  if (e instanceof ApiError) return e.status === 401 || e.status === 403;
  if (e instanceof Deno.errors.NotCapable || e instanceof Deno.errors.PermissionDenied) return true;
  const code = String((e as { code?: unknown })?.code ?? "");
  if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS/.test(code)) return true;
  // The fetch library wraps the TLS error; its text is all that is left of the cause.
  const message = errorMessage(e);
  return /certificate|unable to verify|CERT_|Requires .* access/i.test(message);
}

/** The answer, or undefined when the API server says 404 Not Found; any other failure is thrown. */
export async function ignoreNotFound<T>(call: Promise<T>): Promise<T | undefined> {
  try {
    return await call;
  } catch (e) {
    if (isStatus(e, 404)) return undefined;
    throw e;
  }
}

/** Where a kind lives in the API. */
export interface ResourceInfo {
  group: string;
  version: string;
  plural: string;
}

/** The URL path of a collection (all namespaces, or one) or of an object. */
export function resourcePath(r: ResourceInfo, namespace?: string, name?: string): string {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${base}${ns}/${r.plural}${name ? `/${encodeURIComponent(name)}` : ""}`;
}

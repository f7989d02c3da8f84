/**
 * The controller's one door to the API server: Deno's HTTP client (client-node's where the kubeconfig
 * needs it) with the kubeconfig's credentials ({@link authHeaders}), a token bucket in front of every
 * request, a User-Agent, and a count of requests by verb and code. Objects go in and out as plain JSON:
 * nothing is lost to typed models.
 *
 * @example
 * ```ts
 * import { KubeApi } from "./kube_api.ts";
 * import { loadKubeConfig } from "./kube_config.ts";
 * const api = new KubeApi(loadKubeConfig(undefined), { qps: 50, burst: 100 });
 * const { items } = await api.list("/api/v1/namespaces");
 * ```
 * @module
 */
import * as k8s from "@kubernetes/client-node";
import type { KubeObject } from "../../core/types.ts";
import {
  ApiError,
  type CallOptions,
  type KubeClient,
  type ListOptions,
  type ListResult,
  type Method,
  type RequestOptions,
  type WatchEvent,
} from "./client.ts";
import type { Metrics } from "../runtime/metrics.ts";
import { errorMessage } from "../../core/errors.ts";
import { systemClock } from "../runtime/clock.ts";
import { authHeaders, nativeTransport } from "./kube_config.ts";
import { TokenBucket } from "./rate_limiter.ts";

/** The version in the User-Agent. */
export const VERSION = "0.1.0";

/** Options for {@link KubeApi}. */
export interface KubeApiOptions {
  qps: number;
  burst: number;
  metrics?: Metrics;
  userAgent?: string;
  /** `client-node` forces client-node's transport; by default Deno's own when the kubeconfig allows it. */
  transport?: "native" | "client-node";
}

/** Milliseconds to wait for a `Retry-After` (seconds, or an HTTP date); 1 s when absent or unreadable. */
export function retryAfterMs(header: string | null, now = Date.now()): number {
  if (header === null || header.trim() === "") return 1000;
  const seconds = Number(header.trim());
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms)) : 1000;
}

const VERB: Record<string, string> = {
  GET: "get",
  POST: "create",
  PUT: "update",
  PATCH: "patch",
  DELETE: "delete",
};

/** What one HTTP exchange gave back. */
interface Answer {
  status: number;
  text: string;
  retryAfter: string | null;
}

/** At most this many tries of one request the API server throttles (429), as client-go. */
const MAX_THROTTLED_TRIES = 10;
/** The longest `Retry-After` honoured; a longer one waits this long and asks again. */
const MAX_RETRY_AFTER_MS = 30_000;

/**
 * Requests to the API server: authentication from client-node's kubeconfig (tokens, exec plugins, token
 * files, client certificates), sent over Deno's own HTTP client when the kubeconfig allows it (a sixth of
 * the CPU of client-node's Node-compatible transport per request, measured), else over client-node's.
 * Throttling (429) is waited out as the server's `Retry-After` says, counted, and never an error.
 */
export class KubeApi implements KubeClient {
  readonly server: string;
  readonly #bucket: TokenBucket;
  readonly #http = new k8s.IsomorphicFetchHttpLibrary();
  readonly #servers: k8s.ServerConfiguration<Record<string, string>>;
  readonly #userAgent: string;
  /** Deno's HTTP client with the cluster's CA and the user's certificate; undefined: client-node's transport. */
  readonly #native?: { client: Deno.HttpClient };
  readonly #authHeaders: () => Promise<Record<string, string>>;

  constructor(readonly kc: k8s.KubeConfig, readonly options: KubeApiOptions) {
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    this.server = cluster.server;
    this.#servers = new k8s.ServerConfiguration(cluster.server, {});
    this.#bucket = new TokenBucket(options.qps, options.burst);
    this.#userAgent = options.userAgent ?? `kubemirror/${VERSION}`;
    this.#native = options.transport === "client-node" ? undefined : nativeTransport(kc);
    this.#authHeaders = authHeaders(kc);
  }

  /** Which transport requests take: `native` (Deno's fetch) or `client-node`. */
  get transport(): "native" | "client-node" {
    return this.#native ? "native" : "client-node";
  }

  /** Sends one request; JSON in, JSON out; throws {@link ApiError} on a non-2xx answer. */
  async request<T = KubeObject>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
    const verb = this.#verb(method, path, options.query);
    for (let attempt = 1;; attempt++) {
      // An aborted signal (stop, or the Lease lost) keeps a request from starting, even after the rate
      // limiter's wait, and aborts one in flight.
      options.signal?.throwIfAborted();
      await this.#bucket.take();
      options.signal?.throwIfAborted();
      let answer: Answer;
      try {
        answer = this.#native
          ? await this.#sendNative(method, path, options)
          : await this.#sendClientNode(method, path, options);
      } catch (e) {
        this.options.metrics?.apiRequests.inc({ verb, code: "error" });
        throw e;
      }
      this.options.metrics?.apiRequests.inc({ verb, code: String(answer.status) });
      if (answer.status === 429 && attempt < MAX_THROTTLED_TRIES) {
        // Throttled by API Priority and Fairness (or a limit in front of it): wait as told, then ask again.
        this.options.metrics?.apiThrottled.inc({ verb });
        await systemClock.sleep(retryAfterMs(answer.retryAfter), options.signal);
        continue;
      }
      let body: any;
      try {
        body = answer.text ? JSON.parse(answer.text) : undefined;
      } catch {
        body = answer.text;
      }
      if (answer.status < 200 || answer.status > 299) {
        throw new ApiError(
          answer.status,
          body?.reason ?? String(answer.status),
          body?.message ?? `${method} ${path}: ${answer.status}`,
        );
      }
      return body;
    }
  }

  async #sendNative(method: Method, path: string, options: RequestOptions): Promise<Answer> {
    const url = new URL(this.server + path);
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v !== undefined) url.searchParams.set(k, String(v));
    }
    const headers: Record<string, string> = {
      ...await this.#authHeaders(),
      Accept: "application/json",
      "User-Agent": this.#userAgent,
    };
    if (options.body !== undefined) headers["Content-Type"] = options.contentType ?? "application/json";
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
        client: this.#native!.client,
      });
    } catch (e) {
      if (options.signal?.aborted || (e instanceof DOMException && e.name === "AbortError")) throw e;
      // fetch says only "fetch failed"; the cause names what went wrong (a refused certificate, a reset).
      const cause = (e as { cause?: unknown }).cause;
      throw new Error(cause instanceof Error ? cause.message : errorMessage(e), { cause: e });
    }
    return {
      status: response.status,
      text: await response.text(),
      retryAfter: response.headers.get("Retry-After"),
    };
  }

  async #sendClientNode(method: Method, path: string, options: RequestOptions): Promise<Answer> {
    const ctx = this.#servers.makeRequestContext(path, method as k8s.HttpMethod);
    if (options.signal) ctx.setSignal(options.signal);
    for (const [k, v] of Object.entries(options.query ?? {})) {
      if (v !== undefined) ctx.setQueryParam(k, String(v));
    }
    ctx.setHeaderParam("Accept", "application/json");
    ctx.setHeaderParam("User-Agent", this.#userAgent);
    if (options.body !== undefined) {
      ctx.setHeaderParam("Content-Type", options.contentType ?? "application/json");
      ctx.setBody(JSON.stringify(options.body));
    }
    await this.kc.applySecurityAuthentication(ctx);
    const response = await this.#http.send(ctx).toPromise();
    return {
      status: response.httpStatusCode,
      text: await response.body.text(),
      retryAfter: response.headers["retry-after"] ?? null,
    };
  }

  #verb(method: string, path: string, query?: Record<string, unknown>): string {
    if (method !== "GET") return VERB[method] ?? method.toLowerCase();
    if (query?.watch) return "watch";
    // A collection path ends in a resource name: /api/v1/namespaces, /apis/g/v/namespaces/ns/things
    const parts = path.split("/").filter(Boolean);
    const isCore = parts[0] === "api";
    const rest = parts.slice(isCore ? 2 : 3);
    return rest.length % 2 === 1 ? "list" : "get";
  }

  get<T = KubeObject>(path: string, options: CallOptions = {}): Promise<T> {
    return this.request<T>("GET", path, options);
  }

  /**
   * Lists a collection page by page (500 at a time). Items get the kind their list names (FooList → Foo),
   * since the API server leaves it out; the list's resourceVersion comes back for a watch to start from.
   */
  async list<T extends KubeObject = KubeObject>(
    path: string,
    options: ListOptions = {},
  ): Promise<ListResult<T>> {
    const items: T[] = [];
    let cont: string | undefined;
    let resourceVersion = "";
    do {
      const page = await this.get<KubeList<T>>(path, {
        query: { ...options.query, limit: 500, continue: cont },
        signal: options.signal,
      });
      const kind = String(page.kind ?? "").replace(/List$/, "");
      for (const item of page.items ?? []) {
        const full = { apiVersion: page.apiVersion, kind, ...item };
        items.push((options.keep ? options.keep(full) : full) as T);
      }
      cont = page.metadata?.continue || undefined;
      resourceVersion = page.metadata?.resourceVersion ?? resourceVersion;
    } while (cont);
    return { items, resourceVersion };
  }

  /**
   * Starts a watch; events arrive through `onEvent`, and `onDone` is called once when it ends
   * (normally, with an error, or when aborted). Returns a function that aborts it.
   */
  async watch(
    path: string,
    options: CallOptions,
    onEvent: (event: WatchEvent) => void,
    onDone: (err?: unknown) => void,
  ): Promise<() => void> {
    options.signal?.throwIfAborted();
    await this.#bucket.take();
    this.options.metrics?.apiRequests.inc({ verb: "watch", code: "started" });
    const params: Record<string, string | number | boolean> = {};
    for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined) params[k] = v;
    const watch = new k8s.Watch(this.kc);
    let done = false;
    const finish = (err?: unknown) => {
      if (done) return;
      done = true;
      onDone(err);
    };
    const controller = await watch.watch(
      path,
      params,
      (type: string, object: KubeObject) => onEvent({ type: type as WatchEvent["type"], object }),
      (err: unknown) => finish(err ?? undefined),
    ).catch((e) => {
      finish(e);
      return undefined;
    });
    const abort = () => {
      try {
        controller?.abort();
      } catch {
        // already ended
      }
      finish(new DOMException("aborted", "AbortError"));
    };
    options.signal?.addEventListener("abort", abort, { once: true });
    return abort;
  }
}

/** A list answer as the API server sends it. */
interface KubeList<T> {
  apiVersion?: string;
  kind?: string;
  items?: T[];
  metadata?: { continue?: string; resourceVersion?: string };
}

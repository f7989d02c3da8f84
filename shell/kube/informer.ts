/**
 * A watch cache (reflector and store): lists, then watches from the list's resourceVersion with bookmarks;
 * resumes from the last resourceVersion when a watch ends, relists on 410 Gone, backs off on errors, and
 * restarts a watch that stays silent too long. Every restart is counted and logged: never a silent stall.
 * Cached objects drop managedFields and the last-applied annotation.
 *
 * @example
 * ```ts
 * import { Informer } from "./informer.ts";
 * import type { KubeClient } from "./client.ts";
 * import { createLogger } from "../runtime/log.ts";
 * import { createMetrics } from "../runtime/metrics.ts";
 * declare const api: KubeClient;
 * const log = createLogger("info");
 * const metrics = createMetrics();
 * const inf = new Informer(api, { path: "/api/v1/namespaces", name: "namespaces" }, {
 *   onChange: (type, obj) => console.log(type, obj.metadata?.name),
 * }, log, metrics);
 * inf.start();
 * await inf.synced;
 * ```
 * @module
 */
import type { KubeObject } from "../../core/types.ts";
import {
  type Indexers,
  newer,
  type ObjectCache,
  objectKey,
  ObjectStore,
  slim,
  type StoreChange,
} from "./object_store.ts";
import { ApiError, isStatus, type KubeClient, lastingFailure, type WatchEvent } from "./client.ts";
import { type Clock, systemClock } from "../runtime/clock.ts";
import { errorMessage, type Logger } from "../runtime/log.ts";
import type { Metrics } from "../runtime/metrics.ts";

/** What to watch. */
export interface InformerSpec {
  /** Collection path, cluster-wide. */
  path: string;
  /** Name for logs and metrics. */
  name: string;
  labelSelector?: string;
  /** A watch with no event or bookmark for this long is restarted. Default 5 minutes. */
  idleTimeoutMs?: number;
  /**
   * Secondary indexes, kept in step with every change to the cache (watch events, relists, and our own
   * writes put in with `observe` or dropped with `drop`): index name → the values an object is filed under.
   */
  indexers?: Indexers;
  /** What the cache keeps of each object, beyond {@link slim} (the mirrors cache: digests for long values). */
  transform?: (obj: KubeObject) => KubeObject;
}

/** What an informer needs of the API client: paged lists and watches. */
export type ListWatchClient = Pick<KubeClient, "list" | "watch">;

/** Change callbacks; they must not block. */
export interface InformerHandlers {
  onChange(type: "ADDED" | "MODIFIED" | "DELETED", obj: KubeObject, old?: KubeObject): void;
  /**
   * Whether the API server answers: false on each failed list or watch, true once a list or a watch
   * succeeds again (a cluster link's health, §10).
   */
  onHealth?(up: boolean, error?: unknown): void;
}

/** The wait before the `attempt`th try in a row (from 1): 1 s, doubling, 30 s at most. */
function backoffMs(attempt: number): number {
  return Math.min(30_000, 1000 * 2 ** Math.min(attempt - 1, 5));
}

/** One list-and-watch cache. */
export class Informer implements ObjectCache {
  readonly #store: ObjectStore;
  readonly #synced = Promise.withResolvers<void>();
  #hasSynced = false;
  #stopped = false;
  #abort?: () => void;
  #resourceVersion = "";
  #lastEvent = 0;
  #cancelIdleCheck?: () => void;
  /** Aborted by stop: ends a backoff sleep at once. */
  readonly #stop = new AbortController();
  /** Ends the current backoff sleep ({@link retryNow}). */
  #wake?: AbortController;

  constructor(
    readonly api: ListWatchClient,
    readonly spec: InformerSpec,
    readonly handlers: InformerHandlers,
    readonly log: Logger,
    readonly metrics?: Metrics,
    readonly clock: Clock = systemClock,
  ) {
    this.#store = new ObjectStore(spec.indexers);
  }

  /** Resolves once the first list is in the cache. */
  get synced(): Promise<void> {
    return this.#synced.promise;
  }

  get hasSynced(): boolean {
    return this.#hasSynced;
  }

  /** The cached object at `key`. */
  get(key: string): KubeObject | undefined {
    return this.#store.get(key);
  }

  /** Every cached object. */
  list(): KubeObject[] {
    return this.#store.list();
  }

  /** The cached objects filed under `value` in the index `name`. */
  byIndex(name: string, value: string): KubeObject[] {
    return this.#store.byIndex(name, value);
  }

  /** The values the index `name` holds objects under. */
  indexValues(name: string): string[] {
    return this.#store.indexValues(name);
  }

  get size(): number {
    return this.#store.size;
  }

  /**
   * Puts the answer of our own write into the cache ahead of its watch event, unless the cache already
   * holds a newer version, so that a reconcile right after a write does not act on the old object.
   */
  observe(obj: KubeObject): void {
    const key = objectKey(obj);
    const cached = this.#store.get(key);
    // The same version already cached (its watch event came first) is the same object: not kept twice.
    const same = cached?.metadata?.resourceVersion === obj.metadata?.resourceVersion;
    if (cached && (same || newer(cached, obj))) return;
    this.#store.put(key, this.#keep(obj));
  }

  /** Drops an object we deleted, ahead of its watch event. */
  drop(key: string): void {
    this.#store.remove(key);
  }

  /** What the cache keeps of an object. */
  #keep(obj: KubeObject): KubeObject {
    const slimmed = slim(obj);
    return this.spec.transform ? this.spec.transform(slimmed) : slimmed;
  }

  /** Starts the list-and-watch loop in the background. */
  start(): void {
    this.#run().catch((e) =>
      this.log.error("informer loop ended", { informer: this.spec.name, error: errorMessage(e) })
    );
  }

  /**
   * Ends a backoff at once: the API server answered another watch (it is back from an outage), so this
   * one need not wait out the outage's backoff.
   */
  retryNow(): void {
    this.#wake?.abort();
  }

  /** Stops the loop and the watch. */
  stop(): void {
    this.#stopped = true;
    this.#cancelIdleCheck?.();
    this.#abort?.();
    this.#stop.abort();
    this.metrics?.watchLastEvent.remove({ resource: this.spec.name });
  }

  #touch(): void {
    this.#lastEvent = this.clock.now();
    this.metrics?.watchLastEvent.set({ resource: this.spec.name }, this.#lastEvent / 1000);
  }

  /** Lists and hands the changes on; false when the handlers failed on some (listed again after a backoff). */
  async #list(): Promise<boolean> {
    // Each item is slimmed as its page arrives: a list of 100,000 mirrors never holds them all whole; and
    // one the cache holds at this very version (a relist) is the cached copy, not a second one beside it.
    const { items, resourceVersion: rv } = await this.api.list(this.spec.path, {
      query: { labelSelector: this.spec.labelSelector },
      keep: (item) => {
        const cached = this.#store.get(objectKey(item));
        const version = item.metadata?.resourceVersion;
        return cached && version !== undefined && cached.metadata?.resourceVersion === version
          ? cached
          : this.#keep(item);
      },
    });
    const changes = this.#store.replace(items, rv);
    this.#resourceVersion = rv;
    this.#touch();
    this.handlers.onHealth?.(true);
    // Every change is handed on, even past one the handlers fail on: that one is put back as it was, and
    // the next list hands it on again.
    let failed = 0;
    for (const c of changes) {
      if (!this.#handOn(c.type, c.obj, c.old, "a listed change could not be handled; listing again")) {
        failed++;
      }
    }
    if (failed > 0) return false;
    if (!this.#hasSynced) {
      this.#hasSynced = true;
      this.#synced.resolve();
    }
    return true;
  }

  /**
   * Hands one change to the handlers. When they fail on it, says so and puts the cache back as it was
   * before the change (an added object forgotten, a modified or deleted one as it was), so that the next
   * list finds the same change again and hands it on: a failure is retried, never lost.
   */
  #handOn(type: StoreChange["type"], obj: KubeObject, old: KubeObject | undefined, message: string): boolean {
    try {
      this.handlers.onChange(type, obj, old);
      return true;
    } catch (e) {
      const key = objectKey(obj);
      this.log.error(message, {
        informer: this.spec.name,
        object: key,
        change: type,
        error: errorMessage(e),
      });
      if (old) this.#store.put(key, old);
      else this.#store.remove(key);
      return false;
    }
  }

  /** Puts a watch event in the cache and hands it on; false when the handlers failed on it. */
  #apply(event: WatchEvent): boolean {
    this.#touch();
    const rv = event.object?.metadata?.resourceVersion;
    if (event.type === "BOOKMARK") {
      if (rv) this.#resourceVersion = rv;
      return true;
    }
    const key = objectKey(event.object);
    const before = this.#store.get(key);
    if (event.type !== "DELETED" && rv !== undefined && before?.metadata?.resourceVersion === rv) {
      // The very version the cache holds (our own write, put in from its answer): nothing changed, so
      // nothing is copied, indexed or handed on. The API server gives every change a new resourceVersion.
      this.#resourceVersion = rv;
      return true;
    }
    const obj = this.#keep(event.object);
    if (before && newer(before, obj)) {
      // An event older than what we hold: typically the DELETED of the object we replaced, arriving after
      // our own create was observed. Applying it would drop the new object from the cache.
      if (rv) this.#resourceVersion = rv;
      return true;
    }
    if (event.type === "DELETED") this.#store.remove(key);
    else this.#store.put(key, obj);
    const type = event.type === "DELETED" ? "DELETED" : before ? "MODIFIED" : "ADDED";
    if (!this.#handOn(type, obj, before, "a watch event could not be handled; listing again")) return false;
    if (rv) this.#resourceVersion = rv;
    return true;
  }

  /** Restarts a watch that has had no event or bookmark for `idleMs`; checks every `idleMs / 2` (10 s at most). */
  #checkIdle(idleMs: number): void {
    if (this.#stopped) return;
    if (this.#abort && this.clock.now() - this.#lastEvent > idleMs) {
      this.log.warn("watch silent for too long; restarting it", {
        informer: this.spec.name,
        idleSeconds: idleMs / 1000,
      });
      this.metrics?.watchRestarts.inc({ resource: this.spec.name, reason: "idle" });
      this.#abort();
    }
    const every = Math.max(100, Math.min(idleMs / 2, 10_000));
    this.#cancelIdleCheck = this.clock.after(every, () => this.#checkIdle(idleMs));
  }

  async #run(): Promise<void> {
    let needList = true;
    let failures = 0;
    /** Lists in a row whose changes the handlers failed on. */
    let unhandledLists = 0;
    /** Watches in a row the server closed at once, with no event. */
    let instantWatches = 0;
    /** Whether the last failure was an answer of the API server (not a connection that failed). */
    let answered: boolean | undefined;
    this.#checkIdle(this.spec.idleTimeoutMs ?? 300_000);
    while (!this.#stopped) {
      try {
        if (needList) {
          if (!(await this.#list())) {
            // The handlers failed on some of the list (each said): listed again after a wait, 1 s doubling
            // to 30 s, so that a handler that always fails cannot keep the API server listing.
            unhandledLists++;
            this.metrics?.watchRestarts.inc({ resource: this.spec.name, reason: "failed" });
            await this.#pause(backoffMs(unhandledLists));
            continue;
          }
          unhandledLists = 0;
          needList = false;
        }
        const ended = await this.#watchUntilEnd();
        if (this.#stopped) break;
        if (ended === "instant") {
          // Closed by the server as soon as it began, with nothing in it (a proxy's timeout in front of the
          // API server, say): resumed after a wait, 1 s doubling to 30 s, not in a loop of requests.
          instantWatches++;
          const waitMs = backoffMs(instantWatches);
          (instantWatches >= 5 ? this.log.error : this.log.warn)(
            "watch closed by the server as soon as it started; waiting before the next",
            { informer: this.spec.name, attempt: instantWatches, retryInMs: waitMs },
          );
          this.metrics?.watchRestarts.inc({ resource: this.spec.name, reason: "closed" });
          await this.#pause(waitMs);
          continue;
        }
        instantWatches = 0;
        failures = 0;
        answered = undefined;
        if (ended === "expired") {
          this.log.info("watch expired (410 Gone); relisting", { informer: this.spec.name });
          needList = true;
        }
        if (ended === "failed") needList = true;
        if (ended !== "aborted") this.metrics?.watchRestarts.inc({ resource: this.spec.name, reason: ended });
      } catch (e) {
        if (this.#stopped) break;
        // An API server back from an outage may refuse at first (403 before it has read its RBAC):
        // its first answer starts a backoff of its own, not the outage's 30 s.
        const answer = e instanceof ApiError;
        failures = answered === false && answer ? 1 : failures + 1;
        answered = answer;
        this.handlers.onHealth?.(false, e);
        // After repeated failures, relist: the resourceVersion may be too old.
        if (isStatus(e, 410) || failures >= 3) needList = true;
        await this.#backOff(e, failures);
      }
    }
  }

  /**
   * Watches from the last resourceVersion until the watch ends: `expired` (410 Gone: relist), `closed`
   * by the server (resume), `instant`: closed by the server within a second with no event (resume after a
   * wait), `aborted` by us (idle, or stop), `failed` when an event could not be handled (relist). Any other
   * end is thrown.
   */
  async #watchUntilEnd(): Promise<"expired" | "closed" | "instant" | "aborted" | "failed"> {
    const ended = Promise.withResolvers<unknown>();
    const began = this.clock.now();
    let events = 0;
    let gone = false;
    let failed = false;
    let endedEarly = false;
    // Server-side timeouts spread watch restarts out, as client-go does.
    const timeoutSeconds = 240 + Math.floor(Math.random() * 120);
    const query = {
      watch: true,
      labelSelector: this.spec.labelSelector,
      resourceVersion: this.#resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds,
    };
    this.#abort = await this.api.watch(this.spec.path, { query }, (event) => {
      events++;
      if (event.type !== "ERROR") {
        try {
          if (this.#apply(event)) return;
          failed = true;
          this.#abort?.();
        } catch (e) {
          // client-node drops what this callback throws without a word, and the event with it. A failure
          // of the handlers is said and undone by #apply; anything else (the cache's transform or indexes)
          // here: the object is forgotten and the collection listed again, so the cache and the handlers
          // see it.
          const key = event.object?.metadata ? objectKey(event.object) : undefined;
          this.log.error("a watch event could not be handled; listing again", {
            informer: this.spec.name,
            object: key,
            error: errorMessage(e),
          });
          if (key !== undefined) this.#store.remove(key);
          failed = true;
          this.#abort?.();
        }
        return;
      }
      const status = event.object as { code?: number; message?: string };
      if (status.code === 410) gone = true;
      else this.log.warn("watch error event", { informer: this.spec.name, message: status.message });
      this.#abort?.();
    }, (err) => {
      endedEarly = true;
      ended.resolve(err);
    });
    this.#touch();
    // A watch that could not start (connection refused, an error status) ended before it was handed
    // back: the API server did not answer it, so it says nothing of its health.
    if (!endedEarly) this.handlers.onHealth?.(true);
    const err = await ended.promise;
    this.#abort = undefined;
    if (gone) return "expired";
    if (failed) return "failed";
    const aborted = err instanceof Error && (err.name === "AbortError" || /aborted/i.test(err.message));
    if (err && !aborted) throw err;
    if (aborted) return "aborted";
    return events === 0 && this.clock.now() - began < 1000 ? "instant" : "closed";
  }

  /** Waits before the next try: 1 s, doubling, 30 s at most; says how bad the failure is. */
  async #backOff(e: unknown, failures: number): Promise<void> {
    const backoff = backoffMs(failures);
    // Some failures no retry can fix (a refused certificate, missing rights or permissions): those,
    // and any failure that keeps coming back, are errors for the operator; passing ones are warnings.
    const permanent = lastingFailure(e);
    (permanent || failures >= 5 ? this.log.error : this.log.warn)(
      permanent
        ? "watch failed and will keep failing until the cause is fixed; retrying"
        : "watch failed; retrying",
      {
        informer: this.spec.name,
        error: errorMessage(e),
        status: e instanceof ApiError ? e.status : undefined,
        attempt: failures,
        retryInMs: backoff,
      },
    );
    this.metrics?.watchRestarts.inc({ resource: this.spec.name, reason: "error" });
    await this.#pause(backoff);
  }

  /** Sleeps `ms`, or less: stopped, or woken by {@link retryNow}. */
  async #pause(ms: number): Promise<void> {
    this.#wake = new AbortController();
    await this.clock.sleep(ms, AbortSignal.any([this.#stop.signal, this.#wake.signal]));
    this.#wake = undefined;
  }
}

/**
 * The controller's lifecycle and work loop: watch events → queue → `reconcile(key)` → result → queue. The
 * concerns live beside it, each in its own file: the watches and discovery (`kind_watches.ts`), which
 * keys an event wakes (`event_handlers.ts`), one key's reconcile (`reconciler.ts`) and what is written
 * back on the source (`source_status.ts`). Only the leader works the queue, and only this loop touches
 * it; standbys keep warm caches and write nothing. Losing the Lease aborts every write in flight.
 *
 * @example
 * ```ts
 * import { Controller } from "./controller.ts";
 * import type { KubeClient } from "../kube/client.ts";
 * import { parseFlags } from "../config/flags.ts";
 * import { createLogger } from "../runtime/log.ts";
 * import { createMetrics } from "../runtime/metrics.ts";
 * declare const client: KubeClient;
 * const parsed = parseFlags([]);
 * if (!parsed.ok) throw new Error(parsed.error);
 * const c = new Controller({ client, flags: parsed.flags, log: createLogger("info"), metrics: createMetrics(),
 *   identity: "pod-a" });
 * await c.start();
 * c.startWorkers(); // once leader
 * ```
 * @module
 */
import { keyForSource, keysForMirror, keysForNamespace, resyncKeys } from "./event_handlers.ts";
import type { ControllerFlags } from "../config/flags.ts";
import { KindWatches } from "./kind_watches.ts";
import type { KubeClient } from "../kube/client.ts";
import { errorMessage, type Logger } from "../runtime/log.ts";
import type { Metrics } from "../runtime/metrics.ts";
import { controllerLabel, parseKey } from "./names.ts";
import { Reconciler } from "./reconciler.ts";
import { WorkQueue } from "./work_queue.ts";

/** What the controller needs. */
export interface ControllerOptions {
  client: KubeClient;
  flags: ControllerFlags;
  log: Logger;
  metrics: Metrics;
  identity: string;
}

/** The mirroring controller. */
export class Controller {
  readonly queue: WorkQueue;
  readonly watches: KindWatches;
  readonly reconciler: Reconciler;
  #leader = false;
  #stopped = false;
  /** Aborted when the Lease is lost or the process stops: every write carries its signal. */
  readonly #writes = new AbortController();
  #resyncTimer?: ReturnType<typeof setInterval>;
  #workers: Promise<void>[] = [];
  readonly #log: Logger;

  constructor(readonly options: ControllerOptions) {
    this.#log = options.log;
    this.queue = new WorkQueue("sources", options.metrics);
    this.watches = new KindWatches(options, {
      source: (gk, obj) => {
        const key = keyForSource(gk, obj);
        this.reconciler.noteChange(key);
        this.#enqueue(key);
      },
      mirror: (gk, obj, old) => {
        for (const key of keysForMirror(gk, obj, old)) this.#enqueue(key);
      },
      namespace: (ns, old) => {
        for (const key of keysForNamespace(ns, old, this.watches.kinds, options.flags.config)) {
          this.#enqueue(key);
        }
      },
    });
    this.reconciler = new Reconciler({
      ...options,
      namespaces: this.watches.namespaces,
      kind: (gk) => this.watches.kinds.get(gk),
    });
  }

  /** Whether every cache has synced and discovery has run once. */
  get ready(): boolean {
    return this.watches.ready;
  }

  /** Starts the caches and discovery; resolves once they are synced. */
  async start(): Promise<void> {
    await this.watches.start();
    this.#resyncTimer = setInterval(() => this.#resync(), this.options.flags.resyncPeriodMs);
    this.#log.info("caches synced", {
      kinds: this.watches.kinds.size,
      namespaces: this.watches.namespaces.size,
    });
  }

  /** Becomes the leader: work the queue with `--worker-threads` workers, starting with every source. */
  startWorkers(): void {
    if (this.#leader || this.#stopped) return;
    this.#leader = true;
    this.options.metrics.leader.set(1);
    for (let i = 0; i < this.options.flags.workerThreads; i++) this.#workers.push(this.#work());
    this.#resync();
  }

  /** The Lease is lost: no write starts from now on, and those in flight are aborted. */
  abortWrites(): void {
    this.#leader = false;
    this.options.metrics.leader.set(0);
    this.queue.shutDown();
    this.#writes.abort(new Error("the Lease was lost"));
  }

  /** Stops taking work, waits for in-flight reconciles (at most `graceMs`, then aborts them), stops the caches. */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopped = true;
    this.#leader = false;
    this.options.metrics.leader.set(0);
    this.queue.shutDown();
    clearInterval(this.#resyncTimer);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<void>((r) => (timer = setTimeout(r, graceMs)));
    await Promise.race([Promise.all(this.#workers), timeout]);
    clearTimeout(timer);
    this.#writes.abort(new Error("the controller stopped"));
    await Promise.all(this.#workers);
    this.watches.stop();
  }

  /** The one owner of retries: only this loop adds back, backs off or forgets a key. */
  async #work(): Promise<void> {
    while (true) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const k = this.watches.kinds.get(parseKey(key).gk);
      const label = k ? controllerLabel(k.kind) : parseKey(key).gk;
      const end = this.options.metrics.reconcileDuration.startTimer({ controller: label });
      const started = performance.now();
      try {
        const result = await this.reconciler.reconcile(key, this.#writes.signal);
        const outcome = result.requeue === "no"
          ? "success"
          : result.requeue === "after"
          ? "requeue_after"
          : "requeue";
        this.#log.debug("reconciled", { key, result: outcome, ms: Math.round(performance.now() - started) });
        this.options.metrics.reconcileTotal.inc({ controller: label, result: outcome });
        if (result.requeue === "backoff") this.queue.addRateLimited(key);
        else {
          this.queue.forget(key);
          if (result.requeue === "after") this.queue.addAfter(key, result.ms);
        }
      } catch (e) {
        this.options.metrics.reconcileTotal.inc({ controller: label, result: "error" });
        if (!this.#writes.signal.aborted) {
          this.#log.error("reconcile failed", { key, error: errorMessage(e) });
        }
        this.queue.addRateLimited(key);
      } finally {
        end();
        this.queue.done(key);
      }
    }
  }

  #enqueue(key: string): void {
    if (this.#leader && !this.#stopped) this.queue.add(key);
  }

  #resync(): void {
    this.reconciler.pruneFights();
    for (const key of resyncKeys(this.watches.kinds)) this.#enqueue(key);
  }
}

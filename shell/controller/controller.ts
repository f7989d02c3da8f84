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
import {
  keyForSource,
  keysForMirror,
  keysForNamespace,
  keysForSource,
  resyncKeys,
} from "./event_handlers.ts";
import type { ControllerFlags } from "../config/flags.ts";
import { KindWatches } from "./kind_watches.ts";
import type { KubeClient } from "../kube/client.ts";
import { type Clock, systemClock } from "../runtime/clock.ts";
import type { Logger } from "../runtime/log.ts";
import type { Metrics } from "../runtime/metrics.ts";
import { controllerLabel } from "../../core/group_kind.ts";
import { parseKey } from "./queue_keys.ts";
import { Reconciler } from "./reconciler.ts";
import { runWorker } from "./work_loop.ts";
import { WorkQueue } from "./work_queue.ts";

/** What the controller needs. */
export interface ControllerOptions {
  client: KubeClient;
  flags: ControllerFlags;
  log: Logger;
  metrics: Metrics;
  identity: string;
  /** Time for the queue, the caches, resyncs and fights; the process's clock by default. */
  clock?: Clock;
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
  #cancelResync?: () => void;
  #workers: Promise<void>[] = [];
  readonly #log: Logger;
  readonly #clock: Clock;

  constructor(readonly options: ControllerOptions) {
    this.#log = options.log;
    this.#clock = options.clock ?? systemClock;
    this.queue = new WorkQueue("sources", options.metrics, undefined, undefined, this.#clock);
    this.watches = new KindWatches({ ...options, clock: this.#clock }, {
      source: (gk, obj) => {
        const k = this.watches.kinds.get(gk);
        for (const key of k ? keysForSource(gk, obj, k.sources) : [keyForSource(gk, obj)]) {
          this.reconciler.noteChange(key);
          this.#enqueue(key);
        }
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
      kinds: () => this.watches.kinds.values(),
      now: () => this.#clock.now(),
    });
  }

  /** Whether every cache has synced and discovery has run once. */
  get ready(): boolean {
    return this.watches.ready;
  }

  /** Starts the caches and discovery; resolves once they are synced. */
  async start(): Promise<void> {
    await this.watches.start();
    this.#scheduleResync();
    this.#log.info("caches synced", {
      kinds: this.watches.kinds.size,
      namespaces: this.watches.namespaces.size,
    });
  }

  /** Becomes the leader: work the queue with `--worker-threads` workers, starting with every source. */
  startWorkers(): void {
    if (this.#leader || this.#stopped) return;
    this.#lead(true);
    const worker = {
      queue: this.queue,
      reconcile: (key: string, signal?: AbortSignal) => this.reconciler.reconcile(key, signal),
      label: (key: string) => {
        const gk = parseKey(key).gk;
        const k = this.watches.kinds.get(gk);
        return k ? controllerLabel(k.kind) : gk;
      },
      log: this.#log,
      metrics: this.options.metrics,
      signal: this.#writes.signal,
    };
    for (let i = 0; i < this.options.flags.workerThreads; i++) this.#workers.push(runWorker(worker));
    this.#resync();
  }

  /** The Lease is lost: no write starts from now on, and those in flight are aborted. */
  abortWrites(): void {
    this.#lead(false);
    this.queue.shutDown();
    this.#writes.abort(new Error("the Lease was lost"));
  }

  /** Stops taking work, waits for in-flight reconciles (at most `graceMs`, then aborts them), stops the caches. */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopped = true;
    this.#lead(false);
    this.queue.shutDown();
    this.#cancelResync?.();
    const finished = new AbortController();
    await Promise.race([Promise.all(this.#workers), this.#clock.sleep(graceMs, finished.signal)]);
    finished.abort();
    this.#writes.abort(new Error("the controller stopped"));
    await Promise.all(this.#workers);
    this.watches.stop();
  }

  /** The one owner of the leader gauge: 1 exactly while this replica works the queue and may write. */
  #lead(on: boolean): void {
    this.#leader = on;
    this.options.metrics.leader.set(on ? 1 : 0);
  }

  #scheduleResync(): void {
    this.#cancelResync = this.#clock.after(this.options.flags.resyncPeriodMs, () => {
      this.#resync();
      if (!this.#stopped) this.#scheduleResync();
    });
  }

  #enqueue(key: string): void {
    if (this.#leader && !this.#stopped) this.queue.add(key);
  }

  #resync(): void {
    this.reconciler.pruneFights();
    for (const key of resyncKeys(this.watches.kinds)) this.#enqueue(key);
  }
}

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
  keysForLink,
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
import { linkKey, linkOfKey, parseKey, sourceKey } from "./queue_keys.ts";
import { ClusterLinks } from "./cluster_links.ts";
import { DEFAULT_CLUSTER_NAME } from "../../core/markers.ts";
import { Reconciler } from "./reconciler.ts";
import { runWorker } from "./work_loop.ts";
import { WorkQueue } from "./work_queue.ts";

/**
 * How long a source woken by a namespace event waits for the next ones: 200 new namespaces created over
 * two seconds plan each source about ten times instead of once per namespace. A new namespace's mirrors
 * come this much later.
 */
const NAMESPACE_BATCH_MS = 200;

/** What the controller needs. */
export interface ControllerOptions {
  client: KubeClient;
  flags: ControllerFlags;
  log: Logger;
  metrics: Metrics;
  identity: string;
  /** Time for the queue, the caches, resyncs and fights; the process's clock by default. */
  clock?: Clock;
  /**
   * Makes a read-only client for a cluster link's upstream from its kubeconfig (§10). Without it, link
   * Secrets are not watched.
   */
  connect?: (kubeconfig: string, cluster: string) => KubeClient;
}

/** The mirroring controller. */
export class Controller {
  readonly queue: WorkQueue;
  readonly watches: KindWatches;
  readonly reconciler: Reconciler;
  /** Cluster links (§10), when the controller may connect to upstreams. */
  readonly links?: ClusterLinks;
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
        const at = [obj.metadata?.namespace ?? ""];
        for (const key of keysForMirror(gk, obj, old)) {
          // Only that namespace changed for the source: its next plan may be of it alone.
          this.reconciler.noteNamespaces(key, at);
          this.#enqueue(key);
        }
      },
      namespace: (ns, old) => {
        const at = [ns.metadata?.name ?? ""];
        for (
          const key of keysForNamespace(ns, old, this.watches.kinds, options.flags.config, this.#linkSources)
        ) {
          this.reconciler.noteNamespaces(key, at);
          // Namespaces come in bursts (a team's environments, a test run): one plan per source per window.
          this.#enqueue(key, NAMESPACE_BATCH_MS);
        }
      },
      kinds: (kinds) => this.links?.watchKinds(kinds),
    });
    if (options.connect) {
      this.links = new ClusterLinks({
        client: options.client,
        connect: options.connect,
        namespace: options.flags.leaderElectionNamespace,
        clusterName: options.flags.config.clusterName ?? DEFAULT_CLUSTER_NAME,
        idleTimeoutMs: options.flags.watchIdleTimeoutMs,
        log: options.log,
        metrics: options.metrics,
        clock: this.#clock,
      }, {
        source: (cluster, gk, obj) => {
          const key = sourceKey(gk, obj.metadata?.namespace ?? "", obj.metadata?.name ?? "", cluster);
          this.reconciler.noteChange(key);
          this.#enqueue(key);
        },
        link: (secret, clusters) => {
          this.#enqueue(linkKey(secret));
          for (const c of clusters) {
            for (const key of keysForLink(c, this.watches.kinds, this.#linkSources)) this.#enqueue(key);
          }
        },
      });
    }
    this.reconciler = new Reconciler({
      ...options,
      namespaces: this.watches.namespaces,
      kind: (gk) => this.watches.kinds.get(gk),
      kinds: () => this.watches.kinds.values(),
      now: () => this.#clock.now(),
      keysInFlight: () => this.queue.working,
      ...(this.links ? { links: this.links } : {}),
    });
  }

  /** The sources read through links, per kind, for the event handlers. */
  readonly #linkSources = (gk: string) =>
    [...(this.links?.sourcesOfKind(gk) ?? [])].map(({ cluster, sources }) => ({ cluster, sources }));

  /** Whether every cache has synced and discovery has run once. */
  get ready(): boolean {
    return this.watches.ready && (this.links?.hasSynced ?? true);
  }

  /** Starts the caches and discovery; resolves once they are synced. */
  async start(): Promise<void> {
    // Link Secrets are listed before the first plan: a link not seen yet must not read as removed.
    await Promise.all([this.links?.start(), this.watches.start()]);
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
      reconcile: async (key: string, signal?: AbortSignal) => {
        const result = await this.reconciler.reconcile(key, signal);
        // A link's source reconciled: its link-status is looked at again shortly (once for many).
        if (result.cluster) this.#linkStatusSoon(result.cluster);
        return result;
      },
      label: (key: string) => {
        if (linkOfKey(key) !== undefined) return "ClusterLink";
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
    this.links?.stop();
  }

  /** The one owner of the leader gauge: 1 exactly while this replica works the queue and may write. */
  #lead(on: boolean): void {
    this.#leader = on;
    this.reconciler.planAllInFull();
    this.options.metrics.leader.set(on ? 1 : 0);
  }

  #scheduleResync(): void {
    this.#cancelResync = this.#clock.after(this.options.flags.resyncPeriodMs, () => {
      this.#resync();
      if (!this.#stopped) this.#scheduleResync();
    });
  }

  /** Queues a key while leading; with `batchMs`, once for every event in that window from the first. */
  #enqueue(key: string, batchMs?: number): void {
    if (!this.#leader || this.#stopped) return;
    if (batchMs === undefined) this.queue.add(key);
    else this.queue.addBatched(key, batchMs);
  }

  #resync(): void {
    this.reconciler.pruneFights();
    // A resync looks at every namespace again: whatever no event said.
    this.reconciler.planAllInFull();
    for (const key of resyncKeys(this.watches.kinds, this.#linkSources)) this.#enqueue(key);
    for (const name of this.links?.links.keys() ?? []) this.#enqueue(linkKey(name));
  }

  #linkStatusSoon(cluster: string): void {
    for (const [name, link] of this.links?.links ?? []) {
      if (link.cluster === cluster && this.#leader && !this.#stopped) {
        this.queue.addAfter(linkKey(name), 1000);
      }
    }
  }
}

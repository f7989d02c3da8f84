/**
 * The controller's watches: namespaces, CustomResourceDefinitions, and per mirrorable kind its sources
 * (label `enabled`) and mirrors (label `mirror`, indexed by name, source and namespace). Discovery runs
 * at start, on an interval and when a CRD changes; it asks the API server what this identity may do with
 * each kind and watches only the kinds it may serve, saying once which it skips and why.
 *
 * @example
 * ```ts
 * import { KindWatches } from "./kind_watches.ts";
 * import type { KubeClient } from "../kube/client.ts";
 * import { parseFlags } from "../config/flags.ts";
 * import { createLogger } from "../runtime/log.ts";
 * import { createMetrics } from "../runtime/metrics.ts";
 * declare const client: KubeClient;
 * const parsed = parseFlags([]);
 * if (!parsed.ok) throw new Error(parsed.error);
 * const watches = new KindWatches({ client, flags: parsed.flags, log: createLogger("info"), metrics: createMetrics() }, {
 *   source: (gk, obj) => console.log("source changed", gk, obj.metadata?.name),
 *   mirror: (gk, obj) => console.log("mirror changed", gk, obj.metadata?.name),
 *   namespace: (ns) => console.log("namespace changed", ns.metadata?.name),
 * });
 * await watches.start();
 * watches.ready; // true once every watch has synced
 * ```
 * @module
 */
import { slimMaps } from "../../core/content_digest.ts";
import { StringPool } from "../kube/string_pool.ts";
import { groupKindKey, kindLabel, rbacResource, resourceType } from "../../core/group_kind.ts";
import { diffWatchedKinds, type DiscoveredKind, kindAccess, RBAC_HINT } from "../../core/kind_access.ts";
import { LABEL_ENABLED, LABEL_MIRROR } from "../../core/markers.ts";
import type { MirrorableKind } from "../../core/mirrorable.ts";
import type { KubeObject } from "../../core/types.ts";
import type { ControllerFlags } from "../config/flags.ts";
import { missingVerbs } from "../kube/access_review.ts";
import { type KubeClient, resourcePath } from "../kube/client.ts";
import { discoverKinds } from "../kube/discovery.ts";
import { Informer } from "../kube/informer.ts";
import { InformerGroup } from "../kube/informer_group.ts";
import type { ObjectCache } from "../kube/object_store.ts";
import { type Clock, systemClock } from "../runtime/clock.ts";
import { errorMessage, type Logger } from "../runtime/log.ts";
import type { Metrics } from "../runtime/metrics.ts";
import { MIRROR_INDEXERS, SOURCE_INDEXERS } from "./mirror_indexes.ts";

/** The caches and rights of one mirrorable kind. */
export interface KindState {
  kind: MirrorableKind;
  /** Write verbs the controller's identity lacks on this kind; its sources then get an Event, nothing is written. */
  missingVerbs: string[];
  sources: ObjectCache;
  /** Mirrors, indexed as {@link MIRROR_INDEXERS} says (by name, by source, by namespace). */
  mirrors: ObjectCache;
}

/** The watches of one mirrorable kind. */
export interface KindWatch extends KindState {
  sources: Informer;
  mirrors: Informer;
}

/** Where watch events go (the event handlers turn them into queue keys). */
export interface WatchEvents {
  source(gk: string, obj: KubeObject, old?: KubeObject): void;
  mirror(gk: string, obj: KubeObject, old?: KubeObject): void;
  namespace(ns: KubeObject, old?: KubeObject): void;
  /** The kinds watched, after each discovery (cluster links watch the same kinds upstream). */
  kinds?(kinds: MirrorableKind[]): void;
}

/** What the watches need. */
export interface WatchDeps {
  client: KubeClient;
  flags: Pick<ControllerFlags, "watchIdleTimeoutMs" | "discoveryIntervalMs" | "resourceTypes">;
  log: Logger;
  metrics: Metrics;
  clock?: Clock;
}

/** Namespaces, CRDs and one source and one mirror watch per kind the controller may serve. */
export class KindWatches {
  readonly kinds = new Map<string, KindWatch>();
  readonly namespaces: Informer;
  readonly crds: Informer;
  /** One copy of the values cached mirrors share (their source's name, hash, digests), for every kind. */
  readonly #strings = new StringPool();
  #stopped = false;
  #discovered = false;
  #discovery: Promise<void> = Promise.resolve();
  #cancelDiscovery?: () => void;
  #cancelPeriodicDiscovery?: () => void;
  readonly #clock: Clock;
  /** What this identity may do with each discovered kind, as last logged. */
  readonly #access = new Map<string, string>();
  /** Every cache of this cluster, woken together after an outage. */
  readonly #group = new InformerGroup();

  constructor(readonly deps: WatchDeps, readonly events: WatchEvents) {
    this.#clock = deps.clock ?? systemClock;
    this.namespaces = this.#informer("/api/v1/namespaces", "namespaces", {
      onChange: (_type, ns, old) => events.namespace(ns, old),
    }, { transform: namespaceRecord });
    this.crds = this.#informer(
      "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
      "customresourcedefinitions",
      {
        onChange: (type, crd, old) => {
          if (type !== "MODIFIED" || established(crd) !== established(old)) this.scheduleDiscovery(1000);
        },
      },
    );
  }

  /** Whether every cache has synced and discovery has run once: serving every kind it may serve. */
  get ready(): boolean {
    if (!this.#discovered || !this.namespaces.hasSynced) return false;
    for (const k of this.kinds.values()) if (!k.sources.hasSynced || !k.mirrors.hasSynced) return false;
    return true;
  }

  /** Starts the caches and discovery; resolves once they are synced. */
  async start(): Promise<void> {
    this.namespaces.start();
    this.crds.start();
    await this.namespaces.synced;
    await this.#runDiscovery();
    await Promise.all([...this.kinds.values()].flatMap((k) => [k.sources.synced, k.mirrors.synced]));
    this.#schedulePeriodicDiscovery();
  }

  /** Stops every watch and timer. */
  stop(): void {
    this.#stopped = true;
    this.#cancelDiscovery?.();
    this.#cancelPeriodicDiscovery?.();
    this.namespaces.stop();
    this.crds.stop();
    for (const k of this.kinds.values()) {
      k.sources.stop();
      k.mirrors.stop();
    }
  }

  /** Runs discovery after `delayMs` (a later call replaces an earlier one). */
  scheduleDiscovery(delayMs: number): void {
    this.#cancelDiscovery?.();
    this.#cancelDiscovery = this.#clock.after(delayMs, () => void this.#runDiscovery());
  }

  #schedulePeriodicDiscovery(): void {
    this.#cancelPeriodicDiscovery = this.#clock.after(this.deps.flags.discoveryIntervalMs, () => {
      if (this.#stopped) return;
      this.scheduleDiscovery(0);
      this.#schedulePeriodicDiscovery();
    });
  }

  /** Discovery runs one at a time; each run snapshots nothing across its API calls and commits a diff. */
  #runDiscovery(): Promise<void> {
    this.#discovery = this.#discovery.then(() => this.#discover()).catch((e) => {
      this.deps.metrics.discoveryErrors.inc();
      this.deps.log.error("discovery failed; keeping the kinds watched so far", { error: errorMessage(e) });
    });
    return this.#discovery;
  }

  /** Asks what is mirrorable and what this identity may do with it, then carries out the core's diff. */
  async #discover(): Promise<void> {
    if (this.#stopped) return;
    const { client, log, metrics } = this.deps;
    const { kinds, errors } = await discoverKinds(client, this.deps.flags.resourceTypes, log);
    for (const e of errors) log.warn("resource type not mirrored", { reason: e });
    // Ask what this identity may do before watching anything: a kind it may not list is skipped with
    // one log line, never retried against Forbidden.
    const lacking = await Promise.all(kinds.map((k) => missingVerbs(client, k)));
    const discovered = kinds.map((kind, i): DiscoveredKind => ({ kind, missingVerbs: lacking[i] }));
    if (this.#stopped) return;
    for (const d of discovered) this.#reportAccess(d);
    const diff = diffWatchedKinds(new Map([...this.kinds].map(([gk, w]) => [gk, w.kind])), discovered);
    for (const gk of diff.stop) this.#drop(gk);
    for (const d of diff.keep) this.kinds.get(groupKindKey(d.kind))!.missingVerbs = d.missingVerbs;
    const added = diff.start.map((d) => this.#watch(d));
    metrics.watchedKinds.set(this.kinds.size);
    this.events.kinds?.([...this.kinds.values()].map((k) => k.kind));
    if (added.length > 0 || !this.#discovered) {
      log.info("resource discovery", {
        kinds: [...this.kinds.values()].map((k) => resourceType(k.kind)),
        added: added.map((k) => k.kind.kind),
      });
    }
    this.#discovered = true;
    await Promise.all(added.flatMap((k) => [k.sources.synced, k.mirrors.synced]));
  }

  /** Says once, in a log line and a gauge, which kinds this identity may not fully serve. */
  #reportAccess({ kind, missingVerbs: lacks }: DiscoveredKind): void {
    const access = kindAccess(lacks);
    const gk = groupKindKey(kind);
    const label = kindLabel(kind);
    const seen = `${access}:${lacks.join(",")}`;
    if (this.#access.get(gk) !== seen && access !== "full") {
      const may = `this ServiceAccount may not ${lacks.join(", ")} ${rbacResource(kind)}`;
      this.deps.log.warn(
        access === "none"
          ? `not watching ${resourceType(kind)}: ${may}`
          : `watching ${resourceType(kind)} read-only: ${may}; its sources get an Event`,
        { kind: label, missingVerbs: lacks, hint: RBAC_HINT },
      );
    }
    this.#access.set(gk, seen);
    const gauge = this.deps.metrics.forbiddenKinds;
    gauge.remove({ kind: label, access: "none" });
    gauge.remove({ kind: label, access: "read-only" });
    if (access !== "full") gauge.set({ kind: label, access }, 1);
  }

  #drop(gk: string): void {
    const k = this.kinds.get(gk);
    if (!k) return;
    k.sources.stop();
    k.mirrors.stop();
    this.#group.forget(k.sources);
    this.#group.forget(k.mirrors);
    this.kinds.delete(gk);
    this.deps.metrics.mirrorResources.remove({ kind: kindLabel(k.kind) });
    this.deps.log.info("stopped watching kind", { kind: kindLabel(k.kind) });
  }

  #watch({ kind, missingVerbs }: DiscoveredKind): KindWatch {
    const gk = groupKindKey(kind);
    const path = resourcePath(kind);
    const name = rbacResource(kind);
    const sources = this.#informer(path, `${name}/sources`, {
      onChange: (type, obj, old) => {
        if (!ownEcho(type, obj, old)) this.events.source(gk, obj, old);
      },
    }, { labelSelector: `${LABEL_ENABLED}=true`, indexers: SOURCE_INDEXERS });
    const mirrors: Informer = this.#informer(path, `${name}/mirrors`, {
      onChange: (type, obj, old) => {
        this.deps.metrics.mirrorResources.set({ kind: kindLabel(kind) }, mirrors.size);
        if (!ownEcho(type, obj, old)) this.events.mirror(gk, obj, old);
      },
    }, {
      labelSelector: `${LABEL_MIRROR}=true`,
      indexers: MIRROR_INDEXERS,
      transform: (o) => this.#strings.internObject(slimMaps(o)),
    });
    sources.start();
    mirrors.start();
    const watch = { kind, missingVerbs, sources, mirrors };
    this.kinds.set(gk, watch);
    return watch;
  }

  #informer(
    path: string,
    name: string,
    handlers: ConstructorParameters<typeof Informer>[2],
    more: {
      labelSelector?: string;
      indexers?: Record<string, (o: KubeObject) => string[]>;
      transform?: (o: KubeObject) => KubeObject;
    } = {},
  ): Informer {
    const { client, log, metrics, flags } = this.deps;
    const spec = { path, name, idleTimeoutMs: flags.watchIdleTimeoutMs, ...more };
    const informer: Informer = new Informer(
      client,
      spec,
      {
        ...handlers,
        // Back from an outage: the first cache the API server answers wakes the others out of their backoff.
        onHealth: (up, error) => {
          handlers.onHealth?.(up, error);
          this.#group.health(informer, up);
        },
      },
      log,
      metrics,
      this.#clock,
    );
    return informer;
  }
}

/**
 * Whether a watch event only echoes what the cache already holds: our own write, put in from its answer
 * (the same resourceVersion), or our own delete, dropped already. It wakes nothing: re-planning a whole
 * fan-out for each of its own writes would cost as much as the fan-out itself.
 */
export function ownEcho(type: "ADDED" | "MODIFIED" | "DELETED", obj: KubeObject, old?: KubeObject): boolean {
  if (type === "DELETED") return old === undefined;
  const rv = obj.metadata?.resourceVersion;
  return rv !== undefined && old?.metadata?.resourceVersion === rv;
}

/** A namespace as the caches keep it: what target resolution reads (name, labels, phase), and its version. */
export function namespaceRecord(ns: KubeObject): KubeObject {
  const m = ns.metadata ?? {};
  return {
    apiVersion: ns.apiVersion,
    kind: ns.kind,
    metadata: {
      name: m.name,
      resourceVersion: m.resourceVersion,
      ...(m.labels ? { labels: m.labels } : {}),
      ...(m.deletionTimestamp ? { deletionTimestamp: m.deletionTimestamp } : {}),
    },
    ...((ns.status as { phase?: string } | undefined)?.phase
      ? { status: { phase: (ns.status as { phase: string }).phase } }
      : {}),
  };
}

/** Whether a CustomResourceDefinition is established (its kind is served). */
function established(crd?: KubeObject): boolean {
  const conditions = (crd?.status as { conditions?: { type?: string; status?: string }[] } | undefined)
    ?.conditions;
  return (conditions ?? []).some((c) => c.type === "Established" && c.status === "True");
}

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
import { LABEL_ENABLED, LABEL_MIRROR } from "../../core/markers.ts";
import type { MirrorableKind } from "../../core/mirrorable.ts";
import { mirrorSourceOf } from "../../core/ownership.ts";
import type { KubeObject } from "../../core/types.ts";
import { missingVerbs } from "../kube/access_review.ts";
import { discoverKinds } from "../kube/discovery.ts";
import type { ControllerFlags } from "../config/flags.ts";
import { Informer, type ObjectCache } from "../kube/informer.ts";
import { type KubeClient, resourcePath } from "../kube/client.ts";
import { errorMessage, type Logger } from "../runtime/log.ts";
import type { Metrics } from "../runtime/metrics.ts";
import { BY_NAME, BY_NAMESPACE, BY_SOURCE, kindLabel, RBAC_HINT, resourceName } from "./names.ts";

/** The caches and rights of one mirrorable kind. */
export interface KindState {
  kind: MirrorableKind;
  /** Write verbs the controller's identity lacks on this kind; its sources then get an Event, nothing is written. */
  missingVerbs: string[];
  sources: ObjectCache;
  /** Mirrors, indexed by {@link BY_NAME}, {@link BY_SOURCE} and {@link BY_NAMESPACE}. */
  mirrors: ObjectCache;
}

/** The watches of one mirrorable kind. */
export interface KindWatch extends KindState {
  sources: Informer;
  mirrors: Informer;
}

/** Where watch events go (the event handlers turn them into queue keys). */
export interface WatchEvents {
  source(gk: string, obj: KubeObject): void;
  mirror(gk: string, obj: KubeObject, old?: KubeObject): void;
  namespace(ns: KubeObject, old?: KubeObject): void;
}

/** What the watches need. */
export interface WatchDeps {
  client: KubeClient;
  flags: ControllerFlags;
  log: Logger;
  metrics: Metrics;
}

/** `group/Kind`, the key of a kind. */
export const gkOf = (k: { group: string; kind: string }): string => `${k.group}/${k.kind}`;

/** How the mirrors cache is indexed. */
export const MIRROR_INDEXERS = {
  [BY_NAME]: (m: KubeObject) => [m.metadata?.name ?? ""],
  [BY_SOURCE]: (m: KubeObject) => {
    const owner = mirrorSourceOf(m);
    return owner ? [`${owner.namespace}/${owner.name}`] : [];
  },
  [BY_NAMESPACE]: (m: KubeObject) => [m.metadata?.namespace ?? ""],
};

/** Namespaces, CRDs and one source and one mirror watch per kind the controller may serve. */
export class KindWatches {
  readonly kinds = new Map<string, KindWatch>();
  readonly namespaces: Informer;
  readonly crds: Informer;
  #stopped = false;
  #discovered = false;
  #discovery: Promise<void> = Promise.resolve();
  #discoveryTimer?: ReturnType<typeof setTimeout>;
  #discoveryInterval?: ReturnType<typeof setInterval>;
  /** What this identity may do with each discovered kind, as last logged. */
  readonly #access = new Map<string, string>();

  constructor(readonly deps: WatchDeps, readonly events: WatchEvents) {
    const idleTimeoutMs = deps.flags.watchIdleTimeoutMs;
    this.namespaces = new Informer(
      deps.client,
      { path: "/api/v1/namespaces", name: "namespaces", idleTimeoutMs },
      { onChange: (_type, ns, old) => events.namespace(ns, old) },
      deps.log,
      deps.metrics,
    );
    this.crds = new Informer(
      deps.client,
      {
        path: "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        name: "customresourcedefinitions",
        idleTimeoutMs,
      },
      {
        onChange: (type, crd, old) => {
          const established = (o?: KubeObject) =>
            ((o?.status as any)?.conditions ?? []).some((c: any) =>
              c.type === "Established" && c.status === "True"
            );
          if (type !== "MODIFIED" || established(crd) !== established(old)) this.scheduleDiscovery(1000);
        },
      },
      deps.log,
      deps.metrics,
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
    this.#discoveryInterval = setInterval(
      () => this.scheduleDiscovery(0),
      this.deps.flags.discoveryIntervalMs,
    );
  }

  /** Stops every watch and timer. */
  stop(): void {
    this.#stopped = true;
    clearTimeout(this.#discoveryTimer);
    clearInterval(this.#discoveryInterval);
    this.namespaces.stop();
    this.crds.stop();
    for (const k of this.kinds.values()) {
      k.sources.stop();
      k.mirrors.stop();
    }
  }

  /** Runs discovery after `delayMs` (a later call replaces an earlier one). */
  scheduleDiscovery(delayMs: number): void {
    clearTimeout(this.#discoveryTimer);
    this.#discoveryTimer = setTimeout(() => {
      this.#runDiscovery().catch((e) => this.deps.log.error("discovery failed", { error: errorMessage(e) }));
    }, delayMs);
  }

  /** Discovery runs one at a time; each run snapshots nothing across its API calls and commits a diff. */
  #runDiscovery(): Promise<void> {
    this.#discovery = this.#discovery.then(() => this.#discover()).catch((e) => {
      this.deps.metrics.discoveryErrors.inc();
      this.deps.log.error("discovery failed; keeping the kinds watched so far", { error: errorMessage(e) });
    });
    return this.#discovery;
  }

  async #discover(): Promise<void> {
    if (this.#stopped) return;
    const { log, metrics } = this.deps;
    const { kinds, errors } = await discoverKinds(this.deps.client, this.deps.flags.resourceTypes, log);
    for (const e of errors) log.warn("resource type not mirrored", { reason: e });
    // Ask what this identity may do before watching anything: a kind it may not list is skipped with
    // one log line, never retried against Forbidden; one it may read but not write is watched so that
    // its sources can be told which rights are missing.
    const lacking = await Promise.all(kinds.map((k) => missingVerbs(this.deps.client, k)));
    const wanted = new Map<string, { kind: MirrorableKind; lacks: string[] }>();
    kinds.forEach((k, i) => {
      const gk = gkOf(k);
      const lacks = lacking[i];
      const access = lacks.length === 0
        ? "full"
        : lacks.includes("list") || lacks.includes("watch") || lacks.includes("get")
        ? "none"
        : "read-only";
      const label = kindLabel(k);
      if (this.#access.get(gk) !== `${access}:${lacks.join(",")}` && access !== "full") {
        log.warn(
          access === "none"
            ? `not watching ${label}: this ServiceAccount may not ${lacks.join(", ")} ${resourceName(k)}`
            : `watching ${label} read-only: this ServiceAccount may not ${lacks.join(", ")} ${
              resourceName(k)
            }; its sources get an Event`,
          { kind: label, missingVerbs: lacks, hint: RBAC_HINT },
        );
      }
      this.#access.set(gk, `${access}:${lacks.join(",")}`);
      metrics.forbiddenKinds.remove({ kind: label, access: "none" });
      metrics.forbiddenKinds.remove({ kind: label, access: "read-only" });
      if (access !== "full") metrics.forbiddenKinds.set({ kind: label, access }, 1);
      if (access !== "none") wanted.set(gk, { kind: k, lacks });
    });
    const added: KindWatch[] = [];
    for (const [gk, { kind, lacks }] of wanted) {
      const current = this.kinds.get(gk);
      if (current && current.kind.version === kind.version && current.kind.plural === kind.plural) {
        current.missingVerbs = lacks;
        continue;
      }
      if (current) this.#drop(gk);
      const watch = this.#watch(kind, lacks);
      this.kinds.set(gk, watch);
      added.push(watch);
    }
    for (const gk of [...this.kinds.keys()]) if (!wanted.has(gk)) this.#drop(gk);
    metrics.watchedKinds.set(this.kinds.size);
    if (added.length > 0 || !this.#discovered) {
      log.info("resource discovery", {
        kinds: [...this.kinds.values()].map((k) => kindLabel(k.kind)),
        added: added.map((k) => k.kind.kind),
      });
    }
    this.#discovered = true;
    await Promise.all(added.flatMap((k) => [k.sources.synced, k.mirrors.synced]));
  }

  #drop(gk: string): void {
    const k = this.kinds.get(gk);
    if (!k) return;
    k.sources.stop();
    k.mirrors.stop();
    this.kinds.delete(gk);
    this.deps.metrics.mirrorResources.remove({ kind: k.kind.kind });
    this.deps.log.info("stopped watching kind", { kind: k.kind.kind, group: k.kind.group });
  }

  #watch(kind: MirrorableKind, missing: string[]): KindWatch {
    const gk = gkOf(kind);
    const path = resourcePath(kind);
    const name = resourceName(kind);
    const idleTimeoutMs = this.deps.flags.watchIdleTimeoutMs;
    const sources = new Informer(
      this.deps.client,
      { path, name: `${name}/sources`, labelSelector: `${LABEL_ENABLED}=true`, idleTimeoutMs },
      { onChange: (_type, obj) => this.events.source(gk, obj) },
      this.deps.log,
      this.deps.metrics,
    );
    const mirrors: Informer = new Informer(
      this.deps.client,
      {
        path,
        name: `${name}/mirrors`,
        labelSelector: `${LABEL_MIRROR}=true`,
        idleTimeoutMs,
        indexers: MIRROR_INDEXERS,
      },
      {
        onChange: (_type, obj, old) => {
          this.deps.metrics.mirrorResources.set({ kind: kind.kind }, mirrors.size);
          this.events.mirror(gk, obj, old);
        },
      },
      this.deps.log,
      this.deps.metrics,
    );
    sources.start();
    mirrors.start();
    return { kind, missingVerbs: missing, sources, mirrors };
  }
}

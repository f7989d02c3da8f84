/**
 * Cluster links (docs/CONTRACT.md §10): the link Secrets in the controller's namespace, and through each
 * link one label-filtered watch per mirrored kind on the upstream, read-only. A link is up while every
 * one of its watches has listed and none is failing; while it is not, its sources keep the cache they
 * had and nothing is planned for them. Links are picked up, changed and dropped while running. Standbys
 * keep these caches warm too; only the leader's queue acts on their events.
 *
 * @example
 * ```ts
 * import { ClusterLinks } from "./cluster_links.ts";
 * import type { KubeClient } from "../kube/client.ts";
 * import { createLogger } from "../runtime/log.ts";
 * import { createMetrics } from "../runtime/metrics.ts";
 * declare const client: KubeClient;
 * const links = new ClusterLinks({ client, connect: () => client, namespace: "kubemirror", clusterName: "edge",
 *   idleTimeoutMs: 300_000, log: createLogger("info"), metrics: createMetrics() }, {
 *   source: (cluster, gk, obj) => console.log("upstream source changed", cluster, gk, obj.metadata?.name),
 *   link: (secret) => console.log("link changed", secret),
 * });
 * await links.start();
 * links.scope("hub"); // undefined: no link names cluster "hub"
 * ```
 * @module
 */
import { type LinkScope, parseLink } from "../../core/cluster_link.ts";
import { groupKindKey, kindLabel, rbacResource } from "../../core/group_kind.ts";
import { LABEL_CLUSTER_LINK, LABEL_ENABLED } from "../../core/markers.ts";
import type { MirrorableKind } from "../../core/mirrorable.ts";
import type { KubeObject } from "../../core/types.ts";
import { isStatus, type KubeClient, resourcePath } from "../kube/client.ts";
import { Informer } from "../kube/informer.ts";
import type { ObjectCache } from "../kube/object_store.ts";
import { type Clock, systemClock } from "../runtime/clock.ts";
import { errorMessage, type Logger } from "../runtime/log.ts";
import type { Metrics } from "../runtime/metrics.ts";
import {
  FORBIDDEN_RECHECK_MAX_MS,
  linkIsUp,
  type LinkState,
  newLinkState,
  recheckAfter,
  stopLinkWatches,
} from "./link_state.ts";
import { SOURCE_INDEXERS } from "./mirror_indexes.ts";

/** What the links need. */
export interface LinkDeps {
  /** The local API client: reads the link Secrets. */
  client: KubeClient;
  /** Makes a client for an upstream from a link's kubeconfig; throws when the kubeconfig is unusable. */
  connect(kubeconfig: string, cluster: string): KubeClient;
  /** The controller's namespace, where link Secrets live. */
  namespace: string;
  /** This controller's `--cluster-name`. */
  clusterName: string;
  idleTimeoutMs: number;
  log: Logger;
  metrics: Metrics;
  clock?: Clock;
}

/** Where link events go. */
export interface LinkEvents {
  /** An upstream source changed (or a link's relist found it). */
  source(cluster: string, gk: string, obj: KubeObject, old?: KubeObject): void;
  /** A link Secret, its health or its cluster changed: its status, and its keys, need a look. */
  link(secret: string, clusters: readonly string[]): void;
}

/** The link Secrets and their upstream watches. */
export class ClusterLinks {
  /** Link Secrets by name. */
  readonly links = new Map<string, LinkState>();
  readonly secrets: Informer;
  #kinds: MirrorableKind[] = [];
  #stopped = false;
  readonly #clock: Clock;

  constructor(readonly deps: LinkDeps, readonly events: LinkEvents) {
    this.#clock = deps.clock ?? systemClock;
    this.secrets = new Informer(
      deps.client,
      {
        path: `/api/v1/namespaces/${encodeURIComponent(deps.namespace)}/secrets`,
        name: "cluster-links",
        labelSelector: `${LABEL_CLUSTER_LINK}=true`,
        idleTimeoutMs: deps.idleTimeoutMs,
      },
      {
        onChange: (type, secret) => this.#onSecret(type, secret),
      },
      deps.log,
      deps.metrics,
      this.#clock,
    );
  }

  /** Whether the link Secrets are listed (link caches sync on their own: a down link must not hold readiness). */
  get hasSynced(): boolean {
    return this.secrets.hasSynced;
  }

  /** Starts watching link Secrets; resolves once they are listed. */
  async start(): Promise<void> {
    this.secrets.start();
    await this.secrets.synced;
  }

  /** Watches these kinds through every link (after each discovery). */
  watchKinds(kinds: Iterable<MirrorableKind>): void {
    this.#kinds = [...kinds];
    for (const link of this.links.values()) this.#syncWatches(link);
  }

  /** The link naming `cluster`, as a plan sees it; undefined when no link Secret names it. */
  scope(cluster: string, gk?: string): LinkScope | undefined {
    const link = this.#byCluster(cluster);
    if (!link) return undefined;
    // A kind the link's identity may not read is planned as down: its mirrors are kept as they are.
    const readable = gk === undefined || !link.forbidden.has(gk);
    return { cluster, allowedNamespaces: link.allowedNamespaces, up: this.isUp(link) && readable };
  }

  /** The upstream sources of one kind through the link naming `cluster`. */
  sources(cluster: string, gk: string): ObjectCache | undefined {
    return this.#byCluster(cluster)?.sources.get(gk);
  }

  /** Every link's upstream sources of one kind, with the link. */
  *sourcesOfKind(gk: string): Iterable<{ cluster: string; scope: LinkScope; sources: ObjectCache }> {
    for (const link of this.links.values()) {
      const sources = link.sources.get(gk);
      if (!link.cluster || !sources) continue;
      yield { cluster: link.cluster, scope: this.scope(link.cluster, gk)!, sources };
    }
  }

  /** Whether the link is valid, every kind is listed and no watch is failing. */
  isUp(link: LinkState): boolean {
    return linkIsUp(link);
  }

  /** Stops every watch. */
  stop(): void {
    this.#stopped = true;
    this.secrets.stop();
    for (const link of this.links.values()) stopLinkWatches(link);
  }

  #byCluster(cluster: string): LinkState | undefined {
    for (const link of this.links.values()) if (link.cluster === cluster) return link;
    return undefined;
  }

  #onSecret(type: "ADDED" | "MODIFIED" | "DELETED", secret: KubeObject): void {
    const name = secret.metadata?.name ?? "";
    const before = this.links.get(name);
    const clusters = new Set<string>(before?.cluster ? [before.cluster] : []);
    if (type === "DELETED") {
      if (before) stopLinkWatches(before);
      this.links.delete(name);
      if (before?.cluster) this.#setUp(before.cluster, undefined);
      this.deps.log.info("cluster link removed: its mirrors are deleted", {
        link: name,
        cluster: before?.cluster,
      });
      this.events.link(name, [...clusters]);
      return;
    }
    const link = before ?? newLinkState(secret);
    link.secret = secret;
    this.links.set(name, link);
    const parsed = parseLink(secret, this.deps.clusterName);
    // Our own link-status write changes nothing that matters: it wakes nothing.
    const signature = JSON.stringify(parsed);
    if (before && before.signature === signature) return;
    link.signature = signature;
    const taken = parsed.ok
      ? [...this.links.entries()].find(([n, l]) =>
        n < name && l.cluster === parsed.link.cluster && !l.invalid
      )
      : undefined;
    if (!parsed.ok || taken) {
      // Invalid: keep the cluster it named when valid, so its mirrors stay (a typo never deletes).
      link.invalid = parsed.ok
        ? `link Secret ${taken![0]} already names cluster "${parsed.link.cluster}"`
        : parsed.errors.map((e) => `${e.key}: ${e.message}`).join("; ");
      stopLinkWatches(link);
      this.deps.log.error("cluster link is invalid; its mirrors are kept", {
        link: name,
        error: link.invalid,
      });
    } else {
      const l = parsed.link;
      const renamed = link.cluster !== undefined && link.cluster !== l.cluster;
      if (renamed || link.kubeconfig !== l.kubeconfig) stopLinkWatches(link);
      if (renamed) this.#setUp(link.cluster!, undefined);
      link.invalid = undefined;
      link.cluster = l.cluster;
      link.allowedNamespaces = l.allowedNamespaces;
      if (!link.client) {
        try {
          link.client = this.deps.connect(l.kubeconfig, l.cluster);
          link.kubeconfig = l.kubeconfig;
          link.error = undefined;
        } catch (e) {
          link.invalid = `data.kubeconfig: ${errorMessage(e)}`;
          this.deps.log.error("cluster link is invalid; its mirrors are kept", {
            link: name,
            error: link.invalid,
          });
        }
      }
      if (link.client) this.#syncWatches(link);
      clusters.add(l.cluster);
    }
    link.up = this.isUp(link);
    if (link.cluster) this.#setUp(link.cluster, link.up);
    this.events.link(name, [...clusters]);
  }

  /** Starts a watch for every kind the link does not watch yet; stops those no longer mirrored. */
  #syncWatches(link: LinkState): void {
    if (this.#stopped || !link.client || !link.cluster) return;
    const wanted = new Map(this.#kinds.map((k) => [groupKindKey(k), k]));
    for (const [gk, inf] of link.sources) {
      if (!wanted.has(gk)) {
        inf.stop();
        link.sources.delete(gk);
        link.failing.delete(gk);
        link.forbidden.delete(gk);
        link.saidForbidden.delete(gk);
        this.#cancelRecheck(link, gk);
      }
    }
    for (const [gk, kind] of wanted) {
      if (link.sources.has(gk) && !link.absent.has(gk) && !link.forbidden.has(gk)) continue;
      link.sources.get(gk)?.stop();
      link.absent.delete(gk);
      link.forbidden.delete(gk);
      link.sources.set(gk, this.#watch(link, kind));
    }
  }

  #watch(link: LinkState, kind: MirrorableKind): Informer {
    const gk = groupKindKey(kind);
    const cluster = link.cluster!;
    const name = `link/${cluster}/${rbacResource(kind)}`;
    const informer: Informer = new Informer(
      link.client!,
      {
        path: resourcePath(kind),
        name,
        labelSelector: `${LABEL_ENABLED}=true`,
        idleTimeoutMs: this.deps.idleTimeoutMs,
        indexers: SOURCE_INDEXERS,
      },
      {
        onChange: (_type, obj, old) => this.events.source(cluster, gk, obj, old),
        onHealth: (up, error) => {
          if (link.sources.get(gk) !== informer) return;
          // What was last said of the link: the informer has already marked itself synced.
          const was = link.up ?? false;
          // The upstream answered a list or a watch: the kinds still waiting out the outage's backoff ask
          // again now. Only a success wakes them: errors waking each other would loop against the upstream.
          if (up) { for (const other of link.failing) if (other !== gk) link.sources.get(other)?.retryNow(); }
          if (!up && isStatus(error, 404)) {
            // The upstream does not serve this kind: nothing of it to mirror; looked for again later.
            informer.stop();
            link.absent.add(gk);
            link.failing.delete(gk);
            this.deps.log.info("the upstream does not serve this kind", { cluster, kind: kindLabel(kind) });
          } else if (!up && isStatus(error, 403)) {
            // The upstream does not share this kind with this link's identity.
            informer.stop();
            link.forbidden.add(gk);
            link.failing.delete(gk);
            if (!link.saidForbidden.has(gk)) {
              link.saidForbidden.add(gk);
              this.deps.log.warn(
                "the link's identity may not list this kind upstream; its mirrors are kept",
                {
                  cluster,
                  kind: kindLabel(kind),
                },
              );
            }
            this.#scheduleRecheck(link, gk);
          } else if (up) {
            link.failing.delete(gk);
            link.listed.add(gk);
            this.#cancelRecheck(link, gk);
            if (link.saidForbidden.delete(gk)) {
              this.deps.log.info("the link's identity may list this kind upstream again", {
                cluster,
                kind: kindLabel(kind),
              });
            }
          } else {
            link.failing.add(gk);
            link.error = errorMessage(error);
          }
          const now = this.isUp(link);
          link.up = now;
          this.#setUp(cluster, now);
          if (now !== was) {
            (now ? this.deps.log.info : this.deps.log.error)(
              now ? "cluster link is up" : "cluster link is down; its mirrors are kept as they are",
              { cluster, link: link.secret.metadata?.name, ...(now ? {} : { error: link.error }) },
            );
            if (now) link.error = undefined;
            this.events.link(link.secret.metadata?.name ?? "", [cluster]);
          }
        },
      },
      this.deps.log,
      this.deps.metrics,
      this.#clock,
    );
    informer.start();
    // A first list that succeeds only says so through onHealth; an absent kind is settled there too.
    return informer;
  }

  /** Asks again for a forbidden kind after a wait of its own that doubles each time (one list each). */
  #scheduleRecheck(link: LinkState, gk: string): void {
    const r = link.rechecks.get(gk) ?? { waitMs: recheckAfter(link.listed.has(gk)) };
    link.rechecks.set(gk, r);
    if (r.cancel || this.#stopped) return;
    const wait = r.waitMs;
    r.waitMs = Math.min(FORBIDDEN_RECHECK_MAX_MS, wait * 2);
    r.cancel = this.#clock.after(wait, () => {
      r.cancel = undefined;
      const kind = this.#kinds.find((k) => groupKindKey(k) === gk);
      if (!kind || !link.client || !link.forbidden.has(gk) || this.#stopped) return;
      link.sources.get(gk)?.stop();
      link.forbidden.delete(gk);
      link.sources.set(gk, this.#watch(link, kind));
    });
  }

  #cancelRecheck(link: LinkState, gk: string): void {
    link.rechecks.get(gk)?.cancel?.();
    link.rechecks.delete(gk);
  }

  #setUp(cluster: string, up: boolean | undefined): void {
    const gauge = this.deps.metrics.clusterLinkUp;
    if (up === undefined) gauge.remove({ cluster });
    else gauge.set({ cluster }, up ? 1 : 0);
  }
}

/**
 * Reconciles one key (`group/Kind/namespace/name`) in five calls: a snapshot of the caches, the core's
 * plan for that key ({@link planKey}; or, when only some namespaces or mirrors changed since its last
 * plan, of those namespaces: {@link planNamespaces}), the writes ({@link PlanWriter}; each carries the
 * signal that stops them when the Lease is lost), what is recorded on the source (the core's
 * {@link decideSourceStatus}), and the result for the work loop, which alone touches the queue. Nothing
 * here reads a message's text.
 *
 * @example
 * ```ts
 * import { Reconciler } from "./reconciler.ts";
 * import type { KindState } from "./kind_watches.ts";
 * import type { ObjectCache } from "../kube/object_store.ts";
 * import type { KubeClient } from "../kube/client.ts";
 * import { parseFlags } from "../config/flags.ts";
 * import { createLogger } from "../runtime/log.ts";
 * import { createMetrics } from "../runtime/metrics.ts";
 * declare const client: KubeClient;
 * declare const namespaces: ObjectCache;
 * declare const configMaps: KindState;
 * const parsed = parseFlags([]);
 * if (parsed.ok) {
 *   const reconciler = new Reconciler({ client, flags: parsed.flags, log: createLogger("info"),
 *     metrics: createMetrics(), identity: "pod-a", namespaces, kind: () => configMaps });
 *   await reconciler.reconcile("/ConfigMap/default/cfg"); // { requeue: "no" } once in sync
 * }
 * ```
 * @module
 */
import { namesCluster } from "../../core/cluster_link.ts";
import { controllerLabel, groupKindKey } from "../../core/group_kind.ts";
import { DEFAULT_CLUSTER_NAME } from "../../core/markers.ts";
import type { SourcePlan } from "../../core/plan.ts";
import { type PlanMemo, rebaseMemo, sourceConfig } from "../../core/plan_memo.ts";
import { namespacesToReplan, type PlanBase, planBase, planNamespaces } from "../../core/plan_namespaces.ts";
import { isEnabledSource, parseSource } from "../../core/source_spec.ts";
import { type KeySnapshot, planKey } from "../../core/plan_key.ts";
import { decideSourceStatus, ERROR_TYPES } from "../../core/status.ts";
import type { ControllerFlags } from "../config/flags.ts";
import type { KubeClient } from "../kube/client.ts";
import type { ObjectCache } from "../kube/object_store.ts";
import type { Logger } from "../runtime/log.ts";
import type { Metrics } from "../runtime/metrics.ts";
import type { KindState } from "./kind_watches.ts";
import { BY_CLUSTER } from "./mirror_indexes.ts";
import { KeySnapshots, type LinkView } from "./key_snapshots.ts";
import { linkOfKey, parseKey } from "./queue_keys.ts";
import { LinkStatusWriter } from "./link_status.ts";
import { type Execution, PlanWriter } from "./plan_writer.ts";
import { SourceStatusWriter } from "./source_status.ts";
import { direction, type ReconcileResult } from "./work_loop.ts";

/** What the reconciler needs. */
export interface ReconcilerDeps {
  client: KubeClient;
  flags: Pick<ControllerFlags, "config" | "resyncPeriodMs" | "verifySourceFreshness">;
  log: Logger;
  metrics: Metrics;
  identity: string;
  namespaces: ObjectCache;
  /** The kind behind a `group/Kind` key, when it is watched. */
  kind(gk: string): KindState | undefined;
  /** Every watched kind (a pulling object naming an object of another kind is told so). */
  kinds?(): Iterable<KindState>;
  /** Wall-clock milliseconds (fights, stale snapshots, last-sync-time); the default is Date.now. */
  now?: () => number;
  /** The cluster links (§10), when any may exist. */
  links?: LinkView;
  /** How many keys are being reconciled now (this one among them), to share the writes in flight. */
  keysInFlight?: () => number;
}

export type { LinkView };

/** A key's snapshot and its plan. */
interface Planned {
  snapshot: KeySnapshot;
  plan: SourcePlan;
}

/** Reconciles keys. */
export class Reconciler {
  readonly status: SourceStatusWriter;
  readonly linkStatus: LinkStatusWriter;
  readonly #snapshots: KeySnapshots;
  /**
   * Per key, what its last plan left for the next ({@link SourcePlan.memo}): the source's parse and
   * hash, and the mirrors it found in sync, not computed or rendered again while they are unchanged.
   */
  readonly #memo = new Map<string, PlanMemo>();
  /**
   * Per key, its last plan that was carried out in full, and the namespaces whose labels, phase or mirror
   * changed since (or since its reconcile began): while a key has both, its next plan is of those
   * namespaces only ({@link planNamespaces}). A key without them is planned in full.
   */
  readonly #plans = new Map<string, PlanBase>();
  readonly #changed = new Map<string, Set<string>>();
  /** When a change to a source was first seen, for the propagation lag. */
  readonly #seenAt = new Map<string, number>();
  readonly #writer: PlanWriter;
  readonly #now: () => number;

  constructor(readonly deps: ReconcilerDeps) {
    this.#now = deps.now ?? Date.now;
    this.#snapshots = new KeySnapshots({ ...deps, now: this.#now });
    this.#writer = new PlanWriter({ ...deps, now: this.#now }, this.#snapshots);
    this.status = new SourceStatusWriter(deps.client, {
      identity: deps.identity,
      repeatEventsAfterMs: deps.flags.resyncPeriodMs,
      now: this.#now,
    });
    this.linkStatus = new LinkStatusWriter(deps.client, this.status);
  }

  /**
   * Notes that a source changed, for the propagation lag of its next writes. (Its next plan is in full
   * when its resourceVersion moved, unless by this controller's own status write: the core compares.)
   */
  noteChange(key: string): void {
    if (!this.#seenAt.has(key)) this.#seenAt.set(key, performance.now());
  }

  /** Notes that these namespaces (their labels or phase, or the mirror of `key` there) changed. */
  noteNamespaces(key: string, namespaces: Iterable<string>): void {
    const changed = this.#changed.get(key);
    if (changed) { for (const ns of namespaces) changed.add(ns); }
  }

  /**
   * Plans every source in full next time: on a resync, and when this replica starts or stops leading
   * (what changed while it did not work the queue is not known).
   */
  planAllInFull(): void {
    this.#changed.clear();
    this.#plans.clear();
  }

  /** Drops fight histories of mirrors left alone for a while. */
  pruneFights(): void {
    this.#writer.pruneFights();
  }

  /** Reconciles one key. Throws only for an API failure outside the writes (the work loop backs off). */
  async reconcile(key: string, signal?: AbortSignal): Promise<ReconcileResult> {
    const link = linkOfKey(key);
    if (link !== undefined) return await this.#reconcileLink(link, signal);
    const k = this.deps.kind(parseKey(key).gk);
    if (!k) return { requeue: "no" };
    // What changed since the last plan is taken; what changes from now on is noted for the next one.
    const changed = this.#changed.get(key);
    const last = this.#plans.get(key);
    this.#changed.set(key, new Set());
    const scoped = changed && last ? await this.#planChanged(k, key, last, changed, signal) : undefined;
    const { snapshot, plan } = scoped ?? await this.#planFull(k, key, signal);
    this.deps.metrics.plans.inc({
      controller: controllerLabel(k.kind),
      scope: scoped ? "namespaces" : "full",
    });
    if (plan.memo) this.#memo.set(key, plan.memo);
    else this.#memo.delete(key);
    const done = await this.#writer.execute(k, key, plan, signal);
    this.#observeLag(key, controllerLabel(k.kind), done.tried > 0, done.pending);
    const recorded = await this.#record(k, key, snapshot, plan, done, signal);
    const result = this.#result(done, recorded, signal);
    this.#remember(k, key, snapshot, plan, result.requeue === "no");
    return {
      ...result,
      ...(plan.direction ? { direction: plan.direction } : {}),
      ...(snapshot.ref.cluster ? { cluster: snapshot.ref.cluster } : {}),
    };
  }

  /** A link Secret's own key: its Events and `link-status`, from the caches. */
  async #reconcileLink(name: string, signal?: AbortSignal): Promise<ReconcileResult> {
    const links = this.deps.links;
    const link = links?.links.get(name);
    if (!links || !link) {
      this.linkStatus.forget(name);
      return { requeue: "no" };
    }
    const cluster = link.cluster;
    let sources = 0;
    let mirrors = 0;
    const clusterName = this.deps.flags.config.clusterName ?? DEFAULT_CLUSTER_NAME;
    const linkConfig = sourceConfig(this.deps.flags.config, links.scope(link.cluster ?? ""));
    for (const k of this.deps.kinds?.() ?? []) {
      if (!cluster) break;
      mirrors += k.mirrors.byIndex(BY_CLUSTER, cluster).length;
      for (const s of links.sources(cluster, groupKindKey(k.kind))?.list() ?? []) {
        const parsed = parseSource(s, linkConfig);
        if (isEnabledSource(s) && parsed.ok && namesCluster(parsed.spec.clusters, clusterName, true)) {
          sources++;
        }
      }
    }
    const counts = { sources, mirrors, errors: cluster ? this.linkStatus.errorCount(cluster) : 0 };
    const log = this.deps.log.with({ link: name, cluster });
    const recorded = await this.linkStatus.record(link, links.isUp(link), counts, links.secrets, log, signal);
    return { requeue: recorded === "conflict" ? "backoff" : "no" };
  }

  /** 1–2. The snapshot of every namespace the source may target, and its plan. */
  async #planFull(k: KindState, key: string, signal?: AbortSignal): Promise<Planned> {
    const snapshot = { ...await this.#snapshots.full(k, key, signal), memo: this.#memo.get(key) };
    return { snapshot, plan: planKey(snapshot) };
  }

  /**
   * 1–2. The snapshot of the namespaces that changed since `last` (and where it wrote or met a conflict),
   * and their plan; undefined when the source must be planned in full (see {@link KeySnapshots.ofNamespaces}
   * and {@link planNamespaces}).
   */
  async #planChanged(
    k: KindState,
    key: string,
    last: PlanBase,
    changed: ReadonlySet<string>,
    signal?: AbortSignal,
  ): Promise<Planned | undefined> {
    const snapshot = await this.#snapshots.ofNamespaces(k, key, namespacesToReplan(last, changed), signal);
    const plan = snapshot && planNamespaces(snapshot.source, snapshot, last, changed);
    return plan ? { snapshot, plan } : undefined;
  }

  /**
   * Keeps a plan that was carried out in full as the base of the next ({@link planBase}: the namespaces
   * it wrote in are looked at again, in the caches); forgets the key's plan otherwise.
   */
  #remember(k: KindState, key: string, snapshot: KeySnapshot, plan: SourcePlan, clean: boolean): void {
    const source = snapshot.source;
    let memo = plan.memo;
    // The source as this reconcile's own sync-status or finalizer write left it is the same source.
    const now = source && k.sources.get(`${snapshot.ref.namespace}/${snapshot.ref.name}`);
    if (memo && now && now !== source) memo = rebaseMemo(memo, now);
    if (!clean || !this.#changed.has(key) || !memo || !source || plan.direction || snapshot.ref.cluster) {
      this.#plans.delete(key);
      this.#changed.delete(key);
      return;
    }
    this.#memo.set(key, memo);
    this.#plans.set(key, planBase(memo === plan.memo ? plan : { ...plan, memo }));
  }

  /** 4. Records on the source what the core decides (or releases a source that is gone). */
  async #record(
    k: KindState,
    key: string,
    snapshot: KeySnapshot,
    plan: SourcePlan,
    done: Execution,
    signal?: AbortSignal,
  ): Promise<"recorded" | "conflict"> {
    const label = controllerLabel(k.kind);
    const cluster = snapshot.ref.cluster;
    for (const e of plan.errors) {
      const errorType = e.reason ? snakeCase(e.reason) : ERROR_TYPES[e.kind];
      this.deps.metrics.syncErrors.inc({
        controller: label,
        error_type: errorType,
        ...direction(plan),
        ...(cluster ? { cluster } : {}),
      });
      if (e.kind === "transform") this.deps.metrics.transformErrors.inc({ controller: label });
    }
    if (signal?.aborted) return "recorded";
    const { source, ref } = snapshot;
    const log = this.deps.log.with({ source: `${ref.namespace}/${ref.name}`, kind: ref.kind, cluster });
    if (cluster) {
      // The upstream is never written (§10): what a source's author would read in sync-status is
      // told to the link's administrator, on the link Secret.
      this.linkStatus.noteErrors(cluster, key, plan.errors);
      const link = [...(this.deps.links?.links.values() ?? [])].find((l) => l.cluster === cluster);
      if (link) await this.linkStatus.reportSourceErrors(link.secret, key, cluster, plan.errors, log, signal);
      if (!source && !done.pending) this.#forgetSource(key);
      return "recorded";
    }
    if (source) {
      const status = decideSourceStatus({ source: done.pulled ?? source, plan, outcome: done });
      return await this.status.apply(k.kind, k.sources, key, done.pulled ?? source, status, log, signal) ===
          "conflict"
        ? "conflict"
        : "recorded";
    }
    if (!done.pending) {
      this.#forgetSource(key);
      await this.status.releaseVanished(k.kind, ref, log, signal);
    }
    return "recorded";
  }

  /** 5. What the work loop does next. */
  #result(done: Execution, recorded: "recorded" | "conflict", signal?: AbortSignal): ReconcileResult {
    if (signal?.aborted || done.pending || recorded === "conflict") return { requeue: "backoff" };
    return done.waitMs !== undefined ? { requeue: "after", ms: done.waitMs } : { requeue: "no" };
  }

  #observeLag(key: string, label: string, wrote: boolean, pending: boolean): void {
    const seen = this.#seenAt.get(key);
    if (seen === undefined || pending) return;
    if (wrote) {
      this.deps.metrics.propagationLag.observe({ controller: label }, (performance.now() - seen) / 1000);
    }
    this.#seenAt.delete(key);
  }

  #forgetSource(key: string): void {
    this.#snapshots.forget(key);
    this.#memo.delete(key);
    this.#plans.delete(key);
    this.#changed.delete(key);
    this.#seenAt.delete(key);
    this.status.forget(key);
  }
}

/** `SourceNotFound` → `source_not_found`, for metric labels. */
function snakeCase(reason: string): string {
  return reason.replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
}

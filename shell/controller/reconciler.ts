/**
 * Reconciles one key (`group/Kind/namespace/name`) in four steps: a snapshot of the caches, the core's
 * plan for that key ({@link planKey}), the writes (each carrying the signal that stops them when the
 * Lease is lost), and the result for the work loop, which alone touches the queue. What to write on the
 * source is the core's decision ({@link decideSourceStatus}); nothing here reads a message's text.
 *
 * @example
 * ```ts
 * import { Reconciler } from "./reconciler.ts";
 * import type { KindState } from "./kind_watches.ts";
 * import type { ObjectCache } from "../kube/informer.ts";
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
import { LABEL_MIRROR } from "../../core/markers.ts";
import type { MirrorableKind } from "../../core/mirrorable.ts";
import type { PlanAction } from "../../core/plan.ts";
import { planKey } from "../../core/plan_key.ts";
import { decideSourceStatus, type SourceEvent } from "../../core/status.ts";
import { type KubeObject, namespaceInfo, type SourceRef } from "../../core/types.ts";
import { executeAction } from "./executor.ts";
import { Fights } from "./fights.ts";
import type { ControllerFlags } from "../config/flags.ts";
import type { ObjectCache } from "../kube/informer.ts";
import type { KindState } from "./kind_watches.ts";
import { ApiError, ignoreNotFound, type KubeClient, resourcePath } from "../kube/client.ts";
import { errorMessage, type Logger } from "../runtime/log.ts";
import type { Metrics } from "../runtime/metrics.ts";
import { BY_NAME, controllerLabel, parseKey, RBAC_HINT, resourceName } from "./names.ts";
import { SourceStatusWriter } from "./source_status.ts";

/** What the work loop does with the key next. */
export type ReconcileResult =
  | { requeue: "no" }
  | { requeue: "backoff" }
  | { requeue: "after"; ms: number };

/** What the reconciler needs. */
export interface ReconcilerDeps {
  client: KubeClient;
  flags: ControllerFlags;
  log: Logger;
  metrics: Metrics;
  identity: string;
  namespaces: ObjectCache;
  /** The kind behind a `group/Kind` key, when it is watched. */
  kind(gk: string): KindState | undefined;
  /** Wall-clock milliseconds (fights, stale snapshots); the default is Date.now. */
  now?: () => number;
}

/** RFC 3339 in UTC to the second, as the mirrors' `last-sync-time` is written. */
function rfc3339(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d+Z$/, "Z");
}

/** Reconciles keys. */
export class Reconciler {
  readonly status: SourceStatusWriter;
  /**
   * Objects at a mirror's name that are not labelled mirrors, found by a create that met AlreadyExists,
   * with when they were read: the label-filtered watch never shows them. Read again once a resync
   * period has passed, to notice `adopt` or removal.
   */
  readonly #foreign = new Map<string, Map<string, { object: KubeObject; readAt: number }>>();
  /** When a change to a source was first seen, for the propagation lag. */
  readonly #seenAt = new Map<string, number>();
  /** Mirrors another writer keeps editing. */
  readonly #fights: Fights;
  readonly #now: () => number;

  constructor(readonly deps: ReconcilerDeps) {
    this.#now = deps.now ?? Date.now;
    this.#fights = new Fights(deps.client, this.#now);
    this.status = new SourceStatusWriter(deps.client, {
      identity: deps.identity,
      repeatEventsAfterMs: deps.flags.resyncPeriodMs,
      now: this.#now,
    });
  }

  /** Notes that a source changed, for the propagation lag of its next writes. */
  noteChange(key: string): void {
    if (!this.#seenAt.has(key)) this.#seenAt.set(key, performance.now());
  }

  /** Drops fight histories of mirrors left alone for a while. */
  pruneFights(): void {
    this.#fights.prune();
  }

  /** Reconciles one key. Throws only for an API failure outside the writes (the work loop backs off). */
  async reconcile(key: string, signal?: AbortSignal): Promise<ReconcileResult> {
    const { gk, namespace, name } = parseKey(key);
    const k = this.deps.kind(gk);
    if (!k) return { requeue: "no" };
    const r = k.kind;
    const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
    const ref: SourceRef = { apiVersion, kind: r.kind, namespace, name };
    const log = this.deps.log.with({ source: `${namespace}/${name}`, kind: r.kind });
    const metrics = this.deps.metrics;
    const label = controllerLabel(r);

    // 1. Snapshot.
    let source = k.sources.get(`${namespace}/${name}`);
    if (k.missingVerbs.length > 0) {
      // Nothing can be written for this kind; tell the source's author what the controller lacks.
      if (source) {
        metrics.syncErrors.inc({ controller: label, error_type: "forbidden" });
        await this.status.report(
          key,
          source,
          [{
            reason: "Forbidden",
            message: `kubemirror may not ${k.missingVerbs.join(", ")} ${
              resourceName(r)
            }, so nothing is mirrored: ${RBAC_HINT}`,
          }],
          log,
          signal,
        );
      }
      return { requeue: "no" };
    }
    if (source && this.deps.flags.verifySourceFreshness) source = await this.#fresh(r, source, signal);
    const observed = k.mirrors.byIndex(BY_NAME, name);
    for (const f of await this.#foreignObjects(k, key, signal)) {
      // The mirrors cache is the truth for labelled objects; a foreign snapshot never hides it.
      if (!observed.some((o) => o.metadata?.namespace === f.metadata?.namespace)) observed.push(f);
    }
    const time = { now: rfc3339(this.#now()), clock: () => performance.now() };

    // 2. Plan.
    const plan = planKey({
      ref,
      source,
      observed,
      peers: k.sources.list().filter((p) => p.metadata?.name === name && p.metadata?.namespace !== namespace),
      namespaces: this.deps.namespaces.list().map(namespaceInfo),
      config: this.deps.flags.config,
      time,
    });

    // 3. Execute.
    const failures: string[] = [];
    const notes: SourceEvent[] = [];
    let pending = false;
    let written = 0;
    let deferred = 0;
    let waitMs: number | undefined;
    const writes: PlanAction[] = [];
    for (const a of plan.actions) {
      if (a.action !== "create" && a.action !== "update" && a.action !== "delete") continue;
      if (a.action === "update" && a.drift !== undefined) {
        // Another writer edited the mirror: revert it, but back off when it keeps coming back.
        const verdict = await this.#fights.revert(r, a.target.namespace, a.target.name, a.drift, signal);
        if (!verdict.revertNow) {
          metrics.driftBackoffs.inc({ controller: label });
          waitMs = Math.min(waitMs ?? Infinity, verdict.waitMs);
          deferred++;
          continue;
        }
        metrics.driftReverts.inc({ controller: label });
        if (verdict.note) notes.push(verdict.note);
      }
      writes.push(a);
    }
    await pool(writes, 8, async (action) => {
      // Once the Lease is lost (or the process stops), no write starts.
      if (signal?.aborted) {
        pending = true;
        return;
      }
      const outcome = await executeAction(this.deps.client, r, action, signal);
      const target = `${action.target.namespace}/${action.target.name}`;
      switch (outcome.result) {
        case "written":
          if (outcome.deleted) k.mirrors.drop(target);
          else if (outcome.object) k.mirrors.observe({ ...outcome.object, apiVersion, kind: r.kind });
          this.#foreign.get(key)?.delete(action.target.namespace);
          if (action.action !== "delete") written++;
          log.info(
            `mirror ${action.action === "update" && action.recreate ? "recreated" : action.action + "d"}`,
            { target, reason: action.reason },
          );
          return;
        case "exists":
          if (outcome.existing?.metadata?.labels?.[LABEL_MIRROR] === "true") {
            // A mirror the cache has not seen yet: the mirrors watch owns it, so it goes into that cache,
            // where its DELETED event will remove it again.
            k.mirrors.observe(outcome.existing);
          } else if (outcome.existing) {
            const map = this.#foreign.get(key) ?? new Map<string, { object: KubeObject; readAt: number }>();
            map.set(action.target.namespace, { object: outcome.existing, readAt: this.#now() });
            this.#foreign.set(key, map);
          }
          pending = true;
          return;
        case "stale":
          log.debug("stale cache; retrying", { target, error: outcome.error.message });
          pending = true;
          return;
        case "failed": {
          if (signal?.aborted) {
            pending = true;
            return;
          }
          const message = errorMessage(outcome.error);
          failures.push(`${action.action} ${target}: ${message}`);
          metrics.syncErrors.inc({
            controller: label,
            error_type: outcome.error instanceof ApiError ? `http_${outcome.error.status}` : "network",
          });
          log.warn("mirror write failed", { target, action: action.action, error: message });
          return;
        }
      }
    });
    for (const e of plan.errors) {
      metrics.syncErrors.inc({ controller: label, error_type: e.kind });
      if (e.kind === "transform") metrics.transformErrors.inc({ controller: label });
    }
    if (failures.length > 0) pending = true;
    this.#observeLag(key, label, writes.length > 0, pending);

    // 4. Record on the source, and tell the work loop what next.
    if (signal?.aborted) return { requeue: "backoff" };
    if (source) {
      const status = decideSourceStatus({
        source,
        plan,
        outcome: { written, deferred, failures, pending, notes },
      });
      const recorded = await this.status.apply(r, k.sources, key, source, status, log, signal);
      if (recorded === "conflict") pending = true;
    } else if (!pending) {
      this.#forgetSource(key);
      await this.status.releaseVanished(r, ref, log, signal);
    }
    if (pending) return { requeue: "backoff" };
    return waitMs !== undefined ? { requeue: "after", ms: waitMs } : { requeue: "no" };
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
    this.#foreign.delete(key);
    this.#seenAt.delete(key);
    this.status.forget(key);
  }

  /** The foreign objects known for a source, read again when older than a resync period. */
  async #foreignObjects(k: KindState, key: string, signal?: AbortSignal): Promise<KubeObject[]> {
    const map = this.#foreign.get(key);
    if (!map) return [];
    const stale = this.#now() - this.deps.flags.resyncPeriodMs * 0.9;
    for (const [ns, entry] of [...map]) {
      // Once the mirrors cache holds an object at that name, the snapshot has no say any more.
      if (k.mirrors.get(`${ns}/${entry.object.metadata?.name}`)) {
        map.delete(ns);
        continue;
      }
      if (entry.readAt > stale) continue;
      const live = await ignoreNotFound(
        this.deps.client.get(resourcePath(k.kind, ns, entry.object.metadata?.name), { signal }),
      );
      if (!live) map.delete(ns);
      else {
        map.set(ns, {
          object: { ...live, apiVersion: entry.object.apiVersion, kind: entry.object.kind },
          readAt: this.#now(),
        });
      }
    }
    if (map.size === 0) this.#foreign.delete(key);
    return [...map.values()].map((e) => e.object);
  }

  /** `--verify-source-freshness`: the source as the API server has it, when newer than the cache's. */
  async #fresh(r: MirrorableKind, cached: KubeObject, signal?: AbortSignal): Promise<KubeObject> {
    const live = await ignoreNotFound(
      this.deps.client.get(resourcePath(r, cached.metadata?.namespace, cached.metadata?.name), { signal }),
    );
    if (live && live.metadata?.resourceVersion !== cached.metadata?.resourceVersion) {
      return { ...live, apiVersion: cached.apiVersion, kind: cached.kind };
    }
    return cached;
  }
}

/** Runs `fn` over `items`, at most `size` at once. */
async function pool<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(size, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(runners);
}

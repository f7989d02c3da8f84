/**
 * The controller: watch caches → work queue → `reconcile(key)` → read caches → core plan → execute →
 * record. Sources are watched through the `enabled` label and mirrors through the `mirror` label, per
 * mirrorable kind; namespaces and CustomResourceDefinitions are watched too. Only the leader works the
 * queue; standbys keep warm caches and write nothing.
 *
 * @example
 * ```ts
 * import { Controller } from "./controller.ts";
 * const c = new Controller({ api, flags, log, metrics, identity: "pod-a" });
 * await c.start();
 * c.startWorkers(); // once leader
 * ```
 * @module
 */
import { FINALIZER, LABEL_ENABLED, LABEL_MIRROR } from "../core/keys.ts";
import { globMatch, splitList } from "../core/glob.ts";
import {
  ANNOTATION_SYNC_STATUS,
  ANNOTATION_TARGET_NAMESPACE_SELECTOR,
  ANNOTATION_TARGET_NAMESPACES,
} from "../core/keys.ts";
import type { MirrorableKind } from "../core/mirrorable.ts";
import { decideRevert, FIGHT_WINDOW_MS, isFight, type RevertHistory } from "../core/fight.ts";
import { mirrorSourceOf } from "../core/ownership.ts";
import { type PlanAction, type PlanError, planOrphans, planSource, type PlanWarning } from "../core/plan.ts";
import { isEnabledSource } from "../core/source_spec.ts";
import { type KubeObject, namespaceInfo, type SourceRef } from "../core/types.ts";
import { missingVerbs } from "./access_review.ts";
import { discoverKinds } from "./discovery.ts";
import { executeAction, patchSourceMetadata, recordEvent } from "./executor.ts";
import type { Flags } from "./flags.ts";
import { Informer } from "./informer.ts";
import { ApiError, isStatus, type KubeApi, resourcePath } from "./kube_api.ts";
import type { Logger } from "./log.ts";
import type { Metrics } from "./metrics.ts";
import { WorkQueue } from "./work_queue.ts";

/** What the controller needs. */
export interface ControllerOptions {
  api: KubeApi;
  flags: Flags;
  log: Logger;
  metrics: Metrics;
  identity: string;
}

/** The watches of one mirrorable kind. */
interface KindWatch {
  kind: MirrorableKind;
  /** Write verbs the controller's identity lacks on this kind; sources then get an Event, nothing is written. */
  missingVerbs: string[];
  sources: Informer;
  mirrors: Informer;
}

const gkOf = (k: { group: string; kind: string }) => `${k.group}/${k.kind}`;

/** A queue key: `group/Kind/namespace/name`. */
export function sourceKey(gk: string, namespace: string, name: string): string {
  return `${gk}/${namespace}/${name}`;
}

function parseKey(key: string): { gk: string; namespace: string; name: string } {
  const parts = key.split("/");
  const name = parts.pop()!;
  const namespace = parts.pop()!;
  return { gk: parts.join("/"), namespace, name };
}

/** Indexes of the mirrors cache: by object name, by the source named in the markers, by namespace. */
const BY_NAME = "name";
const BY_SOURCE = "source";
const BY_NAMESPACE = "namespace";
const MIRROR_INDEXERS = {
  [BY_NAME]: (m: KubeObject) => [m.metadata?.name ?? ""],
  [BY_SOURCE]: (m: KubeObject) => {
    const owner = mirrorSourceOf(m);
    return owner ? [`${owner.namespace}/${owner.name}`] : [];
  },
  [BY_NAMESPACE]: (m: KubeObject) => [m.metadata?.namespace ?? ""],
};

/** What to do about a kind the controller may not serve. */
const RBAC_HINT =
  "grant the verbs get, list, watch, create, update, patch and delete on it in a ClusterRole " +
  'labelled kubemirror.raczylo.com/aggregate-to-controller: "true" (see examples/rbac-custom-kind.yaml); ' +
  "it is picked up at the next discovery";

/** `Kind.version[.group]`, as `--resource-types` spells it. */
function kindLabel(k: MirrorableKind): string {
  return `${k.kind}.${k.version}${k.group ? "." + k.group : ""}`;
}

/** `plural[.group]`, as RBAC names a resource. */
function resourceName(k: MirrorableKind): string {
  return k.group ? `${k.plural}.${k.group}` : k.plural;
}

function controllerLabel(k: MirrorableKind): string {
  return (k.group ? `${k.kind}.${k.group}` : k.kind).toLowerCase();
}

/** The mirroring controller. */
export class Controller {
  readonly queue: WorkQueue;
  readonly namespaces: Informer;
  readonly crds: Informer;
  readonly kinds = new Map<string, KindWatch>();
  #leader = false;
  #stopped = false;
  #discovered = false;
  #discovery: Promise<void> = Promise.resolve();
  #discoveryTimer?: ReturnType<typeof setTimeout>;
  #resyncTimer?: ReturnType<typeof setInterval>;
  #discoveryInterval?: ReturnType<typeof setInterval>;
  /**
   * Objects at a mirror's name that are not ours, found by a create that met AlreadyExists, with when
   * they were read. They are read again once a resync period has passed, to notice `adopt` or removal.
   */
  readonly #foreign = new Map<string, Map<string, { object: KubeObject; readAt: number }>>();
  /** When a change to a source was first seen, for the propagation lag. */
  readonly #seenAt = new Map<string, number>();
  /** Reverts of other writers' edits per mirror (`group/Kind/namespace/name`), and who the writer was. */
  readonly #reverts = new Map<string, RevertHistory & { writer?: string }>();
  /** What this identity may do with each discovered kind, as last logged. */
  readonly #access = new Map<string, string>();
  /** Event messages already reported per source, with when. */
  readonly #reported = new Map<string, Map<string, number>>();
  #workers: Promise<void>[] = [];
  readonly #log: Logger;

  constructor(readonly options: ControllerOptions) {
    this.#log = options.log;
    this.queue = new WorkQueue("sources", options.metrics);
    const idleTimeoutMs = options.flags.watchIdleTimeoutMs;
    this.namespaces = new Informer(
      options.api,
      { path: "/api/v1/namespaces", name: "namespaces", idleTimeoutMs },
      {
        onChange: (_type, ns, old) => this.#namespaceChanged(ns, old),
      },
      options.log,
      options.metrics,
    );
    this.crds = new Informer(
      options.api,
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
          if (type !== "MODIFIED" || established(crd) !== established(old)) this.#scheduleDiscovery(1000);
        },
      },
      options.log,
      options.metrics,
    );
  }

  /** Whether every cache has synced and discovery has run once. */
  get ready(): boolean {
    if (!this.#discovered || !this.namespaces.hasSynced) return false;
    for (const k of this.kinds.values()) if (!k.sources.hasSynced || !k.mirrors.hasSynced) return false;
    return true;
  }

  get isLeader(): boolean {
    return this.#leader;
  }

  /** Starts the caches and discovery; resolves once they are synced. */
  async start(): Promise<void> {
    this.namespaces.start();
    this.crds.start();
    await this.namespaces.synced;
    await this.#runDiscovery();
    await Promise.all([...this.kinds.values()].flatMap((k) => [k.sources.synced, k.mirrors.synced]));
    this.#discoveryInterval = setInterval(
      () => this.#scheduleDiscovery(0),
      this.options.flags.discoveryIntervalMs,
    );
    this.#resyncTimer = setInterval(() => this.#resync(), this.options.flags.resyncPeriodMs);
    this.#log.info("caches synced", { kinds: this.kinds.size, namespaces: this.namespaces.size });
  }

  /** Becomes the leader: work the queue with `--worker-threads` workers, starting with every source. */
  startWorkers(): void {
    if (this.#leader) return;
    this.#leader = true;
    this.options.metrics.leader.set(1);
    for (let i = 0; i < this.options.flags.workerThreads; i++) this.#workers.push(this.#work());
    this.#resync();
  }

  /** Stops taking work, waits for in-flight reconciles (at most `graceMs`), and stops the caches. */
  async stop(graceMs = 10_000): Promise<void> {
    this.#stopped = true;
    this.#leader = false;
    this.options.metrics.leader.set(0);
    this.queue.shutDown();
    clearTimeout(this.#discoveryTimer);
    clearInterval(this.#resyncTimer);
    clearInterval(this.#discoveryInterval);
    const drained = Promise.all(this.#workers);
    const timeout = new Promise((r) => setTimeout(r, graceMs));
    await Promise.race([drained, timeout]);
    this.namespaces.stop();
    this.crds.stop();
    for (const k of this.kinds.values()) {
      k.sources.stop();
      k.mirrors.stop();
    }
  }

  async #work(): Promise<void> {
    while (true) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const { gk } = parseKey(key);
      const label = this.kinds.get(gk) ? controllerLabel(this.kinds.get(gk)!.kind) : gk;
      const end = this.options.metrics.reconcileDuration.startTimer({ controller: label });
      try {
        const started = performance.now();
        const outcome = await this.reconcile(key);
        const result = typeof outcome === "string" ? outcome : "requeue_after";
        this.#log.debug("reconciled", { key, result, ms: Math.round(performance.now() - started) });
        this.options.metrics.reconcileTotal.inc({ controller: label, result });
        if (outcome === "requeue") this.queue.addRateLimited(key);
        else {
          this.queue.forget(key);
          if (typeof outcome === "object") this.queue.addAfter(key, outcome.afterMs);
        }
      } catch (e) {
        this.options.metrics.reconcileTotal.inc({ controller: label, result: "error" });
        this.#log.error("reconcile failed", { key, error: e instanceof Error ? e.message : String(e) });
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
    const quiet = Date.now() - FIGHT_WINDOW_MS;
    for (const [mk, h] of this.#reverts) if (h.lastAt < quiet) this.#reverts.delete(mk);
    for (const [gk, k] of this.kinds) {
      for (const s of k.sources.list()) {
        this.#enqueue(sourceKey(gk, s.metadata!.namespace!, s.metadata!.name!));
      }
      // Mirrors whose source left the cache are cleaned up too.
      for (const sk of k.mirrors.indexValues(BY_SOURCE)) {
        const [ns, name] = sk.split("/");
        this.#enqueue(sourceKey(gk, ns, name));
      }
    }
  }

  #scheduleDiscovery(delayMs: number): void {
    clearTimeout(this.#discoveryTimer);
    this.#discoveryTimer = setTimeout(() => {
      this.#runDiscovery().catch((e) => this.#log.error("discovery failed", { error: String(e) }));
    }, delayMs);
  }

  /** Discovery runs one at a time; each run snapshots nothing across its API calls and commits a diff. */
  #runDiscovery(): Promise<void> {
    this.#discovery = this.#discovery.then(() => this.#discover()).catch((e) => {
      this.options.metrics.discoveryErrors.inc();
      this.#log.error("discovery failed; keeping the kinds watched so far", { error: String(e) });
    });
    return this.#discovery;
  }

  async #discover(): Promise<void> {
    if (this.#stopped) return;
    const { kinds, errors } = await discoverKinds(
      this.options.api,
      this.options.flags.resourceTypes,
      this.#log,
    );
    for (const e of errors) this.#log.warn("resource type not mirrored", { reason: e });
    // Ask what this identity may do before watching anything: a kind it may not list is skipped with
    // one log line, never retried against Forbidden; one it may read but not write is watched so that
    // its sources can be told which rights are missing.
    const missing = await Promise.all(kinds.map((k) => missingVerbs(this.options.api, k)));
    const wanted = new Map<string, MirrorableKind>();
    const missingByKind = new Map<string, string[]>();
    kinds.forEach((k, i) => {
      const gk = gkOf(k);
      const lacks = missing[i];
      const access = lacks.length === 0 ? "full" : lacks.includes("list") || lacks.includes("watch") ||
          lacks.includes("get")
        ? "none"
        : "read-only";
      const label = kindLabel(k);
      if (this.#access.get(gk) !== `${access}:${lacks.join(",")}` && access !== "full") {
        this.#log.warn(
          access === "none"
            ? `not watching ${label}: this ServiceAccount may not ${lacks.join(", ")} ${resourceName(k)}`
            : `watching ${label} read-only: this ServiceAccount may not ${lacks.join(", ")} ${
              resourceName(k)
            }; its sources get an Event`,
          { kind: label, missingVerbs: lacks, hint: RBAC_HINT },
        );
      }
      this.#access.set(gk, `${access}:${lacks.join(",")}`);
      this.options.metrics.forbiddenKinds.remove({ kind: label, access: "none" });
      this.options.metrics.forbiddenKinds.remove({ kind: label, access: "read-only" });
      if (access !== "full") this.options.metrics.forbiddenKinds.set({ kind: label, access }, 1);
      if (access === "none") return;
      wanted.set(gk, k);
      missingByKind.set(gk, lacks);
    });
    const added: KindWatch[] = [];
    for (const [gk, k] of wanted) {
      const current = this.kinds.get(gk);
      const lacks = missingByKind.get(gk) ?? [];
      if (current && current.kind.version === k.version && current.kind.plural === k.plural) {
        current.missingVerbs = lacks;
        continue;
      }
      if (current) this.#dropKind(gk);
      const watch = this.#watchKind(k, lacks);
      this.kinds.set(gk, watch);
      added.push(watch);
    }
    for (const gk of [...this.kinds.keys()]) if (!wanted.has(gk)) this.#dropKind(gk);
    this.options.metrics.watchedKinds.set(this.kinds.size);
    if (added.length > 0 || !this.#discovered) {
      this.#log.info("resource discovery", {
        kinds: [...this.kinds.values()].map((k) => kindLabel(k.kind)),
        added: added.map((k) => k.kind.kind),
      });
    }
    this.#discovered = true;
    await Promise.all(added.flatMap((k) => [k.sources.synced, k.mirrors.synced]));
  }

  #dropKind(gk: string): void {
    const k = this.kinds.get(gk);
    if (!k) return;
    k.sources.stop();
    k.mirrors.stop();
    this.kinds.delete(gk);
    this.options.metrics.mirrorResources.remove({ kind: k.kind.kind });
    this.#log.info("stopped watching kind", { kind: k.kind.kind, group: k.kind.group });
  }

  #watchKind(kind: MirrorableKind, missingVerbs: string[]): KindWatch {
    const gk = gkOf(kind);
    const path = resourcePath(kind);
    const name = `${kind.plural}${kind.group ? "." + kind.group : ""}`;
    const watch = { kind, missingVerbs } as KindWatch;
    watch.sources = new Informer(
      this.options.api,
      {
        path,
        name: `${name}/sources`,
        labelSelector: `${LABEL_ENABLED}=true`,
        idleTimeoutMs: this.options.flags.watchIdleTimeoutMs,
      },
      {
        onChange: (_type, obj) => {
          const key = sourceKey(gk, obj.metadata!.namespace!, obj.metadata!.name!);
          if (!this.#seenAt.has(key)) {
            this.#seenAt.set(key, performance.now());
          }
          this.#enqueue(key);
        },
      },
      this.#log,
      this.options.metrics,
    );
    watch.mirrors = new Informer(
      this.options.api,
      {
        path,
        name: `${name}/mirrors`,
        labelSelector: `${LABEL_MIRROR}=true`,
        idleTimeoutMs: this.options.flags.watchIdleTimeoutMs,
        indexers: MIRROR_INDEXERS,
      },
      {
        onChange: (_type, obj, old) => {
          const before = old ? mirrorSourceOf(old) : undefined;
          const owner = mirrorSourceOf(obj);
          this.options.metrics.mirrorResources.set({ kind: kind.kind }, watch.mirrors.size);
          for (const o of [before, owner]) if (o) this.#enqueue(sourceKey(gk, o.namespace, o.name));
        },
      },
      this.#log,
      this.options.metrics,
    );
    watch.sources.start();
    watch.mirrors.start();
    return watch;
  }

  #namespaceChanged(ns: KubeObject, old?: KubeObject): void {
    const name = ns.metadata!.name!;
    const sameLabels = old &&
      JSON.stringify(old.metadata?.labels ?? {}) === JSON.stringify(ns.metadata?.labels ?? {}) &&
      Boolean(old.metadata?.deletionTimestamp) === Boolean(ns.metadata?.deletionTimestamp);
    if (sameLabels) return;
    for (const [gk, k] of this.kinds) {
      for (const s of k.sources.list()) {
        if (couldTarget(s, name)) this.#enqueue(sourceKey(gk, s.metadata!.namespace!, s.metadata!.name!));
      }
      for (const m of k.mirrors.byIndex(BY_NAMESPACE, name)) {
        const owner = mirrorSourceOf(m);
        if (owner) this.#enqueue(sourceKey(gk, owner.namespace, owner.name));
      }
    }
  }

  /**
   * Reconciles one source: plans from the caches and carries the plan out. Returns "requeue" when
   * the cache was stale or a write must be retried.
   */
  async reconcile(key: string): Promise<"success" | "requeue" | { afterMs: number }> {
    const { gk, namespace, name } = parseKey(key);
    const k = this.kinds.get(gk);
    if (!k) return "success";
    const r = k.kind;
    const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
    const ref: SourceRef = { apiVersion, kind: r.kind, namespace, name };
    const log = this.#log.with({ source: `${namespace}/${name}`, kind: r.kind });
    let source = k.sources.get(`${namespace}/${name}`);
    if (k.missingVerbs.length > 0) {
      // Nothing can be written for this kind; tell the source's author what the controller lacks.
      if (source && isEnabledSource(source)) {
        const message = `kubemirror may not ${k.missingVerbs.join(", ")} ${resourceName(r)}, so nothing ` +
          `is mirrored: ${RBAC_HINT}`;
        this.options.metrics.syncErrors.inc({ controller: controllerLabel(r), error_type: "forbidden" });
        await this.#report(key, source, [{ reason: "Forbidden", message }], log);
      }
      return "success";
    }
    if (source && this.options.flags.verifySourceFreshness) source = await this.#fresh(k, source);

    const observed: KubeObject[] = [];
    observed.push(...k.mirrors.byIndex(BY_NAME, name));
    for (const f of await this.#foreignObjects(k, key)) {
      // The mirrors cache is the truth for labelled objects; a foreign snapshot never hides it.
      if (!observed.some((o) => o.metadata?.namespace === f.metadata?.namespace)) observed.push(f);
    }
    const peers = k.sources.list().filter((p) =>
      p.metadata?.name === name && p.metadata?.namespace !== namespace
    );
    const namespaces = this.namespaces.list().map(namespaceInfo);
    const time = { now: new Date().toISOString().replace(/\.\d+Z$/, "Z"), clock: () => performance.now() };

    let actions: PlanAction[];
    let errors: PlanError[] = [];
    let warnings: PlanWarning[] = [];
    if (!source) {
      actions = planOrphans(ref, observed, "the source was deleted or is no longer labelled for mirroring");
    } else {
      const plan = planSource(source, {
        namespaces,
        observed,
        peers,
        config: this.options.flags.config,
        time,
      });
      actions = plan.actions;
      errors = plan.errors;
      warnings = plan.warnings;
    }

    let requeue = false;
    let reconciled = 0;
    const failures: string[] = [];
    const fights: { reason: string; message: string }[] = [];
    let waitMs: number | undefined;
    const writes: PlanAction[] = [];
    for (const a of actions) {
      if (a.action !== "create" && a.action !== "update" && a.action !== "delete") continue;
      if (a.action === "update" && a.drift !== undefined) {
        // Another writer edited the mirror: revert it, but back off when it keeps coming back.
        const mk = `${gk}/${a.target.namespace}/${a.target.name}`;
        const previous = this.#reverts.get(mk);
        const decision = decideRevert(previous, Date.now());
        if (!decision.revertNow) {
          this.options.metrics.driftBackoffs.inc({ controller: controllerLabel(r) });
          waitMs = Math.min(waitMs ?? Infinity, decision.waitMs);
          reconciled++;
          continue;
        }
        const entry: RevertHistory & { writer?: string } = { ...decision.history, writer: previous?.writer };
        this.#reverts.set(mk, entry);
        this.options.metrics.driftReverts.inc({ controller: controllerLabel(r) });
        if (isFight(entry)) {
          entry.writer ??= await this.#lastWriter(r, a.target.namespace, a.target.name);
          fights.push({
            reason: "MirrorFight",
            message:
              `mirror ${a.target.namespace}/${a.target.name} keeps being changed (${a.drift}) by ${
                entry.writer ?? "another writer"
              }: kubemirror reverts it each time, waiting longer between reverts (up to 5m); stop the other ` +
              `writer, or take the namespace out of the source's targets`,
          });
        }
      }
      writes.push(a);
    }
    await pool(writes, 8, async (action) => {
      const outcome = await executeAction(this.options.api, r, action);
      const target = `${action.target.namespace}/${action.target.name}`;
      switch (outcome.result) {
        case "written":
          if (outcome.deleted) k.mirrors.drop(target);
          else if (outcome.object) k.mirrors.observe({ ...outcome.object, apiVersion, kind: r.kind });
          this.#foreign.get(key)?.delete(action.target.namespace);
          if (action.action !== "delete") reconciled++;
          log.info(
            `mirror ${action.action === "update" && action.recreate ? "recreated" : action.action + "d"}`,
            {
              target,
              reason: action.reason,
            },
          );
          return;
        case "exists": {
          if (outcome.existing?.metadata?.labels?.[LABEL_MIRROR] === "true") {
            // A mirror (ours, or a rival source's) the cache has not seen yet: the mirrors watch owns it,
            // so it goes into that cache, where its DELETED event will remove it again.
            k.mirrors.observe(outcome.existing);
          } else if (outcome.existing) {
            const map = this.#foreign.get(key) ?? new Map<string, { object: KubeObject; readAt: number }>();
            map.set(action.target.namespace, { object: outcome.existing, readAt: Date.now() });
            this.#foreign.set(key, map);
          }
          requeue = true;
          return;
        }
        case "stale":
          log.debug("stale cache; retrying", { target, error: outcome.error.message });
          requeue = true;
          return;
        case "failed": {
          const message = outcome.error instanceof Error ? outcome.error.message : String(outcome.error);
          failures.push(`${action.action} ${target}: ${message}`);
          this.options.metrics.syncErrors.inc({
            controller: controllerLabel(r),
            error_type: outcome.error instanceof ApiError ? `http_${outcome.error.status}` : "network",
          });
          log.warn("mirror write failed", { target, action: action.action, error: message });
          return;
        }
      }
    });
    reconciled += actions.filter((a) => a.action === "unchanged").length;
    for (const e of errors) {
      this.options.metrics.syncErrors.inc({
        controller: controllerLabel(r),
        error_type: e.message.startsWith("conflict")
          ? "conflict"
          : e.message.startsWith("transform")
          ? "transform"
          : "invalid",
      });
      if (e.message.startsWith("transform")) {
        this.options.metrics.transformErrors.inc({ controller: controllerLabel(r) });
      }
    }
    if (failures.length > 0) requeue = true;

    const seen = this.#seenAt.get(key);
    if (seen !== undefined && !requeue) {
      if (writes.length > 0) {
        this.options.metrics.propagationLag.observe(
          { controller: controllerLabel(r) },
          (performance.now() - seen) / 1000,
        );
      }
      this.#seenAt.delete(key);
    }

    if (source) {
      await this.#recordOnSource(
        k,
        key,
        source,
        { actions, errors, warnings, fights, failures, reconciled, requeue },
        log,
      );
    } else if (!requeue) {
      await this.#releaseVanishedSource(k, ref, log);
    }
    if (requeue) return "requeue";
    return waitMs !== undefined ? { afterMs: waitMs } : "success";
  }

  /** Who last changed a mirror, from its managedFields (the cache drops them): one read per fight. */
  async #lastWriter(r: MirrorableKind, namespace: string, name: string): Promise<string | undefined> {
    try {
      const live = await this.options.api.get(resourcePath(r, namespace, name));
      const entries = ((live.metadata?.managedFields ?? []) as { manager?: string; time?: string }[])
        .filter((m) => m.manager && !m.manager.startsWith("kubemirror"))
        .sort((a, b) => (a.time ?? "") < (b.time ?? "") ? 1 : -1);
      return entries[0] ? `"${entries[0].manager}" (managedFields, at ${entries[0].time})` : undefined;
    } catch {
      return undefined;
    }
  }

  /** The foreign objects known for a source, read again when older than a resync period. */
  async #foreignObjects(k: KindWatch, key: string): Promise<KubeObject[]> {
    const map = this.#foreign.get(key);
    if (!map) return [];
    const stale = Date.now() - this.options.flags.resyncPeriodMs * 0.9;
    for (const [ns, entry] of [...map]) {
      // Once the mirrors cache holds an object at that name, the snapshot has no say any more.
      if (k.mirrors.get(`${ns}/${entry.object.metadata?.name}`)) {
        map.delete(ns);
        continue;
      }
      if (entry.readAt > stale) continue;
      try {
        const live = await this.options.api.get(resourcePath(k.kind, ns, entry.object.metadata?.name));
        map.set(ns, {
          object: { ...live, apiVersion: entry.object.apiVersion, kind: entry.object.kind },
          readAt: Date.now(),
        });
      } catch (e) {
        if (!isStatus(e, 404)) throw e;
        map.delete(ns);
      }
    }
    if (map.size === 0) this.#foreign.delete(key);
    return [...map.values()].map((e) => e.object);
  }

  async #fresh(k: KindWatch, cached: KubeObject): Promise<KubeObject> {
    try {
      const live = await this.options.api.get(
        resourcePath(k.kind, cached.metadata?.namespace, cached.metadata?.name),
      );
      if (live.metadata?.resourceVersion !== cached.metadata?.resourceVersion) {
        return { ...live, apiVersion: cached.apiVersion, kind: cached.kind };
      }
    } catch (e) {
      if (!isStatus(e, 404)) throw e;
    }
    return cached;
  }

  /** sync-status, the finalizer and Events, each written only when it changes. */
  async #recordOnSource(
    k: KindWatch,
    key: string,
    source: KubeObject,
    result: {
      actions: PlanAction[];
      errors: PlanError[];
      warnings: PlanWarning[];
      fights: { reason: string; message: string }[];
      failures: string[];
      reconciled: number;
      requeue: boolean;
    },
    log: Logger,
  ): Promise<void> {
    const enabled = isEnabledSource(source) && !source.metadata?.deletionTimestamp;
    const finalizers = source.metadata?.finalizers ?? [];
    const hasFinalizer = finalizers.includes(FINALIZER);
    const change: { finalizers?: string[]; annotations?: Record<string, string | null> } = {};
    if (enabled && !hasFinalizer) change.finalizers = [...finalizers, FINALIZER];
    // Released only once every delete went through: a pending retry keeps it.
    if (!enabled && hasFinalizer && !result.requeue) {
      change.finalizers = finalizers.filter((f) => f !== FINALIZER);
    }
    const status = `reconciled:${result.reconciled},errors:${result.errors.length + result.failures.length}`;
    const current = source.metadata?.annotations?.[ANNOTATION_SYNC_STATUS];
    if (enabled && !result.requeue && current !== status) {
      change.annotations = { [ANNOTATION_SYNC_STATUS]: status };
    }
    if (!enabled && current !== undefined && !source.metadata?.deletionTimestamp) {
      change.annotations = { [ANNOTATION_SYNC_STATUS]: null };
    }
    if (change.finalizers || change.annotations) {
      try {
        const updated = await patchSourceMetadata(this.options.api, k.kind, source, change);
        k.sources.observe({ ...updated, apiVersion: source.apiVersion, kind: source.kind });
        if (change.finalizers && !change.finalizers.includes(FINALIZER)) log.info("finalizer removed");
      } catch (e) {
        if (!isStatus(e, 409) && !isStatus(e, 404)) {
          log.warn("could not update the source", { error: String(e) });
        }
        if (isStatus(e, 409)) this.queue.addRateLimited(key);
      }
    }
    if (!enabled) return;
    const messages: { reason: string; message: string }[] = [];
    for (const e of result.errors) {
      const reason = e.message.startsWith("conflict")
        ? "Conflict"
        : e.message.startsWith("transform")
        ? "TransformFailed"
        : "InvalidSource";
      messages.push({ reason, message: e.key ? `${e.key}: ${e.message}` : e.message });
    }
    for (const f of result.failures) messages.push({ reason: "WriteFailed", message: f });
    for (const w of result.warnings) messages.push({ reason: w.reason, message: `${w.key}: ${w.message}` });
    messages.push(...result.fights);
    const cut = result.actions.filter((a) => a.action === "skip" && a.reason?.startsWith("cut by"));
    if (cut.length > 0) {
      messages.push({
        reason: "TargetsTruncated",
        message: `${cut.length} target namespace(s) left out (${cut[0].reason}): ${
          cut.map((a) => a.target.namespace).join(", ")
        }`,
      });
    }
    await this.#report(key, source, messages, log);
  }

  async #report(
    key: string,
    source: KubeObject,
    messages: { reason: string; message: string }[],
    log: Logger,
  ) {
    const now = Date.now();
    const seen = this.#reported.get(key) ?? new Map<string, number>();
    const fresh = new Map<string, number>();
    for (const m of messages) {
      const last = seen.get(m.message);
      if (last !== undefined && now - last < this.options.flags.resyncPeriodMs) {
        fresh.set(m.message, last);
        continue;
      }
      fresh.set(m.message, now);
      log.warn(m.message, { reason: m.reason });
      try {
        await recordEvent(this.options.api, source, {
          type: "Warning",
          ...m,
          reportingInstance: this.options.identity,
        });
      } catch (e) {
        log.warn("could not record an Event", { error: String(e) });
      }
    }
    if (fresh.size > 0) this.#reported.set(key, fresh);
    else this.#reported.delete(key);
  }

  /** A source that left the cache (deleted, or its label removed): drop our finalizer if it still exists. */
  async #releaseVanishedSource(k: KindWatch, ref: SourceRef, log: Logger): Promise<void> {
    const key = sourceKey(gkOf(k.kind), ref.namespace, ref.name);
    this.#foreign.delete(key);
    this.#reported.delete(key);
    this.#seenAt.delete(key);
    let live: KubeObject;
    try {
      live = await this.options.api.get(resourcePath(k.kind, ref.namespace, ref.name));
    } catch (e) {
      if (isStatus(e, 404)) return;
      throw e;
    }
    const finalizers = live.metadata?.finalizers ?? [];
    const annotations = live.metadata?.annotations ?? {};
    if (!finalizers.includes(FINALIZER) && annotations[ANNOTATION_SYNC_STATUS] === undefined) return;
    if (isEnabledSource(live)) return; // back in the selector; the watch will bring it
    await patchSourceMetadata(this.options.api, k.kind, live, {
      finalizers: finalizers.filter((f) => f !== FINALIZER),
      annotations: annotations[ANNOTATION_SYNC_STATUS] !== undefined
        ? { [ANNOTATION_SYNC_STATUS]: null }
        : undefined,
    });
    log.info("source disabled: mirrors removed, finalizer released");
  }
}

/** Whether a namespace might be a target of a source, judged from its annotations alone (cheap). */
export function couldTarget(source: KubeObject, namespace: string): boolean {
  const a = source.metadata?.annotations ?? {};
  if ((a[ANNOTATION_TARGET_NAMESPACE_SELECTOR] ?? "").trim() !== "") return true;
  return splitList(a[ANNOTATION_TARGET_NAMESPACES]).some((item) =>
    item === "all" || item === "all-labeled" || item === namespace || globMatch(item, namespace)
  );
}

/** Runs `fn` over `items`, at most `size` at once. */
async function pool<T>(items: readonly T[], size: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(size, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  });
  await Promise.all(runners);
}

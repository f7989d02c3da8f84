/**
 * Writes what the core decided about a source ({@link decideSourceStatus}): the finalizer and
 * `sync-status` in one merge patch guarded by the source's resourceVersion, and its Events, each message
 * at most once per resync period. Also releases a source that left the label-filtered cache.
 *
 * @example
 * ```ts
 * import { SourceStatusWriter } from "./source_status.ts";
 * import { decideSourceStatus } from "../../core/status.ts";
 * import type { KubeObject } from "../../core/types.ts";
 * import type { ObjectCache } from "../kube/object_store.ts";
 * import type { KubeClient } from "../kube/client.ts";
 * import { createLogger } from "../runtime/log.ts";
 * declare const client: KubeClient;
 * declare const sources: ObjectCache;
 * declare const source: KubeObject;
 * const configMaps = { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps" };
 * const status = decideSourceStatus({ source, plan: { actions: [], errors: [], warnings: [] },
 *   outcome: { written: 0, deferred: 0, failures: [], pending: false, notes: [] } });
 * const writer = new SourceStatusWriter(client, { identity: "pod-a", repeatEventsAfterMs: 600_000 });
 * await writer.apply(configMaps, sources, "/ConfigMap/default/cfg", source, status, createLogger("info"));
 * // "written", or "conflict" when the source changed meanwhile
 * ```
 * @module
 */
import { ANNOTATION_SYNC_STATUS, FINALIZER } from "../../core/markers.ts";
import type { MirrorableKind } from "../../core/mirrorable.ts";
import { isEnabledSource } from "../../core/source_spec.ts";
import type { SourceEvent, SourceStatus } from "../../core/status.ts";
import { rfc3339 } from "../../core/time.ts";
import type { KubeObject, SourceRef } from "../../core/types.ts";
import { patchSourceMetadata, recordEvent } from "./executor.ts";
import type { ObjectCache } from "../kube/object_store.ts";
import { ignoreNotFound, isStatus, type KubeClient, resourcePath } from "../kube/client.ts";
import { errorMessage, type Logger } from "../runtime/log.ts";

/** How the writer identifies itself and how often it repeats an Event. */
export interface StatusWriterOptions {
  identity: string;
  /** An Event message already recorded is not recorded again before this long (the resync period). */
  repeatEventsAfterMs: number;
  now?: () => number;
}

/** Writes source status and Events. */
export class SourceStatusWriter {
  /** Event messages recorded per source key, with when. */
  readonly #reported = new Map<string, Map<string, number>>();
  readonly #now: () => number;

  constructor(readonly client: KubeClient, readonly options: StatusWriterOptions) {
    this.#now = options.now ?? Date.now;
  }

  /**
   * Writes the decided status; "conflict" when the source changed meanwhile (the work loop retries
   * with backoff). Events are recorded either way.
   */
  async apply(
    kind: MirrorableKind,
    sources: ObjectCache,
    key: string,
    source: KubeObject,
    status: SourceStatus,
    log: Logger,
    signal?: AbortSignal,
  ): Promise<"written" | "conflict"> {
    let result: "written" | "conflict" = "written";
    const finalizers = source.metadata?.finalizers ?? [];
    const change: { finalizers?: string[]; annotations?: Record<string, string | null> } = {};
    if (status.finalizer === "add") change.finalizers = [...finalizers, FINALIZER];
    if (status.finalizer === "remove") change.finalizers = finalizers.filter((f) => f !== FINALIZER);
    if (status.syncStatus !== undefined) change.annotations = { [ANNOTATION_SYNC_STATUS]: status.syncStatus };
    if (change.finalizers || change.annotations) {
      try {
        const updated = await patchSourceMetadata(this.client, kind, source, change, signal);
        sources.observe({ ...updated, apiVersion: source.apiVersion, kind: source.kind });
        if (status.finalizer === "remove") log.info("finalizer removed");
      } catch (e) {
        if (isStatus(e, 409)) result = "conflict";
        else if (!isStatus(e, 404)) log.warn("could not update the source", { error: errorMessage(e) });
      }
    }
    await this.report(key, source, status.events, log, signal);
    return result;
  }

  /** Records each Event whose message was not recorded within the repeat period; forgets the rest. */
  async report(
    key: string,
    source: KubeObject,
    events: readonly SourceEvent[],
    log: Logger,
    signal?: AbortSignal,
  ): Promise<void> {
    const now = this.#now();
    const seen = this.#reported.get(key) ?? new Map<string, number>();
    const fresh = new Map<string, number>();
    for (const e of events) {
      const last = seen.get(e.message);
      if (last !== undefined && now - last < this.options.repeatEventsAfterMs) {
        fresh.set(e.message, last);
        continue;
      }
      fresh.set(e.message, now);
      (e.type === "Normal" ? log.info : log.warn)(e.message, { reason: e.reason });
      try {
        await recordEvent(this.client, source, {
          type: "Warning",
          ...e,
          reportingInstance: this.options.identity,
          time: rfc3339(now),
        }, signal);
      } catch (err) {
        log.warn("could not record an Event", { error: errorMessage(err) });
      }
    }
    if (fresh.size > 0) this.#reported.set(key, fresh);
    else this.#reported.delete(key);
  }

  /** A source that left the cache (deleted, or its label removed): drop our finalizer and status if it still exists. */
  async releaseVanished(
    kind: MirrorableKind,
    ref: SourceRef,
    log: Logger,
    signal?: AbortSignal,
  ): Promise<void> {
    const live = await ignoreNotFound(
      this.client.get(resourcePath(kind, ref.namespace, ref.name), { signal }),
    );
    if (!live) return;
    const finalizers = live.metadata?.finalizers ?? [];
    const annotations = live.metadata?.annotations ?? {};
    if (!finalizers.includes(FINALIZER) && annotations[ANNOTATION_SYNC_STATUS] === undefined) return;
    if (isEnabledSource(live)) return; // back in the selector; the watch will bring it
    await patchSourceMetadata(this.client, kind, live, {
      finalizers: finalizers.filter((f) => f !== FINALIZER),
      annotations: annotations[ANNOTATION_SYNC_STATUS] !== undefined
        ? { [ANNOTATION_SYNC_STATUS]: null }
        : undefined,
    }, signal);
    log.info("source disabled: mirrors removed, finalizer released");
  }

  /** Forgets what was reported for a source that is gone. */
  forget(key: string): void {
    this.#reported.delete(key);
  }
}

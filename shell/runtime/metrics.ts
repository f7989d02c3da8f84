/**
 * The controller's Prometheus metrics (docs/CONTRACT.md §6), on a registry of its own. Memory comes from
 * `Deno.memoryUsage()`, since prom-client's process collector needs more permissions than the controller has.
 *
 * @example
 * ```ts
 * import { createMetrics } from "./metrics.ts";
 * const m = createMetrics();
 * m.reconcileTotal.inc({ controller: "configmap", result: "success" });
 * console.log(await m.registry.metrics());
 * ```
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";

/** Every metric the controller exports. */
export interface Metrics {
  registry: Registry;
  /** `cluster` only on keys read through a link (§10), `direction` only on pulls. */
  reconcileTotal: Counter<"controller" | "result" | "direction" | "cluster">;
  reconcileDuration: Histogram<"controller">;
  /** Plans by scope: `full` (every namespace) or `namespaces` (those that changed since the last plan). */
  plans: Counter<"controller" | "scope">;
  mirrorResources: Gauge<"kind">;
  syncErrors: Counter<"controller" | "error_type" | "direction" | "cluster">;
  workqueueDepth: Gauge<"name">;
  workqueueAdds: Counter<"name">;
  workqueueRetries: Counter<"name">;
  propagationLag: Histogram<"controller">;
  apiRequests: Counter<"verb" | "code">;
  /** Requests the API server throttled (429) and the controller waited out (Retry-After), by verb. */
  apiThrottled: Counter<"verb">;
  watchRestarts: Counter<"resource" | "reason">;
  watchLastEvent: Gauge<"resource">;
  watchSecondsSinceLastEvent: Gauge<"resource">;
  leader: Gauge;
  transformErrors: Counter<"controller">;
  /** Edits of mirrors by other writers, reverted. */
  driftReverts: Counter<"controller">;
  /** Reverts put off because the same mirror keeps being edited (a fight with another writer). */
  driftBackoffs: Counter<"controller">;
  watchedKinds: Gauge;
  discoveryErrors: Counter;
  /** Full collections run once idle after start-up and after bursts (see heap_release.ts). */
  heapReleases: Counter;
  /** 1 for each kind discovery found but the controller's identity may not serve fully. */
  forbiddenKinds: Gauge;
  /** 1 while a cluster link's upstream answers and its watches are listed, 0 otherwise (§10). */
  clusterLinkUp: Gauge<"cluster">;
}

/** Creates the metrics on a fresh registry. */
export function createMetrics(): Metrics {
  const registry = new Registry();
  const r = [registry];
  const watchLastEvent = new Gauge({
    name: "kubemirror_watch_last_event_timestamp_seconds",
    help: "Unix time of the last event (or bookmark) each watch received.",
    labelNames: ["resource"] as const,
    registers: r,
  });
  const metrics: Metrics = {
    registry,
    reconcileTotal: new Counter({
      name: "kubemirror_reconcile_total",
      help:
        'Reconciliations of sources and pulling objects, by controller (kind), result (success, error, requeue); pulls carry direction="pull", a link\'s sources cluster="<upstream>".',
      labelNames: ["controller", "result", "direction", "cluster"] as const,
      registers: r,
    }),
    reconcileDuration: new Histogram({
      name: "kubemirror_reconcile_duration_seconds",
      help: "Time to reconcile one source, API writes included.",
      labelNames: ["controller"] as const,
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30],
      registers: r,
    }),
    plans: new Counter({
      name: "kubemirror_plans_total",
      help:
        "Plans of sources, by controller (kind) and scope: full (every namespace) or namespaces (only those whose namespace or mirror changed since the source's last plan).",
      labelNames: ["controller", "scope"] as const,
      registers: r,
    }),
    mirrorResources: new Gauge({
      name: "kubemirror_mirror_resources_total",
      help: "Mirrors the controller sees in the cluster, by kind.",
      labelNames: ["kind"] as const,
      registers: r,
    }),
    driftReverts: new Counter({
      name: "kubemirror_drift_reverts_total",
      help: "Edits of mirrors by other writers that the controller reverted.",
      labelNames: ["controller"] as const,
      registers: r,
    }),
    driftBackoffs: new Counter({
      name: "kubemirror_drift_backoffs_total",
      help: "Reverts put off because the same mirror keeps being edited by another writer.",
      labelNames: ["controller"] as const,
      registers: r,
    }),
    syncErrors: new Counter({
      name: "kubemirror_sync_errors_total",
      help:
        'Failures while mirroring, by controller (kind) and error type; pulls carry direction="pull", a link\'s sources cluster="<upstream>".',
      labelNames: ["controller", "error_type", "direction", "cluster"] as const,
      registers: r,
    }),
    workqueueDepth: new Gauge({
      name: "workqueue_depth",
      help: "Keys waiting in the work queue.",
      labelNames: ["name"] as const,
      registers: r,
    }),
    workqueueAdds: new Counter({
      name: "workqueue_adds_total",
      help: "Keys added to the work queue.",
      labelNames: ["name"] as const,
      registers: r,
    }),
    workqueueRetries: new Counter({
      name: "workqueue_retries_total",
      help: "Keys put back in the work queue with backoff after a failure.",
      labelNames: ["name"] as const,
      registers: r,
    }),
    propagationLag: new Histogram({
      name: "kubemirror_propagation_lag_seconds",
      help: "Time from a source change seen by the watch to the last of its mirror writes.",
      labelNames: ["controller"] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
      registers: r,
    }),
    apiRequests: new Counter({
      name: "kubemirror_api_requests_total",
      help: "Requests to the Kubernetes API server, by verb and HTTP status code.",
      labelNames: ["verb", "code"] as const,
      registers: r,
    }),
    apiThrottled: new Counter({
      name: "kubemirror_api_throttled_total",
      help:
        "Requests the API server throttled (429 Too Many Requests) and the controller retried after Retry-After.",
      labelNames: ["verb"] as const,
      registers: r,
    }),
    watchRestarts: new Counter({
      name: "kubemirror_watch_restarts_total",
      help:
        "Watches restarted, by resource and reason (expired, error, idle, closed, failed: an event or a listed change not handled).",
      labelNames: ["resource", "reason"] as const,
      registers: r,
    }),
    watchLastEvent,
    watchSecondsSinceLastEvent: new Gauge({
      name: "kubemirror_watch_seconds_since_last_event",
      help: "Seconds since each watch last received an event or bookmark.",
      labelNames: ["resource"] as const,
      registers: r,
      async collect() {
        const now = Date.now() / 1000;
        const values = (await watchLastEvent.get()).values;
        this.reset();
        for (const v of values) this.set({ resource: String(v.labels.resource) }, Math.max(0, now - v.value));
      },
    }),
    leader: new Gauge({
      name: "kubemirror_leader",
      help: "1 while this replica is the leader and may write, 0 otherwise.",
      registers: r,
    }),
    transformErrors: new Counter({
      name: "kubemirror_transform_errors_total",
      help: "Transformation rules that failed, by controller (kind).",
      labelNames: ["controller"] as const,
      registers: r,
    }),
    heapReleases: new Counter({
      name: "kubemirror_heap_releases_total",
      help: "Full garbage collections run once idle after start-up and after bursts, handing memory back.",
      registers: r,
    }),
    discoveryErrors: new Counter({
      name: "kubemirror_discovery_errors_total",
      help: "Resource discovery runs that failed.",
      registers: r,
    }),
    watchedKinds: new Gauge({
      name: "kubemirror_watched_kinds",
      help: "Kinds the controller currently mirrors.",
      registers: r,
    }),
    forbiddenKinds: new Gauge({
      name: "kubemirror_forbidden_kinds",
      help:
        "Mirrorable kinds the controller's ServiceAccount may not fully serve (1 each); access is read-only (sources get an Event) or none (not watched).",
      labelNames: ["kind", "access"],
      registers: r,
    }),
    clusterLinkUp: new Gauge({
      name: "kubemirror_cluster_link_up",
      help:
        "1 while a cluster link's upstream answers and every watch through it is listed, 0 while it does not.",
      labelNames: ["cluster"] as const,
      registers: r,
    }),
  };
  new Gauge({
    name: "kubemirror_process_resident_memory_bytes",
    help: "Resident memory of the controller process.",
    registers: r,
    collect() {
      this.set(Deno.memoryUsage().rss);
    },
  });
  new Gauge({
    name: "kubemirror_process_heap_used_bytes",
    help: "JavaScript heap in use.",
    registers: r,
    collect() {
      this.set(Deno.memoryUsage().heapUsed);
    },
  });
  new Gauge({
    name: "kubemirror_process_heap_total_bytes",
    help: "JavaScript heap reserved by V8 (in use, garbage not yet collected, and room to grow).",
    registers: r,
    collect() {
      this.set(Deno.memoryUsage().heapTotal);
    },
  });
  new Gauge({
    name: "kubemirror_process_external_memory_bytes",
    help: "Memory held by JavaScript objects outside the heap (buffers of requests and responses).",
    registers: r,
    collect() {
      this.set(Deno.memoryUsage().external);
    },
  });
  return metrics;
}

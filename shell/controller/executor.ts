/**
 * Carrying out plan actions against the API server, with the observed object's resourceVersion for
 * optimistic concurrency. Each function makes the fewest calls the action needs and reports what happened;
 * nothing here decides what to do (that is the core's plan).
 *
 * @example
 * ```ts
 * import { executeAction } from "./executor.ts";
 * import type { PlanAction } from "../../core/plan.ts";
 * import type { KubeClient } from "../kube/client.ts";
 * declare const client: KubeClient;
 * declare const action: PlanAction;
 * const configMaps = { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps" };
 * const outcome = await executeAction(client, configMaps, action);
 * // { result: "written", object } | { result: "exists", existing } | { result: "failed", error }
 * ```
 * @module
 */
import type { PlanAction } from "../../core/plan.ts";
import type { KubeObject } from "../../core/types.ts";
import { ApiError, isStatus, type KubeClient, type ResourceInfo, resourcePath } from "../kube/client.ts";

/** What came of one action. */
export type Outcome =
  | { result: "written"; object?: KubeObject; deleted?: boolean }
  | { result: "exists"; existing?: KubeObject }
  | { result: "stale"; error: ApiError }
  | { result: "failed"; error: unknown };

function failure(e: unknown): Outcome {
  if (isStatus(e, 409) && e.reason !== "AlreadyExists") return { result: "stale", error: e };
  return { result: "failed", error: e };
}

async function create(
  api: KubeClient,
  r: ResourceInfo,
  action: PlanAction,
  signal?: AbortSignal,
): Promise<Outcome> {
  try {
    const object = await api.request("POST", resourcePath(r, action.target.namespace), {
      body: action.object,
      signal,
    });
    return { result: "written", object };
  } catch (e) {
    if (e instanceof ApiError && e.status === 409 && e.reason === "AlreadyExists") {
      // Someone else's object (or ours, not yet in the cache): read it so the next plan can judge it.
      try {
        const existing = await api.get(resourcePath(r, action.target.namespace, action.target.name), {
          signal,
        });
        return {
          result: "exists",
          existing: { ...existing, apiVersion: action.object?.apiVersion, kind: action.object?.kind },
        };
      } catch (e2) {
        return isStatus(e2, 404) ? { result: "stale", error: e } : failure(e2);
      }
    }
    return failure(e);
  }
}

async function remove(
  api: KubeClient,
  r: ResourceInfo,
  action: PlanAction,
  signal?: AbortSignal,
): Promise<Outcome> {
  try {
    await api.request("DELETE", resourcePath(r, action.target.namespace, action.target.name), {
      body: {
        kind: "DeleteOptions",
        apiVersion: "v1",
        propagationPolicy: "Background",
        ...(action.observedResourceVersion
          ? { preconditions: { resourceVersion: action.observedResourceVersion } }
          : {}),
      },
      signal,
    });
    return { result: "written", deleted: true };
  } catch (e) {
    if (isStatus(e, 404)) return { result: "written", deleted: true };
    return failure(e);
  }
}

/**
 * Fills (or empties) a pulling object: a merge patch of its content and the pull's annotations, guarded by
 * the resourceVersion it was planned against, so a concurrent edit by its owner is never overwritten.
 */
async function pull(
  api: KubeClient,
  r: ResourceInfo,
  action: PlanAction,
  signal?: AbortSignal,
): Promise<Outcome> {
  const patch = action.patch ?? {};
  const metadata = {
    ...(patch.metadata as object | undefined),
    resourceVersion: action.observedResourceVersion,
  };
  try {
    const object = await api.request("PATCH", resourcePath(r, action.target.namespace, action.target.name), {
      body: { ...patch, metadata },
      contentType: "application/merge-patch+json",
      signal,
    });
    return { result: "written", object };
  } catch (e) {
    return failure(e);
  }
}

/** Carries out one create, update (possibly delete and create), delete, or pull. */
export async function executeAction(
  api: KubeClient,
  r: ResourceInfo,
  action: PlanAction,
  signal?: AbortSignal,
): Promise<Outcome> {
  switch (action.action) {
    case "create":
      return await create(api, r, action, signal);
    case "delete":
      return await remove(api, r, action, signal);
    case "pull":
      return await pull(api, r, action, signal);
    case "update": {
      if (action.recreate) {
        const removed = await remove(api, r, action, signal);
        if (removed.result !== "written") return removed;
        return await create(api, r, action, signal);
      }
      try {
        const body = {
          ...action.object,
          metadata: { ...action.object!.metadata, resourceVersion: action.observedResourceVersion },
        };
        const object = await api.request(
          "PUT",
          resourcePath(r, action.target.namespace, action.target.name),
          { body, signal },
        );
        return { result: "written", object };
      } catch (e) {
        return failure(e);
      }
    }
  }
  throw new Error(`not a write: ${action.action}`);
}

/** A merge patch of a source's finalizers and annotations, guarded by its resourceVersion. */
export async function patchSourceMetadata(
  api: KubeClient,
  r: ResourceInfo,
  source: KubeObject,
  change: { finalizers?: string[]; annotations?: Record<string, string | null> },
  signal?: AbortSignal,
): Promise<KubeObject> {
  const metadata: Record<string, unknown> = { resourceVersion: source.metadata?.resourceVersion };
  if (change.finalizers) metadata.finalizers = change.finalizers;
  if (change.annotations) metadata.annotations = change.annotations;
  return await api.request("PATCH", resourcePath(r, source.metadata?.namespace, source.metadata?.name), {
    body: { metadata },
    contentType: "application/merge-patch+json",
    signal,
  });
}

/** Records a Warning or Normal Event on a source. */
export async function recordEvent(
  api: KubeClient,
  source: KubeObject,
  event: {
    type: "Warning" | "Normal";
    reason: string;
    message: string;
    reportingInstance: string;
    /** When, RFC 3339. */
    time: string;
  },
  signal?: AbortSignal,
): Promise<void> {
  const ns = source.metadata?.namespace ?? "default";
  const now = event.time;
  await api.request("POST", `/api/v1/namespaces/${encodeURIComponent(ns)}/events`, {
    body: {
      apiVersion: "v1",
      kind: "Event",
      metadata: { generateName: `${source.metadata?.name}.`, namespace: ns },
      involvedObject: {
        apiVersion: source.apiVersion,
        kind: source.kind,
        namespace: ns,
        name: source.metadata?.name,
        uid: source.metadata?.uid,
        resourceVersion: source.metadata?.resourceVersion,
      },
      type: event.type,
      reason: event.reason,
      message: event.message.slice(0, 1000),
      source: { component: "kubemirror" },
      reportingComponent: "kubemirror",
      reportingInstance: event.reportingInstance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    },
    signal,
  });
}

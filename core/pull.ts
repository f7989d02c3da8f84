/**
 * Pull (docs/CONTRACT.md §9): an object labelled `enabled` and annotated `pull-from: <namespace>/<name>`
 * asks to be filled from that source, which says with `pull-allowed-namespaces` who may ask. Planning a
 * pulling object yields at most one write, to the pulling object itself: a merge patch of its content
 * and markers (`pull`), or nothing (`unchanged`), or a refusal (`skip`) with its §9 reason. A refusal of
 * a Secret or ConfigMap that was filled before empties its data (revocation; a typed Secret keeps the keys
 * its type requires, empty). Never a create, never a delete, never another object.
 *
 * @example
 * ```ts
 * import { planPull } from "./pull.ts";
 * import { DEFAULT_CONFIG } from "./config.ts";
 * import assert from "node:assert/strict";
 * const P = "kubemirror.raczylo.com/";
 * const source = { apiVersion: "v1", kind: "Secret", type: "Opaque", data: { token: "czNjcjN0" },
 *   metadata: { name: "registry", namespace: "platform", uid: "u1", labels: { [`${P}enabled`]: "true" },
 *     annotations: { [`${P}pull-allowed-namespaces`]: "team-*" } } };
 * const puller = { apiVersion: "v1", kind: "Secret", type: "Opaque",
 *   metadata: { name: "pull-secret", namespace: "team-a", resourceVersion: "7",
 *     labels: { [`${P}enabled`]: "true" }, annotations: { [`${P}pull-from`]: "platform/registry" } } };
 * const plan = planPull({ puller, pulled: source, config: DEFAULT_CONFIG, time: { now: "2026-11-30T12:00:00Z" } });
 * assert.equal(plan.actions[0].action, "pull");
 * assert.deepEqual(plan.actions[0].patch?.data, { token: "czNjcjN0" });
 * assert.equal(plan.pullStatus, "pulled");
 * ```
 * @module
 */
import type { MirrorConfig } from "./config.ts";
import { matchesAny, namespacePatternError, splitList } from "./glob.ts";
import { groupKindOf } from "./group_kind.ts";
import {
  ALWAYS_EXCLUDED_NAMESPACES,
  ANNOTATION_LAST_SYNC_TIME,
  ANNOTATION_PULL_ALLOWED_NAMESPACES,
  ANNOTATION_PULL_FROM,
  ANNOTATION_SOURCE_CONTENT_HASH,
  ANNOTATION_SOURCE_NAME,
  ANNOTATION_SOURCE_NAMESPACE,
  ANNOTATION_SOURCE_UID,
  ANNOTATION_SYNC,
  ANNOTATION_SYNC_STATUS,
  LABEL_ENABLED,
} from "./markers.ts";
import { mergePatch } from "./merge_patch.ts";
import { contentAndMarkers, desiredPuller, isCore, revocationPatch, secretType } from "./pull_write.ts";
import type { PlanAction, PlanError, PlanWarning, SourcePlan } from "./plan.ts";
import { prepareSource, type RenderClock, renderPrepared } from "./render.ts";
import { FORBIDDEN_SECRET_TYPES, forbiddenSourceReason, parseTransformSpec } from "./source_spec.ts";
import { driftOf } from "./drift.ts";
import type { JsonObject, KubeObject, SourceRef } from "./types.ts";

/** Why a pull is refused: the Event reason and the `sync-status` value `error:<reason>`. */
export type PullRefusal =
  | "SourceNotFound"
  | "PullNotAllowed"
  | "KindMismatch"
  | "InvalidPullFrom"
  | "PullChain"
  | "TransformFailed"
  | "Immutable";

/** `sync-status` of a pulling object that holds the source's content. */
export const PULLED = "pulled";

/** What is known about one pulling object. */
export interface PullSnapshot {
  /** The pulling object, as cached. */
  puller: KubeObject;
  /** The object its `pull-from` names, of the same kind, when it exists and is labelled `enabled`. */
  pulled?: KubeObject;
  /** Kinds (`Kind[.group]`) other than the puller's that hold a labelled object at that name. */
  pulledElsewhere?: readonly string[];
  config: MirrorConfig;
  time: RenderClock;
}

/** Whether an object asks to be filled from a source (it is then never a source itself). */
export function isPullingObject(obj: KubeObject): boolean {
  return obj.metadata?.labels?.[LABEL_ENABLED] === "true" &&
    obj.metadata?.annotations?.[ANNOTATION_PULL_FROM] !== undefined;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-.a-z0-9]{0,251}[a-z0-9])?$/;

/** `<namespace>/<name>` as written in `pull-from`, or undefined when it is not that. */
export function parsePullFrom(value: string | undefined): { namespace: string; name: string } | undefined {
  const parts = (value ?? "").trim().split("/");
  if (parts.length !== 2 || !DNS_LABEL.test(parts[0]) || !DNS_SUBDOMAIN.test(parts[1])) return undefined;
  return { namespace: parts[0], name: parts[1] };
}

/** Why the source does not let `namespace` pull it, or undefined when it does. */
export function pullDenial(source: KubeObject, namespace: string): string | undefined {
  const raw = source.metadata?.annotations?.[ANNOTATION_PULL_ALLOWED_NAMESPACES];
  const items = splitList(raw);
  if (items.length === 0) {
    return `the source does not allow pulling (${ANNOTATION_PULL_ALLOWED_NAMESPACES} is not set)`;
  }
  const bad = items.filter((i) => i !== "all" && namespacePatternError(i) !== undefined);
  if (bad.length > 0) {
    return `the source's ${ANNOTATION_PULL_ALLOWED_NAMESPACES} is invalid: ${namespacePatternError(bad[0])}`;
  }
  if (items.includes("all") || matchesAny(items, namespace)) return undefined;
  return `namespace "${namespace}" is not in the source's ${ANNOTATION_PULL_ALLOWED_NAMESPACES} (${
    items.join(",")
  })`;
}

/** Why objects in `namespace` may not pull at all (the controller's namespace flags), or undefined. */
function namespaceDenial(namespace: string, config: MirrorConfig): string | undefined {
  if (ALWAYS_EXCLUDED_NAMESPACES.includes(namespace)) {
    return `system namespace "${namespace}" never receives copies`;
  }
  if (matchesAny(config.excludedNamespaces, namespace)) {
    return `namespace "${namespace}" is excluded by --excluded-namespaces`;
  }
  if (config.includedNamespaces.length > 0 && !matchesAny(config.includedNamespaces, namespace)) {
    return `namespace "${namespace}" is outside --included-namespaces`;
  }
  return undefined;
}

/** Plans one pulling object. */
export function planPull(s: PullSnapshot): SourcePlan & { pullStatus?: string } {
  const { puller } = s;
  const ns = puller.metadata?.namespace ?? "";
  const name = puller.metadata?.name ?? "";
  const raw = puller.metadata?.annotations?.[ANNOTATION_PULL_FROM] ?? "";
  const from = parsePullFrom(raw);
  const pullerRef: SourceRef = {
    apiVersion: puller.apiVersion ?? "",
    kind: puller.kind ?? "",
    namespace: ns,
    name,
  };
  const source: SourceRef = { ...pullerRef, namespace: from?.namespace ?? "", name: from?.name ?? raw };
  const target = { namespace: ns, name };
  const warnings: PlanWarning[] = puller.metadata?.annotations?.[ANNOTATION_SYNC] === "true"
    ? [{
      source: pullerRef,
      key: ANNOTATION_SYNC,
      reason: "PullIgnoresSync",
      message:
        `a pulling object is never a source: ${ANNOTATION_SYNC} is ignored while ${ANNOTATION_PULL_FROM} is set`,
    }]
    : [];
  if (puller.metadata?.deletionTimestamp) {
    return { source: pullerRef, actions: [], errors: [], warnings: [], direction: "pull" };
  }
  const step = from && s.pulled ? fill(s, from, s.pulled) : undefined;
  const refusal = !from || !s.pulled ? refusalOf(s, from, raw) : step!.refusal;
  const plan = (
    action: Omit<PlanAction, "source" | "target" | "direction">,
    errors: PlanError[],
    status: string,
  ) => ({
    source: pullerRef,
    actions: [{ ...action, source, target, direction: "pull" as const }],
    errors,
    warnings,
    direction: "pull" as const,
    pullStatus: status,
  });
  if (refusal) {
    const patch = refusal.revoke ? revocationPatch(puller, refusal.reason) : undefined;
    const error: PlanError = {
      source: pullerRef,
      kind: "refused",
      reason: refusal.reason,
      message: refusal.message,
      key: ANNOTATION_PULL_FROM,
    };
    return plan(
      patch
        ? {
          action: "pull",
          reason: `revoked: ${refusal.message}`,
          patch,
          observedResourceVersion: puller.metadata?.resourceVersion,
        }
        : { action: "skip", code: "refused", reason: refusal.message },
      [error],
      `error:${refusal.reason}`,
    );
  }
  const { write, failures } = step!;
  return plan(
    write ?? { action: "unchanged" },
    failures.map((message) => ({ source: pullerRef, kind: "transform", namespace: ns, message })),
    PULLED,
  );
}

/** Why a pull is refused: its reason, what to tell, and whether a copy made before is taken back. */
interface Refusal {
  reason: PullRefusal;
  message: string;
  revoke: boolean;
}

/**
 * The refusals decided before the source is read, and when there is none to read: the name, the pulling
 * object's namespace and type, a source that is missing or of another kind.
 */
function refusalOf(
  s: PullSnapshot,
  from: { namespace: string; name: string } | undefined,
  raw: string,
): Refusal | undefined {
  const { puller } = s;
  const ns = puller.metadata?.namespace ?? "";
  const refuse = (reason: PullRefusal, message: string): Refusal => ({ reason, message, revoke: true });
  if (!from) {
    return refuse(
      "InvalidPullFrom",
      `${ANNOTATION_PULL_FROM} must be "<namespace>/<name>", not ${JSON.stringify(raw)}`,
    );
  }
  const denied = namespaceDenial(ns, s.config);
  if (denied) return refuse("PullNotAllowed", denied);
  if (isCore(puller, "Secret") && FORBIDDEN_SECRET_TYPES.includes(secretType(puller))) {
    return refuse("PullNotAllowed", `Secrets of type ${secretType(puller)} are never filled`);
  }
  const fromText = `${from.namespace}/${from.name}`;
  if (!s.pulled || s.pulled.metadata?.deletionTimestamp) {
    if ((s.pulledElsewhere ?? []).length > 0) {
      return refuse(
        "KindMismatch",
        `${fromText} is a ${s.pulledElsewhere!.join(", ")}, not a ${kindText(puller)}`,
      );
    }
    return refuse(
      "SourceNotFound",
      `the source ${kindText(puller)} ${fromText} does not exist or is not labelled ${LABEL_ENABLED}=true`,
    );
  }
  return undefined;
}

/**
 * With the source at hand: its refusals (a chain, who may pull, the Secret's type, the transform, an
 * immutable copy), else the merge patch that fills the pulling object, or none when it is in step.
 */
function fill(
  s: PullSnapshot,
  from: { namespace: string; name: string },
  pulled: KubeObject,
): { refusal?: Refusal; write?: Omit<PlanAction, "source" | "target" | "direction">; failures: string[] } {
  const { puller, config } = s;
  const ns = puller.metadata?.namespace ?? "";
  const fromText = `${from.namespace}/${from.name}`;
  const refuse = (reason: PullRefusal, message: string, revoke = true) => ({
    refusal: { reason, message, revoke },
    failures: [],
  });
  const early = refusalOf(s, from, "");
  if (early) return { refusal: early, failures: [] };
  if (isPullingObject(pulled)) {
    return refuse("PullChain", `${fromText} is itself a pulling object: a copy is never copied again`);
  }
  const forbidden = forbiddenSourceReason(pulled, config) ?? pullDenial(pulled, ns);
  if (forbidden) return refuse("PullNotAllowed", forbidden);
  if (isCore(puller, "Secret") && secretType(puller) !== secretType(pulled)) {
    return refuse(
      "KindMismatch",
      `the source is a Secret of type ${secretType(pulled)} and this one of type ${
        secretType(puller)
      } (a Secret's type cannot change)`,
    );
  }
  const transform = parseTransformSpec(pulled.metadata?.annotations ?? {}, config);
  if (transform.errors.length > 0) {
    return refuse(
      "TransformFailed",
      `the source's ${transform.errors[0].key}: ${transform.errors[0].message}`,
      false,
    );
  }
  const rendered = renderPrepared(
    prepareSource(pulled, transform.spec, config),
    ns,
    config,
    s.time,
    puller.metadata?.name,
  );
  if (rendered.blocked) return refuse("TransformFailed", rendered.blocked, false);
  const failures = rendered.failures.map((f) => `transform in ${ns}: ${f.message}`);
  const desired = desiredPuller(puller, rendered.object, {
    [ANNOTATION_SOURCE_NAMESPACE]: from.namespace,
    [ANNOTATION_SOURCE_NAME]: from.name,
    [ANNOTATION_SOURCE_UID]: pulled.metadata?.uid ?? "",
    [ANNOTATION_SOURCE_CONTENT_HASH]: rendered.hash,
    [ANNOTATION_SYNC_STATUS]: PULLED,
  });
  const had = puller.metadata?.annotations ?? {};
  const markersChanged = Object.entries(desired.markers).some(([k, v]) => had[k] !== v);
  const drift = driftOf(desired.object, puller);
  if (!markersChanged && drift === undefined) return { failures };
  if (puller.immutable === true && drift !== undefined) {
    return refuse(
      "Immutable",
      `the object is immutable and its content must change (${drift}): recreate it to pull again`,
      false,
    );
  }
  const patch =
    (mergePatch(contentAndMarkers(puller), contentAndMarkers(desired.object)) ?? {}) as JsonObject;
  const meta = (patch.metadata ??= {}) as JsonObject;
  meta.annotations = {
    ...(meta.annotations as JsonObject | undefined),
    [ANNOTATION_LAST_SYNC_TIME]: s.time.now,
  };
  const firstFill = had[ANNOTATION_SOURCE_CONTENT_HASH] === undefined;
  const sourceChanged = had[ANNOTATION_SOURCE_CONTENT_HASH] !== rendered.hash ||
    had[ANNOTATION_SOURCE_UID] !== pulled.metadata?.uid;
  return {
    failures,
    write: {
      action: "pull",
      reason: firstFill
        ? `filled from ${fromText}`
        : sourceChanged
        ? "the source changed"
        : `the copy was edited (${drift}); reverting`,
      object: desired.object,
      patch,
      drift: !sourceChanged && !firstFill ? drift : undefined,
      observedResourceVersion: puller.metadata?.resourceVersion,
    },
  };
}

function kindText(o: KubeObject): string {
  const gk = groupKindOf(o);
  return gk.group ? `${gk.kind}.${gk.group}` : gk.kind;
}

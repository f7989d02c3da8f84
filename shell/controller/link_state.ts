/**
 * What the controller holds of one cluster link (docs/CONTRACT.md §10): its Secret, the upstream it names,
 * its watches per kind and what each kind's last answer was (absent, refused, failing, listed), and the
 * rules read from that alone: whether the link is up, and how long a refused kind waits to be asked again.
 *
 * @example
 * ```ts
 * import { linkIsUp, newLinkState, recheckAfter } from "./link_state.ts";
 * const link = newLinkState({ metadata: { name: "hub" } });
 * console.log(linkIsUp(link)); // false: no upstream client yet
 * console.log(recheckAfter(true)); // 1000: a kind listed before is asked again after 1 s
 * ```
 * @module
 */
import type { KubeObject } from "../../core/types.ts";
import type { KubeClient } from "../kube/client.ts";
import type { Informer } from "../kube/informer.ts";

/** One link Secret, as the controller holds it. */
export interface LinkState {
  /** The link Secret as last read. */
  secret: KubeObject;
  /** The upstream cluster its Secret names now, or named when it was last valid. */
  cluster?: string;
  /** What is wrong with the Secret, when it is invalid (its mirrors are kept). */
  invalid?: string;
  /** The last failure talking to the upstream. */
  error?: string;
  /** The upstream's sources, per `group/Kind`. */
  sources: Map<string, Informer>;
  /** Kinds the upstream does not serve (404): empty, and looked for again at the next discovery. */
  absent: Set<string>;
  /** Kinds whose watch is failing now. */
  failing: Set<string>;
  /**
   * Kinds the link's identity may not list upstream (403): the upstream shares other kinds only. Their
   * mirrors are kept; each is asked again after a wait of its own that doubles ({@link recheckAfter}),
   * and at each discovery. When every kind is forbidden, the link is down.
   */
  forbidden: Set<string>;
  /** Forbidden kinds already said in the log (said once, not at every re-check). */
  saidForbidden: Set<string>;
  /** Per forbidden kind: the wait before its next re-check, and the pending one's cancel. */
  rechecks: Map<string, { waitMs: number; cancel?: () => void }>;
  /** Kinds listed through the link since its watches started. */
  listed: Set<string>;
  /** The kubeconfig the watches were made with. */
  kubeconfig?: string;
  client?: KubeClient;
  allowedNamespaces: string[];
  /** What the Secret said when last read, to tell a change that matters from a status write. */
  signature?: string;
  /** Whether the link was up when last said (log, Event, metric). */
  up?: boolean;
}

/** The first wait before a kind the link's identity may not list is asked again; it doubles up to 5 minutes. */
export const FORBIDDEN_RECHECK_MS = 30_000;
/**
 * The first wait for a kind the link listed before: a refusal then most likely comes from an upstream API
 * server that has just started (it answers 403 until it has read its RBAC), so it is asked again soon.
 */
export const REFUSED_AFTER_LISTED_MS = 1_000;

/** How long a kind refused (403) through a link waits before it is asked again the first time. */
export function recheckAfter(listedBefore: boolean): number {
  return listedBefore ? REFUSED_AFTER_LISTED_MS : FORBIDDEN_RECHECK_MS;
}
/** The longest wait between two re-checks of a refused kind. */
export const FORBIDDEN_RECHECK_MAX_MS = 300_000;

/** A link just read from its Secret: no upstream client or watch yet. */
export function newLinkState(secret: KubeObject): LinkState {
  return {
    secret,
    sources: new Map(),
    absent: new Set(),
    failing: new Set(),
    forbidden: new Set(),
    saidForbidden: new Set(),
    rechecks: new Map(),
    listed: new Set(),
    allowedNamespaces: [],
  };
}

/** Whether the link is valid, every kind it may read is listed and no watch is failing. */
export function linkIsUp(link: LinkState): boolean {
  if (link.invalid || !link.client) return false;
  if (link.failing.size > 0) return false;
  let readable = 0;
  for (const [gk, inf] of link.sources) {
    if (link.absent.has(gk) || link.forbidden.has(gk)) continue;
    if (!inf.hasSynced) return false;
    readable++;
  }
  return readable > 0 || link.absent.size > 0;
}

/** Stops the link's watches and re-checks, and forgets its client and what its kinds answered. */
export function stopLinkWatches(link: LinkState): void {
  for (const r of link.rechecks.values()) r.cancel?.();
  link.rechecks.clear();
  link.listed.clear();
  link.saidForbidden.clear();
  for (const inf of link.sources.values()) inf.stop();
  link.sources.clear();
  link.absent.clear();
  link.failing.clear();
  link.forbidden.clear();
  link.client = undefined;
  link.kubeconfig = undefined;
}

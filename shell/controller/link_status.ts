/**
 * What is recorded on a link Secret (docs/CONTRACT.md §10): `link-status` when it changes, and Events
 * for what its administrator must act on: an invalid link, an upstream that cannot be reached (Warning)
 * and its return (Normal), and the errors of the link's sources (a conflict in a downstream namespace,
 * an invalid annotation), each at most once per resync period.
 *
 * @example
 * ```ts
 * import { LinkStatusWriter } from "./link_status.ts";
 * import { SourceStatusWriter } from "./source_status.ts";
 * import type { KubeClient } from "../kube/client.ts";
 * declare const client: KubeClient;
 * const writer = new LinkStatusWriter(client, new SourceStatusWriter(client, { identity: "pod-a", repeatEventsAfterMs: 600_000 }));
 * writer.noteErrors("hub", "hub#/Secret/default/tls", []); // the source has no error now
 * ```
 * @module
 */
import { type LinkCounts, linkStatusChange } from "../../core/cluster_link.ts";
import { ANNOTATION_LINK_STATUS } from "../../core/markers.ts";
import type { PlanError } from "../../core/plan.ts";
import { ERROR_REASONS, type SourceEvent } from "../../core/status.ts";
import type { KubeObject } from "../../core/types.ts";
import { isStatus, type KubeClient } from "../kube/client.ts";
import type { ObjectCache } from "../kube/object_store.ts";
import { errorMessage, type Logger } from "../runtime/log.ts";
import { patchSourceMetadata } from "./executor.ts";
import type { LinkState } from "./link_state.ts";
import { linkKey } from "./queue_keys.ts";
import type { SourceStatusWriter } from "./source_status.ts";

const SECRETS = { group: "", version: "v1", plural: "secrets", namespaced: true };

/** Writes link Secrets' status and Events. */
export class LinkStatusWriter {
  /** Per cluster: the keys of its sources that had errors at their last reconcile. */
  readonly #errors = new Map<string, Set<string>>();
  /** Per link Secret: whether it was up at the last look (for the Event when it comes back). */
  readonly #wasUp = new Map<string, boolean>();

  constructor(readonly client: KubeClient, readonly events: SourceStatusWriter) {}

  /** Notes a link source's errors after its reconcile. */
  noteErrors(cluster: string, key: string, errors: readonly PlanError[]): void {
    const set = this.#errors.get(cluster) ?? new Set<string>();
    if (errors.length > 0) set.add(key);
    else set.delete(key);
    this.#errors.set(cluster, set);
  }

  /** How many of a link's sources have errors. */
  errorCount(cluster: string): number {
    return this.#errors.get(cluster)?.size ?? 0;
  }

  /** Records a link source's errors as Events on the link Secret. */
  async reportSourceErrors(
    link: KubeObject,
    key: string,
    cluster: string,
    errors: readonly PlanError[],
    log: Logger,
    signal?: AbortSignal,
  ): Promise<void> {
    const events: SourceEvent[] = errors.map((e) => ({
      reason: e.reason ?? ERROR_REASONS[e.kind],
      message: `${e.source.kind} ${cluster}:${e.source.namespace}/${e.source.name}: ${
        e.key ? `${e.key}: ${e.message}` : e.message
      }`,
    }));
    await this.events.report(key, link, events, log, signal);
  }

  /** Records a link's state: Events for what changed, `link-status` when it differs. */
  async record(
    link: LinkState,
    up: boolean,
    counts: LinkCounts,
    secrets: ObjectCache,
    log: Logger,
    signal?: AbortSignal,
  ): Promise<"recorded" | "conflict"> {
    const secret = link.secret;
    const name = secret.metadata?.name ?? "";
    const key = linkKey(name);
    const events: SourceEvent[] = [];
    if (link.invalid) {
      events.push({
        reason: "InvalidLink",
        message: `the link is invalid and its mirrors are kept: ${link.invalid}`,
      });
    } else if (!up && link.error) {
      events.push({
        reason: "LinkUnreachable",
        message:
          `cluster "${link.cluster}" cannot be read (${link.error}); its ${counts.mirrors} mirrors are kept`,
      });
    }
    const was = this.#wasUp.get(name);
    if (up && was === false) {
      events.push({
        type: "Normal",
        reason: "LinkResumed",
        message: `cluster "${link.cluster}" answers again`,
      });
    }
    this.#wasUp.set(name, up);
    await this.events.report(key, secret, events, log, signal);
    const value = linkStatusChange(secret, counts);
    if (value === undefined) return "recorded";
    try {
      const updated = await patchSourceMetadata(this.client, SECRETS, secret, {
        annotations: { [ANNOTATION_LINK_STATUS]: value },
      }, signal);
      link.secret = { ...updated, apiVersion: "v1", kind: "Secret" };
      secrets.observe(link.secret);
      return "recorded";
    } catch (e) {
      if (isStatus(e, 409)) return "conflict";
      if (!isStatus(e, 404)) log.warn("could not update the link Secret", { error: errorMessage(e) });
      return "recorded";
    }
  }

  /** Forgets a link Secret that is gone. */
  forget(name: string, cluster?: string): void {
    this.#wasUp.delete(name);
    this.events.forget(linkKey(name));
    if (cluster) this.#errors.delete(cluster);
  }
}

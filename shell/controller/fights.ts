/**
 * Mirrors that another writer keeps editing: when to revert them (the core's {@link decideRevert}, per
 * mirror), who the other writer is (from the mirror's managedFields, read once per fight, since the cache
 * drops them), and the Event that tells the source's author.
 *
 * @example
 * ```ts
 * import { Fights } from "./fights.ts";
 * import type { KubeClient } from "../kube/client.ts";
 * declare const client: KubeClient;
 * const fights = new Fights(client, Date.now);
 * const configMaps = { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps" };
 * const verdict = await fights.revert(configMaps, "app1", "cfg", "data.v");
 * // { revertNow: true } the first times; later { revertNow: false, waitMs } or a note naming the writer
 * ```
 * @module
 */
import { decideRevert, FIGHT_WINDOW_MS, isFight, type RevertHistory } from "../../core/fight.ts";
import { groupKindKey } from "../../core/group_kind.ts";
import type { MirrorableKind } from "../../core/mirrorable.ts";
import { sourceKey } from "./queue_keys.ts";
import type { SourceEvent } from "../../core/status.ts";
import { type KubeClient, resourcePath } from "../kube/client.ts";

/** Whether to revert a drifted mirror now, and what to tell the source's author. */
export type RevertVerdict = { revertNow: true; note?: SourceEvent } | { revertNow: false; waitMs: number };

/** Revert histories per mirror, with the other writer once known. */
export class Fights {
  readonly #reverts = new Map<string, RevertHistory & { writer?: string }>();

  constructor(readonly client: KubeClient, readonly now: () => number) {}

  /** Decides on one drifted mirror (`drift` is the first path found edited). */
  async revert(
    kind: MirrorableKind,
    namespace: string,
    name: string,
    drift: string,
    signal?: AbortSignal,
  ): Promise<RevertVerdict> {
    const key = sourceKey(groupKindKey(kind), namespace, name); // a mirror, keyed as the queue keys objects
    const previous = this.#reverts.get(key);
    const decision = decideRevert(previous, this.now());
    if (!decision.revertNow) return { revertNow: false, waitMs: decision.waitMs };
    const entry: RevertHistory & { writer?: string } = { ...decision.history, writer: previous?.writer };
    this.#reverts.set(key, entry);
    if (!isFight(entry)) return { revertNow: true };
    entry.writer ??= await this.#lastWriter(kind, namespace, name, signal);
    return {
      revertNow: true,
      note: {
        reason: "MirrorFight",
        message:
          `mirror ${namespace}/${name} keeps being changed (${drift}) by ${
            entry.writer ?? "another writer"
          }: ` +
          `kubemirror reverts it each time, waiting longer between reverts (up to 5m); stop the other writer, ` +
          `or take the namespace out of the source's targets`,
      },
    };
  }

  /** Drops the histories of mirrors left alone for a while. */
  prune(): void {
    const quiet = this.now() - FIGHT_WINDOW_MS;
    for (const [key, h] of this.#reverts) if (h.lastAt < quiet) this.#reverts.delete(key);
  }

  async #lastWriter(
    kind: MirrorableKind,
    namespace: string,
    name: string,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    try {
      const live = await this.client.get(resourcePath(kind, namespace, name), { signal });
      const entries = ((live.metadata?.managedFields ?? []) as { manager?: string; time?: string }[])
        .filter((m) => m.manager && !m.manager.startsWith("kubemirror"))
        .sort((a, b) => (a.time ?? "") < (b.time ?? "") ? 1 : -1);
      return entries[0] ? `"${entries[0].manager}" (managedFields, at ${entries[0].time})` : undefined;
    } catch {
      return undefined;
    }
  }
}

/**
 * Sharding, the pure part (docs/SCALING.md, "After one replica"): several active replicas, each holding a
 * member Lease, sources assigned to members by rendezvous hashing, and a fencing rule so that no source is
 * ever written by two replicas at once, whatever the members' views and clock rates. Not wired into the
 * controller yet: one replica serves the sizes measured so far; this is the design, checked by a
 * simulation (shard_test.ts).
 *
 * The rule, per replica, from what it has observed of the member Leases (times by its own clock):
 * - another member counts from `joinDelayMs` after this replica first saw its Lease, until `leaseMs`
 *   after this replica last saw it renewed (a member that stops renewing is gone only once its Lease has
 *   surely expired);
 * - this replica counts itself only from `joinDelayMs + 2 × lagMs` after it acquired its Lease, and only while
 *   it renewed within `renewDeadlineMs` (a replica that cannot renew stops writing before anyone takes its
 *   sources);
 * - a source belongs to the member with the highest rendezvous weight among those counted; a replica
 *   writes exactly the sources that belong to it in its own view.
 *
 * @example
 * ```ts
 * import { rendezvousOwner } from "./shard.ts";
 * import assert from "node:assert/strict";
 * const owner = rendezvousOwner("/Secret/platform/registry", ["pod-a", "pod-b", "pod-c"]);
 * assert.ok(["pod-a", "pod-b", "pod-c"].includes(owner!));
 * // Removing another member never moves this source.
 * const other = ["pod-a", "pod-b", "pod-c"].filter((m) => m !== owner)[0];
 * assert.equal(rendezvousOwner("/Secret/platform/registry", ["pod-a", "pod-b", "pod-c"].filter((m) => m !== other)), owner);
 * ```
 * @module
 */
import { createHash } from "node:crypto";

/** Timings of the member Leases. */
export interface ShardTimings {
  /** How long a member Lease is valid after its renewal. */
  leaseMs: number;
  /** A member that has not renewed within this long stops writing (less than `leaseMs`). */
  renewDeadlineMs: number;
  /** How long before a new member is counted by the others (its join is seen by all by then). */
  joinDelayMs: number;
  /** The longest time between a Lease write and another member seeing it (its watch or poll). */
  lagMs: number;
}

/** Timings that keep ownership exclusive under the bounds `shardTimingsSafe` checks. */
export const DEFAULT_SHARD_TIMINGS: ShardTimings = {
  leaseMs: 15_000,
  renewDeadlineMs: 10_000,
  joinDelayMs: 5_000,
  lagMs: 2_000,
};

/** The rendezvous weight of a member for a key: the first 48 bits of SHA-256(member, key). */
export function rendezvousWeight(member: string, key: string): number {
  const digest = createHash("sha256").update(member).update("\0").update(key).digest();
  return digest.readUIntBE(0, 6);
}

/** The member a key belongs to among `members` (highest weight, ties by name), or undefined when none. */
export function rendezvousOwner(key: string, members: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestWeight = -1;
  for (const m of members) {
    const w = rendezvousWeight(m, key);
    if (w > bestWeight || (w === bestWeight && best !== undefined && m < best)) {
      best = m;
      bestWeight = w;
    }
  }
  return best;
}

/** What one replica has observed of one member Lease, by its own clock. */
export interface MemberObservation {
  identity: string;
  /** When this replica first saw the Lease (its current holder's record). */
  firstSeenAt: number;
  /** When this replica last saw the Lease renewed. */
  lastRenewalSeenAt: number;
}

/** One replica's view: itself, its own Lease, and what it has seen of the others. */
export interface ReplicaView {
  self: string;
  /** When this replica acquired its member Lease, and last renewed it (undefined: it holds none). */
  acquiredAt?: number;
  renewedAt?: number;
  others: readonly MemberObservation[];
  now: number;
  timings: ShardTimings;
}

/** The members a replica counts now (itself included only while it may write). */
export function countedMembers(v: ReplicaView): { members: string[]; selfCounts: boolean } {
  const t = v.timings;
  const selfCounts = v.acquiredAt !== undefined && v.renewedAt !== undefined &&
    v.now >= v.acquiredAt + t.joinDelayMs + 2 * t.lagMs && v.now < v.renewedAt + t.renewDeadlineMs;
  const others = v.others.filter((o) =>
    o.identity !== v.self && v.now >= o.firstSeenAt + t.joinDelayMs && v.now < o.lastRenewalSeenAt + t.leaseMs
  ).map((o) => o.identity);
  // Itself: while it holds its Lease at all, it still counts for others' keys (it must not take them),
  // but writes only when selfCounts.
  const holding = v.renewedAt !== undefined && v.now < v.renewedAt + t.leaseMs;
  const members = [...new Set([...others, ...(holding || selfCounts ? [v.self] : [])])].sort();
  return { members, selfCounts };
}

/** Whether this replica writes `key` now. */
export function ownsKey(v: ReplicaView, key: string): boolean {
  const { members, selfCounts } = countedMembers(v);
  return selfCounts && rendezvousOwner(key, members) === v.self;
}

/**
 * Whether the timings keep ownership exclusive when clocks run at rates within `skew` (0.01 = 1 %) of
 * each other: a replica that stops renewing stops writing (renew deadline, on its clock) before any other
 * counts its Lease expired (lease duration, on theirs); a new member starts writing only after every
 * other member counts it.
 */
export function shardTimingsSafe(t: ShardTimings, skew: number): boolean {
  const fast = 1 + skew;
  const slow = 1 - skew;
  // Leaving: the silent member's last write (renew deadline, on a slow clock) comes before anyone's expiry
  // (lease, on a fast clock), both counted from the same renewal.
  const leave = t.renewDeadlineMs / slow < t.leaseMs / fast;
  // Joining: the newcomer's first write (its own wait, on a fast clock) comes after the slowest other
  // member counts it (seen within lagMs, then joinDelayMs on a slow clock).
  const join = (t.joinDelayMs + 2 * t.lagMs) / fast > t.lagMs + t.joinDelayMs / slow;
  return leave && join;
}

/**
 * Leader election on a Lease, as a decision: given the lease as read, our identity, the time and the
 * durations, what to write (acquire, renew, release) or whether to wait. The shell does the reading,
 * writing (with the lease's resourceVersion) and sleeping. A leader counts itself leader only until
 * `renewDeadline` after its last renewal, by its own clock. Others judge expiry as client-go does: by
 * their own clock, `leaseDuration` after they first saw the current record, never by the holder's
 * `renewTime`, so clocks that disagree between replicas never make two leaders.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { decideLeadership, DEFAULT_LEADER_TIMINGS } from "./leader.ts";
 * const d = decideLeadership({ lease: undefined, identity: "pod-a", now: 1000, timings: DEFAULT_LEADER_TIMINGS });
 * assert.equal(d.action, "acquire");
 * assert.equal(d.action === "acquire" && d.lease.holderIdentity, "pod-a");
 * ```
 * @module
 */

/** The Lease's spec with times as milliseconds since the epoch. */
export interface LeaseState {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: number;
  renewTime?: number;
  leaseTransitions?: number;
}

/** Durations in milliseconds. */
export interface LeaderTimings {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** The durations of docs/CONTRACT.md §6: 15 s lease, 10 s renew deadline, 2 s retry. */
export const DEFAULT_LEADER_TIMINGS: LeaderTimings = {
  leaseDurationMs: 15_000,
  renewDeadlineMs: 10_000,
  retryPeriodMs: 2_000,
};

/** What to do now. */
export type LeaderDecision =
  | { action: "acquire"; lease: LeaseState }
  | { action: "renew"; lease: LeaseState }
  | { action: "release"; lease: LeaseState }
  | { action: "wait"; holder?: string; retryInMs: number };

/** The inputs of a decision. */
export interface LeaderInput {
  /** The lease as read; undefined when it does not exist. */
  lease: LeaseState | undefined;
  identity: string;
  now: number;
  timings: LeaderTimings;
  /**
   * Our local time when we first saw the lease's current record (holder and renewTime). When given,
   * expiry is judged from it; without it, from the record's renewTime (one clock only).
   */
  observedAt?: number;
  /** True once SIGTERM arrived: release a held lease, never acquire. */
  shuttingDown?: boolean;
}

/**
 * Whether the lease's holder can no longer be acting as leader at `now`: `leaseDuration` has passed since
 * `observedAt` (our clock), or, without it, since the record's renewTime.
 */
export function leaseExpired(
  lease: LeaseState,
  now: number,
  timings: LeaderTimings,
  observedAt?: number,
): boolean {
  if (!lease.holderIdentity) return true;
  const duration = (lease.leaseDurationSeconds ?? timings.leaseDurationMs / 1000) * 1000;
  return (observedAt ?? lease.renewTime ?? lease.acquireTime ?? 0) + duration <= now;
}

/** Whether `identity` may act as leader at `now`: it holds the lease and renewed it within the renew deadline. */
export function actsAsLeader(
  lease: LeaseState | undefined,
  identity: string,
  now: number,
  timings: LeaderTimings,
): boolean {
  if (!lease || lease.holderIdentity !== identity) return false;
  return now < (lease.renewTime ?? lease.acquireTime ?? 0) + timings.renewDeadlineMs;
}

/** Decides the next step of leader election. */
export function decideLeadership(input: LeaderInput): LeaderDecision {
  const { lease, identity, now, timings } = input;
  const seconds = Math.ceil(timings.leaseDurationMs / 1000);
  const held = lease?.holderIdentity === identity && lease !== undefined;
  if (input.shuttingDown) {
    if (held) {
      return {
        action: "release",
        lease: { ...lease, holderIdentity: "", leaseDurationSeconds: 1, renewTime: now },
      };
    }
    return { action: "wait", holder: lease?.holderIdentity || undefined, retryInMs: timings.retryPeriodMs };
  }
  if (held && !leaseExpired(lease, now, timings)) {
    return { action: "renew", lease: { ...lease, leaseDurationSeconds: seconds, renewTime: now } };
  }
  if (!lease || leaseExpired(lease, now, timings, held ? undefined : input.observedAt)) {
    const transitions = (lease?.leaseTransitions ?? 0) + (lease && lease.holderIdentity !== identity ? 1 : 0);
    return {
      action: "acquire",
      lease: {
        holderIdentity: identity,
        leaseDurationSeconds: seconds,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: transitions,
      },
    };
  }
  return { action: "wait", holder: lease.holderIdentity, retryInMs: timings.retryPeriodMs };
}

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  countedMembers,
  DEFAULT_SHARD_TIMINGS,
  type MemberObservation,
  ownsKey,
  rendezvousOwner,
  shardTimingsSafe,
} from "./shard.ts";

const KEYS = Array.from({ length: 40 }, (_, i) => `/ConfigMap/ns-${i % 7}/cfg-${i}`);
const SKEW = 0.01;

Deno.test("property: rendezvous owners are stable: a member leaving moves only its own keys, a member joining takes keys only for itself", () => {
  fc.assert(fc.property(
    fc.uniqueArray(fc.stringMatching(/^pod-[a-z0-9]{1,4}$/), { minLength: 1, maxLength: 6 }),
    fc.stringMatching(/^pod-[a-z0-9]{1,4}$/),
    (members, newcomer) => {
      fc.pre(!members.includes(newcomer));
      for (const key of KEYS) {
        const owner = rendezvousOwner(key, members)!;
        assert.ok(members.includes(owner));
        assert.equal(rendezvousOwner(key, [...members].reverse()), owner, "order does not matter");
        const joined = rendezvousOwner(key, [...members, newcomer]);
        assert.ok(joined === owner || joined === newcomer);
        for (const gone of members.filter((m) => m !== owner)) {
          assert.equal(rendezvousOwner(key, members.filter((m) => m !== gone)), owner);
        }
      }
    },
  ));
});

Deno.test("the default shard timings are safe for clocks 1 % apart, and a shorter lease is not", () => {
  assert.ok(shardTimingsSafe(DEFAULT_SHARD_TIMINGS, SKEW));
  assert.ok(!shardTimingsSafe({ ...DEFAULT_SHARD_TIMINGS, leaseMs: 10_000 }, SKEW));
  assert.ok(!shardTimingsSafe({ ...DEFAULT_SHARD_TIMINGS, renewDeadlineMs: 14_900 }, SKEW));
  assert.ok(!shardTimingsSafe(DEFAULT_SHARD_TIMINGS, 0.3), "clocks 30 % apart are beyond these timings");
});

/** One replica in the simulation: its clock, when it joins, and when it stops renewing (crash or partition). */
interface Replica {
  id: string;
  rate: number;
  offset: number;
  joinAt: number;
  /** Real time it stops renewing; `crash` also stops it writing (it is gone), a partition does not. */
  stopAt?: number;
  crash: boolean;
  /** Observation lag (real ms) of each renewal it makes, as seen by the others. */
  lags: number[];
}

const replicaArb = (i: number) =>
  fc.record({
    id: fc.constant(`pod-${i}`),
    rate: fc.double({ min: 1 - SKEW, max: 1 + SKEW, noNaN: true }),
    offset: fc.integer({ min: -1e6, max: 1e6 }),
    joinAt: fc.integer({ min: 0, max: 40_000 }),
    stopAt: fc.option(fc.integer({ min: 10_000, max: 80_000 }), { nil: undefined }),
    crash: fc.boolean(),
    lags: fc.array(fc.integer({ min: 0, max: DEFAULT_SHARD_TIMINGS.lagMs }), {
      minLength: 64,
      maxLength: 64,
    }),
  });

/**
 * Runs the member Leases in real time: each replica renews every 2 s of its own clock from its join until
 * it stops; every renewal is seen by the others after that renewal's lag. Returns, per 100 ms tick, which
 * live replicas write each key.
 */
function simulate(
  replicas: Replica[],
  horizon: number,
  check: (t: number, writers: Map<string, string[]>) => void,
) {
  const t = DEFAULT_SHARD_TIMINGS;
  const local = (r: Replica, real: number) => r.offset + r.rate * real;
  // Renewal times (real) per replica.
  const renewals = new Map<string, number[]>();
  for (const r of replicas) {
    const times: number[] = [];
    for (let k = 0;; k++) {
      const at = r.joinAt + (k * 2_000) / r.rate;
      if (at > horizon || (r.stopAt !== undefined && at >= r.stopAt)) break;
      times.push(at);
    }
    renewals.set(r.id, times);
  }
  for (let now = 0; now <= horizon; now += 100) {
    const writers = new Map<string, string[]>();
    for (const r of replicas) {
      if (now < r.joinAt || (r.crash && r.stopAt !== undefined && now >= r.stopAt)) continue;
      const own = renewals.get(r.id)!.filter((x) => x <= now);
      if (own.length === 0) continue;
      const others: MemberObservation[] = [];
      for (const o of replicas) {
        if (o.id === r.id) continue;
        const seen = renewals.get(o.id)!.map((x, k) => ({ at: x + o.lags[k % o.lags.length] })).filter((x) =>
          x.at <= now
        );
        if (seen.length === 0) continue;
        others.push({
          identity: o.id,
          firstSeenAt: local(r, Math.min(...seen.map((s) => s.at))),
          lastRenewalSeenAt: local(r, Math.max(...seen.map((s) => s.at))),
        });
      }
      const view = {
        self: r.id,
        acquiredAt: local(r, own[0]),
        renewedAt: local(r, own.at(-1)!),
        others,
        now: local(r, now),
        timings: t,
      };
      for (const key of KEYS) {
        if (ownsKey(view, key)) writers.set(key, [...(writers.get(key) ?? []), r.id]);
      }
      if (now === horizon) assert.ok(countedMembers(view).members.includes(r.id) || r.stopAt !== undefined);
    }
    check(now, writers);
  }
}

Deno.test("property: under joins, crashes, partitions, observation lag and clocks 1 % apart, no key is ever written by two replicas at once", () => {
  fc.assert(
    fc.property(fc.tuple(replicaArb(0), replicaArb(1), replicaArb(2), replicaArb(3)), (replicas) => {
      simulate(replicas, 100_000, (now, writers) => {
        for (const [key, who] of writers) assert.ok(who.length <= 1, `${key} written by ${who} at ${now} ms`);
      });
    }),
    { numRuns: 40 },
  );
});

Deno.test("property: once membership is quiet, every key has exactly one writer", () => {
  fc.assert(
    fc.property(fc.tuple(replicaArb(0), replicaArb(1), replicaArb(2)), (replicas) => {
      // Everyone joins early and stays: after joins settle, every key is written, by exactly one replica.
      const steady = replicas.map((r) => ({ ...r, stopAt: undefined, joinAt: r.joinAt % 10_000 }));
      simulate(steady, 40_000, (now, writers) => {
        if (now < 30_000) return;
        for (const key of KEYS) assert.equal(writers.get(key)?.length, 1, `${key} at ${now} ms`);
      });
    }),
    { numRuns: 20 },
  );
});

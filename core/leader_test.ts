import assert from "node:assert/strict";
import fc from "fast-check";
import { actsAsLeader, decideLeadership, DEFAULT_LEADER_TIMINGS, type LeaseState } from "./leader.ts";

const T = DEFAULT_LEADER_TIMINGS;

Deno.test("leader: acquire a missing or expired lease, renew our own, wait for another's, release on shutdown", () => {
  const a = decideLeadership({ lease: undefined, identity: "a", now: 1000, timings: T });
  assert.equal(a.action, "acquire");
  const held = (a as { lease: LeaseState }).lease;
  assert.deepEqual(held, {
    holderIdentity: "a",
    leaseDurationSeconds: 15,
    acquireTime: 1000,
    renewTime: 1000,
    leaseTransitions: 0,
  });
  assert.equal(decideLeadership({ lease: held, identity: "a", now: 3000, timings: T }).action, "renew");
  const wait = decideLeadership({ lease: held, identity: "b", now: 3000, timings: T });
  assert.deepEqual(wait, { action: "wait", holder: "a", retryInMs: 2000 });
  const takeover = decideLeadership({ lease: held, identity: "b", now: 1000 + 15_000, timings: T });
  assert.equal(takeover.action, "acquire");
  assert.equal((takeover as { lease: LeaseState }).lease.leaseTransitions, 1);
  const release = decideLeadership({ lease: held, identity: "a", now: 4000, timings: T, shuttingDown: true });
  assert.equal(release.action, "release");
  const released = (release as { lease: LeaseState }).lease;
  assert.equal(released.holderIdentity, "");
  assert.equal(
    decideLeadership({ lease: released, identity: "b", now: 4001, timings: T }).action,
    "acquire",
    "instant hand-over",
  );
  assert.equal(
    decideLeadership({ lease: undefined, identity: "a", now: 1, timings: T, shuttingDown: true }).action,
    "wait",
  );
});

Deno.test("leader: a leader that could not renew for the renew deadline stops acting before anyone may take over", () => {
  const lease: LeaseState = { holderIdentity: "a", leaseDurationSeconds: 15, renewTime: 0 };
  assert.ok(actsAsLeader(lease, "a", 9_999, T));
  assert.ok(!actsAsLeader(lease, "a", 10_000, T));
  assert.equal(decideLeadership({ lease, identity: "b", now: 14_999, timings: T }).action, "wait");
});

/**
 * Several identities act at random times on one lease kept by an API server with optimistic concurrency:
 * a write succeeds only against the version it read. Each identity acts as leader from its last successful
 * acquire or renew until the renew deadline passes, as the shell does. At no moment may two act as leader.
 */
Deno.test("property: the leader decision never lets two identities hold one unexpired lease", () => {
  const ids = ["a", "b", "c"];
  const step = fc.record({
    who: fc.constantFrom(...ids),
    advance: fc.integer({ min: 0, max: 6000 }),
    staleRead: fc.boolean(),
    shuttingDown: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
  });
  fc.assert(
    fc.property(fc.array(step, { minLength: 1, maxLength: 80 }), (steps) => {
      let now = 0;
      let stored: { lease: LeaseState; version: number } | undefined;
      let previous: { lease: LeaseState; version: number } | undefined;
      const since = new Map<string, number>();
      for (const s of steps) {
        now += s.advance;
        // A stale read sees the lease as it was one write ago; its write then fails on the version check.
        const read = s.staleRead ? previous : stored;
        const d = decideLeadership({
          lease: read?.lease,
          identity: s.who,
          now,
          timings: T,
          shuttingDown: s.shuttingDown,
        });
        if (d.action !== "wait" && (read?.version ?? 0) === (stored?.version ?? 0)) {
          previous = stored;
          stored = { lease: d.lease, version: (stored?.version ?? 0) + 1 };
          if (d.action === "release") since.delete(s.who);
          else since.set(s.who, now);
        }
        const leaders = ids.filter((id) => since.has(id) && now < since.get(id)! + T.renewDeadlineMs);
        assert.ok(leaders.length <= 1, `two identities act as leader at ${now}: ${leaders}`);
      }
    }),
    { numRuns: 1000 },
  );
});

Deno.test("property: no identity other than the holder is ever told to acquire an unexpired lease", () => {
  fc.assert(fc.property(
    fc.integer({ min: 0, max: 1e9 }),
    fc.integer({ min: 0, max: 14_999 }),
    fc.constantFrom("b", "c"),
    (renewTime, elapsed, other) => {
      const lease = { holderIdentity: "a", leaseDurationSeconds: 15, renewTime };
      assert.equal(
        decideLeadership({ lease, identity: other, now: renewTime + elapsed, timings: T }).action,
        "wait",
      );
    },
  ));
});

Deno.test("property: with clocks that disagree between replicas, two replicas never act as leader at once", () => {
  const T = DEFAULT_LEADER_TIMINGS;
  fc.assert(
    fc.property(
      // Each replica's clock is off by up to an hour, either way.
      fc.tuple(
        fc.integer({ min: -3_600_000, max: 3_600_000 }),
        fc.integer({ min: -3_600_000, max: 3_600_000 }),
      ),
      // Who tries when (real time gaps), and whether the holder's renewals get through (a paused etcd).
      fc.array(
        fc.record({ who: fc.constantFrom(0, 1), gap: fc.integer({ min: 0, max: 6_000 }), up: fc.boolean() }),
        {
          minLength: 1,
          maxLength: 80,
        },
      ),
      (offsets, steps) => {
        const ids = ["a", "b"];
        let lease: LeaseState | undefined;
        let version = 0;
        const seen = [{ version: -1, at: 0 }, { version: -1, at: 0 }];
        // Real-time intervals during which each replica acts as leader.
        const acting: [number, number][][] = [[], []];
        let real = 0;
        for (const { who, gap, up } of steps) {
          real += gap;
          const local = real + offsets[who];
          if (seen[who].version !== version) seen[who] = { version, at: local };
          const d = decideLeadership({
            lease,
            identity: ids[who],
            now: local,
            timings: T,
            observedAt: seen[who].at,
          });
          if ((d.action === "acquire" || d.action === "renew") && up) {
            lease = d.lease;
            version++;
            seen[who] = { version, at: local };
            // It acts until the renew deadline, by its own clock: as long in real time.
            const until = real + T.renewDeadlineMs;
            const last = acting[who].at(-1);
            if (last && last[1] >= real) last[1] = until;
            else acting[who].push([real, until]);
          }
        }
        for (const [a0, a1] of acting[0]) {
          for (const [b0, b1] of acting[1]) {
            assert.ok(a1 <= b0 || b1 <= a0, `a ${a0}–${a1} and b ${b0}–${b1} overlap`);
          }
        }
      },
    ),
    { numRuns: 1000 },
  );
});

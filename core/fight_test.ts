import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decideRevert,
  FIGHT_WINDOW_MS,
  isFight,
  MAX_REVERT_DELAY_MS,
  revertDelay,
  type RevertHistory,
} from "./fight.ts";

Deno.test("a fight with another writer costs a handful of writes, not hundreds", () => {
  // The other writer re-sets the value 10 ms after every revert, for 45 s.
  let history: RevertHistory | undefined;
  let writes = 0;
  for (let now = 0; now < 45_000; now += 10) {
    const d = decideRevert(history, now);
    history = d.history;
    if (d.revertNow) writes++;
  }
  assert.ok(writes <= 8, `${writes} reverts in 45 s`);
  assert.ok(isFight(history!));
});

Deno.test("property: delays never shrink as a fight goes on, are capped, and a quiet mirror starts afresh", () => {
  fc.assert(
    fc.property(fc.nat(100), (n) => {
      assert.ok(revertDelay(n + 1) >= revertDelay(n));
      assert.ok(revertDelay(n) <= MAX_REVERT_DELAY_MS);
    }),
  );
  fc.assert(
    fc.property(
      fc.record({ count: fc.integer({ min: 1, max: 50 }), lastAt: fc.nat(1e9) }),
      fc.nat(2 * FIGHT_WINDOW_MS),
      (h, dt) => {
        const d = decideRevert(h, h.lastAt + dt);
        // Deterministic.
        assert.deepEqual(decideRevert(h, h.lastAt + dt), d);
        if (dt > FIGHT_WINDOW_MS) {
          assert.deepEqual(d, { revertNow: true, history: { count: 1, lastAt: h.lastAt + dt } });
        } else if (d.revertNow) {
          assert.ok(dt >= revertDelay(h.count));
          assert.equal(d.history.count, h.count + 1);
        } else {
          // Waiting changes nothing, and waiting exactly that long reverts.
          assert.deepEqual(d.history, h);
          assert.equal(decideRevert(h, h.lastAt + dt + d.waitMs).revertNow, true);
        }
      },
    ),
  );
});

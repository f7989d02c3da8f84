import assert from "node:assert/strict";
import fc from "fast-check";
import { HEAP_RELEASE_FLOOR_BYTES, type HeapSample, shouldReleaseHeap } from "./heap_release.ts";

const MiB = 2 ** 20;
const sample = fc.record({
  heapUsed: fc.nat(2048 * MiB),
  liveAfterLastRelease: fc.nat(2048 * MiB),
  queueDepth: fc.nat(1000),
}) as fc.Arbitrary<HeapSample>;

Deno.test("after a 1,000-mirror burst the idle controller releases; while busy or barely grown it does not", () => {
  assert.equal(
    shouldReleaseHeap({ heapUsed: 70 * MiB, liveAfterLastRelease: 20 * MiB, queueDepth: 0 }),
    true,
  );
  assert.equal(
    shouldReleaseHeap({ heapUsed: 70 * MiB, liveAfterLastRelease: 20 * MiB, queueDepth: 1 }),
    false,
  );
  assert.equal(
    shouldReleaseHeap({ heapUsed: 30 * MiB, liveAfterLastRelease: 20 * MiB, queueDepth: 0 }),
    false,
  );
  // A large live set needs it to double, not just the floor.
  assert.equal(
    shouldReleaseHeap({ heapUsed: 300 * MiB, liveAfterLastRelease: 200 * MiB, queueDepth: 0 }),
    false,
  );
});

Deno.test("property: deterministic; never while work is queued; never below the floor", () => {
  fc.assert(
    fc.property(sample, (s) => {
      assert.equal(shouldReleaseHeap(s), shouldReleaseHeap({ ...s }));
      if (s.queueDepth > 0) assert.equal(shouldReleaseHeap(s), false);
      if (s.heapUsed <= s.liveAfterLastRelease + HEAP_RELEASE_FLOOR_BYTES) {
        assert.equal(shouldReleaseHeap(s), false);
      }
    }),
  );
});

Deno.test("property: idempotent: right after a release (heap = what is live) there is nothing to release", () => {
  fc.assert(
    fc.property(sample, fc.nat(2048 * MiB), (s, live) => {
      // Whatever came before, the collection leaves `live` in use and records it.
      assert.equal(
        shouldReleaseHeap({ heapUsed: live, liveAfterLastRelease: live, queueDepth: s.queueDepth }),
        false,
      );
    }),
  );
});

Deno.test("property: monotone: more garbage never turns a release into none", () => {
  fc.assert(
    fc.property(sample, fc.nat(512 * MiB), (s, more) => {
      if (shouldReleaseHeap(s)) assert.equal(shouldReleaseHeap({ ...s, heapUsed: s.heapUsed + more }), true);
    }),
  );
});

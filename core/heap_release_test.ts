import assert from "node:assert/strict";
import fc from "fast-check";
import { HEAP_RELEASE_FLOOR_BYTES, type HeapSample, shouldReleaseHeap } from "./heap_release.ts";

const MiB = 2 ** 20;
const sample = fc.record({
  heapUsed: fc.nat(2048 * MiB),
  liveAfterLastRelease: fc.option(fc.nat(2048 * MiB), { nil: undefined }),
  queueDepth: fc.nat(1000),
  ready: fc.boolean(),
}) as fc.Arbitrary<HeapSample>;

Deno.test("once synced and idle, start-up garbage goes at once; before the caches sync or while busy it stays", () => {
  assert.equal(shouldReleaseHeap({ heapUsed: 18 * MiB, queueDepth: 0, ready: true }), true);
  assert.equal(shouldReleaseHeap({ heapUsed: 18 * MiB, queueDepth: 0, ready: false }), false);
  assert.equal(shouldReleaseHeap({ heapUsed: 18 * MiB, queueDepth: 200, ready: true }), false);
});

Deno.test("after a 1,000-mirror burst the idle controller releases; while busy or barely grown it does not", () => {
  const after = { liveAfterLastRelease: 20 * MiB, ready: true };
  assert.equal(shouldReleaseHeap({ ...after, heapUsed: 70 * MiB, queueDepth: 0 }), true);
  assert.equal(shouldReleaseHeap({ ...after, heapUsed: 70 * MiB, queueDepth: 1 }), false);
  assert.equal(shouldReleaseHeap({ ...after, heapUsed: 27 * MiB, queueDepth: 0 }), false);
  // A large live set needs to grow by a quarter, not just the floor.
  const large = { liveAfterLastRelease: 200 * MiB, queueDepth: 0, ready: true };
  assert.equal(shouldReleaseHeap({ ...large, heapUsed: 240 * MiB }), false);
  assert.equal(shouldReleaseHeap({ ...large, heapUsed: 260 * MiB }), true);
});

Deno.test("property: deterministic; never while work is queued or before sync; never below the floor after a release", () => {
  fc.assert(
    fc.property(sample, (s) => {
      assert.equal(shouldReleaseHeap(s), shouldReleaseHeap({ ...s }));
      if (s.queueDepth > 0 || !s.ready) assert.equal(shouldReleaseHeap(s), false);
      if (
        s.liveAfterLastRelease !== undefined &&
        s.heapUsed <= s.liveAfterLastRelease + HEAP_RELEASE_FLOOR_BYTES
      ) {
        assert.equal(shouldReleaseHeap(s), false);
      }
    }),
  );
});

Deno.test("property: start-up is released exactly once: synced, idle and never collected always releases", () => {
  fc.assert(
    fc.property(fc.nat(2048 * MiB), (heapUsed) => {
      assert.equal(shouldReleaseHeap({ heapUsed, queueDepth: 0, ready: true }), true);
      // The collection records what is live, and the same heap right after asks for nothing more.
      assert.equal(
        shouldReleaseHeap({ heapUsed, liveAfterLastRelease: heapUsed, queueDepth: 0, ready: true }),
        false,
      );
    }),
  );
});

Deno.test("property: idempotent: right after a release (heap = what is live) there is nothing to release", () => {
  fc.assert(
    fc.property(sample, fc.nat(2048 * MiB), (s, live) => {
      // Whatever came before, the collection leaves `live` in use and records it.
      assert.equal(
        shouldReleaseHeap({ ...s, heapUsed: live, liveAfterLastRelease: live }),
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

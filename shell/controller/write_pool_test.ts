import assert from "node:assert/strict";
import { runShared, writeShare } from "./write_pool.ts";

Deno.test("write pool: every item runs once; fewer at once while the share shrinks, more again when it grows", async () => {
  let size = 10;
  let running = 0;
  const seen: { size: number; running: number }[] = [];
  const done: number[] = [];
  const items = Array.from({ length: 60 }, (_, i) => i);
  await runShared(items, () => size, async (i) => {
    running++;
    seen.push({ size, running });
    await new Promise((r) => setTimeout(r, 1));
    if (i === 10) size = 2; // other keys started
    if (i === 40) size = 10; // and finished
    running--;
    done.push(i);
  });
  assert.deepEqual([...done].sort((a, b) => a - b), items);
  assert.equal(Math.max(...seen.map((s) => s.running)), 10);
  // Once shrunk, a new item starts only while fewer than the share run.
  for (const s of seen) assert.ok(s.running <= Math.max(s.size, 10));
  const shrunk = seen.slice(
    seen.findIndex((s) => s.size === 2) + 10,
    seen.findIndex((s, i) => i > 20 && s.size === 10),
  );
  assert.ok(shrunk.length > 0 && shrunk.every((s) => s.running <= 2), JSON.stringify(shrunk));
  assert.ok(seen.slice(-15).some((s) => s.running > 2), "grew back");
});

Deno.test("write pool: a key's share of the 40 writes in flight, never below 8", () => {
  assert.deepEqual([1, 2, 3, 5, 10].map(writeShare), [40, 20, 13, 8, 8]);
});

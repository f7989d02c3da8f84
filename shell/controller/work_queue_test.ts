import assert from "node:assert/strict";
import { WorkQueue } from "./work_queue.ts";
import { FakeClock } from "../runtime/fake_clock.ts";

Deno.test("work queue: deduplicates waiting keys and never hands out a key twice at once", async () => {
  const q = new WorkQueue("t");
  q.add("a");
  q.add("a");
  q.add("b");
  assert.equal(q.length, 2);
  const first = await q.get();
  assert.equal(first, "a");
  q.add("a"); // added while in flight: not handed out again yet
  assert.equal(await q.get(), "b");
  let third: string | undefined = "none";
  const pending = q.get().then((k) => (third = k));
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(third, "none", "a is still in flight, so nobody gets it");
  q.done("a");
  await pending;
  assert.equal(third, "a", "once done, the dirty key runs again");
  q.done("a");
  q.done("b");
  q.shutDown();
  assert.equal(await q.get(), undefined);
});

Deno.test("work queue: failures come back after an exponential backoff, reset by forget", async () => {
  const q = new WorkQueue("t", undefined, 20, 1000);
  q.addRateLimited("k");
  const t0 = performance.now();
  assert.equal(await q.get(), "k");
  const first = performance.now() - t0;
  q.done("k");
  q.addRateLimited("k");
  const t1 = performance.now();
  assert.equal(await q.get(), "k");
  const second = performance.now() - t1;
  q.done("k");
  assert.ok(first >= 15, `first retry after ${first} ms`);
  assert.ok(second >= 35, `second retry after ${second} ms, about twice the first`);
  q.forget("k");
  q.shutDown();
});

Deno.test("work queue: a burst of batched adds hands a key out once, after the window of the first", async () => {
  const clock = new FakeClock();
  const q = new WorkQueue("test", undefined, undefined, undefined, clock);
  q.addBatched("a", 200);
  await clock.advance(150);
  q.addBatched("a", 200);
  q.addBatched("b", 200);
  assert.equal(q.length, 0);
  await clock.advance(50);
  assert.equal(q.length, 1);
  assert.equal(await q.get(), "a");
  q.done("a");
  await clock.advance(150);
  assert.equal(await q.get(), "b");
  q.done("b");
  // A key already waiting is not batched again; after the window it can be.
  q.add("c");
  q.addBatched("c", 200);
  await clock.advance(500);
  assert.equal(q.length, 1);
  q.shutDown();
});

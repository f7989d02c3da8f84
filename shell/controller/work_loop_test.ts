import assert from "node:assert/strict";
import { FakeClock } from "../runtime/fake_clock.ts";
import { createLogger } from "../runtime/log.ts";
import { createMetrics } from "../runtime/metrics.ts";
import { processKey, type ReconcileResult } from "./work_loop.ts";
import { WorkQueue } from "./work_queue.ts";

/** A queue on a fake clock, a scripted reconcile, and the metrics it records. */
function setup(script: (ReconcileResult | Error)[]) {
  const clock = new FakeClock();
  const queue = new WorkQueue("sources", undefined, 200, 60_000, clock);
  const metrics = createMetrics();
  const calls: string[] = [];
  const worker = {
    queue,
    reconcile: (key: string) => {
      calls.push(key);
      const next = script.shift() ?? { requeue: "no" };
      return next instanceof Error ? Promise.reject(next) : Promise.resolve(next);
    },
    label: () => "configmap",
    log: createLogger("error", {}, () => {}),
    metrics,
  };
  /** Takes the next key (it must be waiting) and works it once. */
  const step = async () => {
    let key: string | undefined;
    queue.get().then((k) => (key = k));
    await clock.advance(0);
    assert.ok(key !== undefined, "a key is waiting");
    await processKey(worker, key);
  };
  const result = async (r: string) =>
    (await metrics.reconcileTotal.get()).values.find((v) => v.labels.result === r)?.value ?? 0;
  return { clock, queue, calls, step, result, metrics };
}

const KEY = "/ConfigMap/default/cfg";

Deno.test("work loop: success forgets the key; nothing comes back", async () => {
  const { clock, queue, step, result } = setup([{ requeue: "no" }]);
  queue.add(KEY);
  await step();
  assert.equal(await result("success"), 1);
  await clock.advance(120_000);
  assert.equal(queue.depth, 0, "a key in sync is not worked again");
});

Deno.test("work loop: backoff and throws come back after 200 ms, doubling, and a success resets it", async () => {
  const { clock, queue, calls, step, result } = setup([
    { requeue: "backoff" },
    new Error("GET failed"),
    { requeue: "backoff" },
    { requeue: "no" },
    { requeue: "backoff" },
  ]);
  queue.add(KEY);
  await step();
  await clock.advance(199);
  assert.equal(queue.depth, 0, "not before 200 ms");
  await clock.advance(1);
  assert.equal(queue.depth, 1, "back after 200 ms");
  await step(); // the throw
  assert.equal(await result("error"), 1);
  await clock.advance(399);
  assert.equal(queue.depth, 0, "the second retry waits twice as long");
  await clock.advance(1);
  await step(); // backoff again: 800 ms
  await clock.advance(799);
  assert.equal(queue.depth, 0);
  await clock.advance(1);
  await step(); // success: the failures are forgotten
  queue.add(KEY);
  await step(); // backoff: from 200 ms again
  await clock.advance(200);
  assert.equal(queue.depth, 1, "after a success the backoff starts over");
  assert.equal(calls.length, 5);
  assert.equal(await result("requeue"), 3);
});

Deno.test("work loop: requeue after ms adds the key back then, and not with a backoff", async () => {
  const { clock, queue, step, result } = setup([{ requeue: "backoff" }, { requeue: "after", ms: 5_000 }]);
  queue.add(KEY);
  await step();
  await clock.advance(200);
  await step();
  assert.equal(await result("requeue_after"), 1);
  await clock.advance(4_999);
  assert.equal(queue.depth, 0);
  await clock.advance(1);
  assert.equal(queue.depth, 1, "back at the time the reconcile asked for");
});

Deno.test("work loop: a key added while it is worked runs once more afterwards, never twice at once", async () => {
  const { queue } = setup([]);
  queue.add(KEY);
  let key: string | undefined;
  queue.get().then((k) => (key = k));
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(key, KEY);
  queue.add(KEY); // an event while in flight
  assert.equal(queue.depth, 1, "in flight, not waiting twice");
  let second: string | undefined;
  queue.get().then((k) => (second = k));
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(second, undefined, "not handed out while in flight");
  queue.done(KEY);
  await new Promise((r) => setTimeout(r, 0));
  assert.equal(second, KEY, "runs again once done");
  queue.done(KEY);
});

Deno.test('work loop: a pulling object\'s reconcile is counted with direction="pull"; a push keeps its old series', async () => {
  const { queue, step, metrics } = setup([{ requeue: "no", direction: "pull" }, { requeue: "no" }]);
  queue.add(KEY);
  await step();
  queue.add("/ConfigMap/default/other");
  await step();
  const values = (await metrics.reconcileTotal.get()).values.map((v) => v.labels);
  assert.deepEqual(values, [
    { controller: "configmap", result: "success", direction: "pull" },
    { controller: "configmap", result: "success" },
  ]);
});

import assert from "node:assert/strict";
import { TokenBucket } from "./rate_limiter.ts";

Deno.test("token bucket: a burst goes at once, then one token per 1/qps seconds", async () => {
  let now = 0;
  const slept: number[] = [];
  const bucket = new TokenBucket(10, 3, () => now, (ms) => {
    slept.push(ms);
    now += ms;
    return Promise.resolve();
  });
  for (let i = 0; i < 5; i++) await bucket.take();
  assert.equal(slept.length, 2, "the first three are the burst");
  for (const ms of slept) assert.ok(Math.abs(ms - 100) < 1e-6, `waited ${ms} ms`);
  now += 1000;
  slept.length = 0;
  for (let i = 0; i < 3; i++) await bucket.take();
  assert.equal(slept.length, 0, "tokens came back, capped at the burst");
});

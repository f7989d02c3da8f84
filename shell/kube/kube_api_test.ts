import assert from "node:assert/strict";
import { retryAfterMs } from "./kube_api.ts";

Deno.test("Retry-After: seconds or an HTTP date, at most 30 s, 1 s when absent or unreadable", () => {
  assert.equal(retryAfterMs("3"), 3000);
  assert.equal(retryAfterMs("0"), 0);
  assert.equal(retryAfterMs("600"), 30_000, "capped: the request is asked again after 30 s");
  const now = Date.UTC(2026, 10, 30, 12, 0, 0);
  assert.equal(retryAfterMs("Mon, 30 Nov 2026 12:00:05 GMT", now), 5000);
  assert.equal(retryAfterMs("Mon, 30 Nov 2026 11:00:00 GMT", now), 0, "a date in the past: at once");
  assert.equal(retryAfterMs(null), 1000);
  assert.equal(retryAfterMs("soon"), 1000);
});

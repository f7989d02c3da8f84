import assert from "node:assert/strict";
import type { KubeObject } from "../../core/types.ts";
import { FakeKube } from "../kube/_testing.ts";
import { ApiError, type KubeClient, type Method, type RequestOptions } from "../kube/client.ts";
import { FakeClock } from "../runtime/fake_clock.ts";
import { createLogger } from "../runtime/log.ts";
import { LeaderElector } from "./leader_election.ts";

const LEASE = "/apis/coordination.k8s.io/v1/namespaces/kubemirror/leases/kubemirror-controller-leader";
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

/** A fake API server that can be made unreachable (every request fails) or unresponsive (never answers). */
function flakyApi(kube: FakeKube) {
  let mode: "up" | "down" | "hung" = "up";
  const api: KubeClient = {
    request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
      if (mode === "down") return Promise.reject(new ApiError(503, "ServiceUnavailable", "unreachable"));
      if (mode === "hung") {
        return new Promise((_, reject) =>
          options.signal?.addEventListener("abort", () => reject(options.signal!.reason), { once: true })
        );
      }
      return kube.request<T>(method, path, options);
    },
    get(path, options = {}) {
      return this.request("GET", path, options);
    },
    list: () => Promise.reject(new Error("the elector never lists")),
    watch: () => Promise.reject(new Error("the elector never watches")),
  };
  return { api, set: (m: typeof mode) => (mode = m) };
}

function elector(api: KubeClient, clock: FakeClock, identity: string) {
  const events: string[] = [];
  const e = new LeaderElector(
    api,
    { namespace: "kubemirror", name: "kubemirror-controller-leader", identity },
    {
      onStartedLeading: () => events.push(`started@${clock.now() - T0}`),
      onStoppedLeading: () => events.push(`stopped@${clock.now() - T0}`),
    },
    createLogger("error", {}, () => {}),
    undefined,
    clock,
  );
  return { e, events };
}

const holder = (kube: FakeKube) =>
  (kube.objects.get(LEASE)?.spec as { holderIdentity?: string })?.holderIdentity;

Deno.test("leader election: acquires a free Lease at once, renews it every 2 s, and releases it on stop", async () => {
  const clock = new FakeClock(T0);
  const kube = new FakeKube();
  const { e, events } = elector(kube, clock, "pod-a");
  e.run();
  await clock.advance(0);
  assert.deepEqual(events, ["started@0"]);
  assert.equal(holder(kube), "pod-a");
  kube.requests.length = 0;
  await clock.advance(10_000);
  assert.equal(kube.requests.filter((r) => r.startsWith("PUT")).length, 5, "one renewal per retry period");
  await e.stop();
  assert.equal(holder(kube), "", "released: a standby may take it at once");
  assert.deepEqual(events, ["started@0"], "stopping is not losing");
});

Deno.test("leader election: an unreachable API server ends leadership at the renew deadline, not before", async () => {
  const clock = new FakeClock(T0);
  const kube = new FakeKube();
  const flaky = flakyApi(kube);
  const { e, events } = elector(flaky.api, clock, "pod-a");
  e.run();
  await clock.advance(4_000); // renewed at 0, 2 s and 4 s
  flaky.set("down");
  await clock.advance(9_999);
  assert.deepEqual(events, ["started@0"], "still the leader 9.999 s after the last renewal");
  await clock.advance(1);
  assert.deepEqual(events, ["started@0", "stopped@14000"], "lost exactly 10 s after the last renewal");
  await clock.advance(30_000);
  assert.equal(events.length, 2, "lost once");
  await e.stop();
});

Deno.test("leader election: a renewal that hangs is abandoned, and leadership ends at the deadline all the same", async () => {
  const clock = new FakeClock(T0);
  const kube = new FakeKube();
  const flaky = flakyApi(kube);
  const { e, events } = elector(flaky.api, clock, "pod-a");
  e.run();
  await clock.advance(2_000);
  flaky.set("hung");
  await clock.advance(10_000);
  assert.deepEqual(events, ["started@0", "stopped@12000"]);
  flaky.set("up");
  await e.stop();
});

Deno.test("leader election: a standby takes over a Lease nobody renews after its duration by its own clock, whatever the holder's clock said", async () => {
  const clock = new FakeClock(T0);
  const kube = new FakeKube();
  // The holder's clock ran an hour ahead: by its renewTime the Lease would look valid for an hour.
  const ahead = new Date(T0 + 3_600_000).toISOString().replace("Z", "000Z");
  kube.put({
    apiVersion: "coordination.k8s.io/v1",
    kind: "Lease",
    metadata: { name: "kubemirror-controller-leader", namespace: "kubemirror" },
    spec: { holderIdentity: "pod-old", leaseDurationSeconds: 15, renewTime: ahead, acquireTime: ahead },
  } as KubeObject);
  const { e, events } = elector(kube, clock, "pod-b");
  e.run();
  await clock.advance(14_000);
  assert.deepEqual(events, [], "the Lease is still within its duration since the standby first saw it");
  assert.equal(holder(kube), "pod-old");
  await clock.advance(4_000);
  assert.equal(events.length, 1, "taken over once 15 s passed on the standby's clock");
  assert.equal(holder(kube), "pod-b");
  await e.stop();
});

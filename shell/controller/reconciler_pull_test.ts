import assert from "node:assert/strict";
import {
  ANNOTATION_PULL_ALLOWED_NAMESPACES,
  ANNOTATION_PULL_FROM,
  ANNOTATION_SYNC_STATUS,
  LABEL_ENABLED,
} from "../../core/markers.ts";
import type { KubeObject } from "../../core/types.ts";
import { FakeKube, MemoryCache } from "../kube/_testing.ts";
import { parseFlags } from "../config/flags.ts";
import { createLogger } from "../runtime/log.ts";
import { createMetrics } from "../runtime/metrics.ts";
import { keysForSource } from "./event_handlers.ts";
import { MIRROR_INDEXERS, SOURCE_INDEXERS } from "./mirror_indexes.ts";
import { Reconciler } from "./reconciler.ts";

const SECRETS = { group: "", version: "v1", kind: "Secret", plural: "secrets" };
const path = (ns: string, name: string) => `/api/v1/namespaces/${ns}/secrets/${name}`;

const source = (allowed: string, data: Record<string, string> = { token: "czNjcjN0" }): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  type: "Opaque",
  data,
  metadata: {
    name: "registry",
    namespace: "platform",
    labels: { [LABEL_ENABLED]: "true" },
    annotations: { [ANNOTATION_PULL_ALLOWED_NAMESPACES]: allowed },
  },
});

const puller = (ns: string, name = "pull-secret"): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  type: "Opaque",
  metadata: {
    name,
    namespace: ns,
    labels: { [LABEL_ENABLED]: "true", app: "shop" },
    annotations: {
      [ANNOTATION_PULL_FROM]: "platform/registry",
      "kubectl.kubernetes.io/last-applied-configuration": "{}",
    },
  },
});

/** A fake API server, the sources cache (indexed by pull-from) filled from it, and a reconciler. */
function setup(objects: KubeObject[]) {
  const kube = new FakeKube();
  const sources = new MemoryCache(SOURCE_INDEXERS);
  for (const o of objects) sources.observe(kube.put(o));
  const flags = parseFlags([]);
  assert.ok(flags.ok);
  const metrics = createMetrics();
  const kind = { kind: SECRETS, missingVerbs: [], sources, mirrors: new MemoryCache(MIRROR_INDEXERS) };
  const reconciler = new Reconciler({
    client: kube,
    flags: flags.flags,
    log: createLogger("error", {}, () => {}),
    metrics,
    identity: "test",
    namespaces: new MemoryCache(),
    kind: (gk) => (gk === "/Secret" ? kind : undefined),
    kinds: () => [kind],
    now: () => 1_800_000_000_000,
  });
  /** Reconciles one key and returns the requests it made. */
  const run = async (key: string) => {
    kube.requests.length = 0;
    const result = await reconciler.reconcile(key);
    return { result, requests: [...kube.requests] };
  };
  /** Takes an object as the API server has it into the cache, as its watch event would. */
  const refresh = (ns: string, name: string) => sources.observe(kube.objects.get(path(ns, name))!);
  return { kube, sources, run, refresh, metrics };
}

Deno.test("pull: 100 pulling objects of one source cost 100 patches and nothing else; in sync, nothing", async () => {
  const namespaces = Array.from({ length: 100 }, (_, i) => `team-${i}`);
  const s = setup([source("team-*"), ...namespaces.map((ns) => puller(ns))]);
  const woken = keysForSource("/Secret", s.kube.objects.get(path("platform", "registry"))!, s.sources);
  assert.equal(woken.length, 101, "the source and its 100 pulling objects, through the index");
  const requests: string[] = [];
  for (const key of woken.slice(1)) {
    const r = await s.run(key);
    assert.equal(r.result.direction, "pull");
    requests.push(...r.requests);
  }
  assert.deepEqual(requests, namespaces.map((ns) => `PATCH ${path(ns, "pull-secret")}`));
  const copy = s.kube.objects.get(path("team-7", "pull-secret"))!;
  assert.deepEqual(copy.data, { token: "czNjcjN0" });
  assert.equal(copy.metadata?.annotations?.[ANNOTATION_SYNC_STATUS], "pulled");
  assert.equal(
    copy.metadata?.annotations?.["kubectl.kubernetes.io/last-applied-configuration"],
    "{}",
    "kept",
  );
  assert.deepEqual(copy.metadata?.labels, { [LABEL_ENABLED]: "true", app: "shop" }, "its own labels");
  for (const key of woken.slice(1)) assert.deepEqual((await s.run(key)).requests, [], key);
});

Deno.test("pull: a source edit reaches the copy with one patch; an edited copy is put back with one patch", async () => {
  const s = setup([source("team-a"), puller("team-a")]);
  const key = "/Secret/team-a/pull-secret";
  await s.run(key);
  const edited = s.kube.put({
    ...s.kube.objects.get(path("platform", "registry"))!,
    data: { token: "bmV3" },
  });
  s.sources.observe(edited);
  assert.deepEqual((await s.run(key)).requests, [`PATCH ${path("team-a", "pull-secret")}`]);
  assert.deepEqual(s.kube.objects.get(path("team-a", "pull-secret"))!.data, { token: "bmV3" });
  s.sources.observe(
    s.kube.put({ ...s.kube.objects.get(path("team-a", "pull-secret"))!, data: { token: "aGFja2Vk" } }),
  );
  assert.deepEqual((await s.run(key)).requests, [`PATCH ${path("team-a", "pull-secret")}`]);
  assert.deepEqual(s.kube.objects.get(path("team-a", "pull-secret"))!.data, { token: "bmV3" }, "reverted");
});

Deno.test("pull: a refusal is recorded once (status and a Warning Event); revocation empties the copy", async () => {
  const s = setup([source("team-a"), puller("team-b"), puller("team-a")]);
  const refused = await s.run("/Secret/team-b/pull-secret");
  assert.deepEqual(refused.requests, [
    `PATCH ${path("team-b", "pull-secret")}`,
    "POST /api/v1/namespaces/team-b/events",
  ]);
  assert.equal(s.kube.events[0].reason, "PullNotAllowed");
  assert.equal(s.kube.objects.get(path("team-b", "pull-secret"))!.data, undefined, "nothing copied");
  s.refresh("team-b", "pull-secret");
  assert.deepEqual((await s.run("/Secret/team-b/pull-secret")).requests, [], "recorded once");

  await s.run("/Secret/team-a/pull-secret");
  s.refresh("team-a", "pull-secret");
  s.sources.drop("platform/registry"); // deleted, or its label removed
  const revoked = await s.run("/Secret/team-a/pull-secret");
  assert.deepEqual(revoked.requests, [
    `PATCH ${path("team-a", "pull-secret")}`,
    "POST /api/v1/namespaces/team-a/events",
  ]);
  const copy = s.kube.objects.get(path("team-a", "pull-secret"))!;
  assert.equal(copy.data, undefined, "the data is taken back");
  assert.equal(copy.metadata?.annotations?.[ANNOTATION_SYNC_STATUS], "error:SourceNotFound");
  assert.equal(s.kube.events.at(-1)!.reason, "SourceNotFound");
  s.refresh("team-a", "pull-secret");
  assert.deepEqual((await s.run("/Secret/team-a/pull-secret")).requests, []);
  assert.ok(s.kube.objects.has(path("team-a", "pull-secret")), "never deleted");
  const errors = (await s.metrics.syncErrors.get()).values;
  assert.ok(errors.some((v) => v.labels.direction === "pull" && v.labels.error_type === "source_not_found"));
});

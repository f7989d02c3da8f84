import assert from "node:assert/strict";
import {
  ANNOTATION_ADOPT,
  ANNOTATION_SYNC,
  ANNOTATION_SYNC_STATUS,
  ANNOTATION_TARGET_NAMESPACES,
  FINALIZER,
  LABEL_ENABLED,
  LABEL_MIRROR,
} from "../../core/markers.ts";
import type { KubeObject } from "../../core/types.ts";
import { FakeKube, itemPath, MemoryCache } from "../kube/_testing.ts";
import type { Method, RequestOptions } from "../kube/client.ts";
import { parseFlags } from "../config/flags.ts";
import { MIRROR_INDEXERS } from "./mirror_indexes.ts";
import { createLogger } from "../runtime/log.ts";
import { createMetrics } from "../runtime/metrics.ts";
import { Reconciler } from "./reconciler.ts";

const KEY = "/ConfigMap/default/cfg";
const CM = "/api/v1/namespaces";

function source(data: Record<string, string> = { a: "1" }, extra: Partial<KubeObject> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "cfg",
      namespace: "default",
      labels: { [LABEL_ENABLED]: "true" },
      annotations: { [ANNOTATION_SYNC]: "true", [ANNOTATION_TARGET_NAMESPACES]: "app1" },
      finalizers: [FINALIZER],
    },
    data,
    ...extra,
  };
}

/** A fake API server, the controller's caches filled from it, and a reconciler over them. */
function setup<K extends FakeKube = FakeKube>(
  objects: KubeObject[],
  { kube = new FakeKube() as K, namespaceNames = ["default", "app1"], keysInFlight }: {
    kube?: K;
    namespaceNames?: string[];
    keysInFlight?: () => number;
  } = {},
) {
  const namespaces = new MemoryCache();
  for (const ns of namespaceNames) namespaces.observe({ metadata: { name: ns, namespace: undefined } });
  const sources = new MemoryCache();
  const mirrors = new MemoryCache(MIRROR_INDEXERS);
  for (const o of objects) kube.put(o);
  const refill = () => {
    for (const o of kube.objects.values()) {
      if (o.metadata?.labels?.[LABEL_ENABLED] === "true") sources.observe(o);
      if (o.metadata?.labels?.[LABEL_MIRROR] === "true") mirrors.observe(o);
    }
  };
  refill();
  const flags = parseFlags([]);
  assert.ok(flags.ok);
  const metrics = createMetrics();
  const reconciler = new Reconciler({
    client: kube,
    flags: flags.flags,
    log: createLogger("error"),
    metrics,
    identity: "test",
    namespaces,
    kind: (gk) =>
      gk === "/ConfigMap"
        ? {
          kind: { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps" },
          missingVerbs: [],
          sources,
          mirrors,
        }
        : undefined,
    now: () => 1_800_000_000_000,
    keysInFlight,
  });
  /** Reconciles, and returns the requests it made. */
  const run = async (signal?: AbortSignal) => {
    kube.requests.length = 0;
    const result = await reconciler.reconcile(KEY, signal);
    return { result, requests: [...kube.requests] };
  };
  return { kube, sources, mirrors, namespaces, reconciler, metrics, run, refill };
}

const mirrorPath = `${CM}/app1/configmaps/cfg`;
const sourcePath = `${CM}/default/configmaps/cfg`;

Deno.test("reconciler: a new source gets one create and one status patch; in sync, it makes no request", async () => {
  const { kube, run } = setup([{ ...source(), metadata: { ...source().metadata, finalizers: [] } }]);
  const first = await run();
  assert.deepEqual(first.requests, [`POST ${CM}/app1/configmaps`, `PATCH ${sourcePath}`]);
  assert.deepEqual(first.result, { requeue: "no" });
  const patched = kube.objects.get(sourcePath)!;
  assert.deepEqual(patched.metadata?.finalizers, [FINALIZER]);
  assert.equal(patched.metadata?.annotations?.[ANNOTATION_SYNC_STATUS], "reconciled:1,errors:0");
  assert.deepEqual(await run(), { result: { requeue: "no" }, requests: [] });
});

Deno.test("reconciler: an edited mirror is put back with one update guarded by its resourceVersion", async () => {
  const { kube, mirrors, run } = setup([source()]);
  await run();
  const mirror = kube.objects.get(mirrorPath)!;
  const edited = kube.put({ ...mirror, data: { a: "edited" } });
  mirrors.observe(edited);
  const r = await run();
  assert.deepEqual(r.requests, [`PUT ${mirrorPath}`]);
  assert.equal((kube.objects.get(mirrorPath)!.data as Record<string, string>).a, "1");
});

Deno.test("reconciler: an object that is not ours is never written; with adopt it is taken over", async () => {
  const unmanaged: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "cfg", namespace: "app1" },
    data: { mine: "x" },
  };
  const conflict = setup([source(), unmanaged]);
  // The controller learns of it from the 409 of its create, and reads it once.
  const first = await conflict.run();
  assert.deepEqual(first.requests, [`POST ${CM}/app1/configmaps`, `GET ${mirrorPath}`]);
  assert.deepEqual(first.result, { requeue: "backoff" });
  const second = await conflict.run();
  assert.deepEqual(second.requests, [`PATCH ${sourcePath}`, `POST ${CM}/default/events`]);
  assert.equal(conflict.kube.events[0].reason, "Conflict");
  assert.deepEqual(conflict.kube.objects.get(mirrorPath)!.data, { mine: "x" }, "untouched");
  assert.deepEqual(await conflict.run(), { result: { requeue: "no" }, requests: [] }, "reported once");

  const adoptable = {
    ...unmanaged,
    metadata: { ...unmanaged.metadata, annotations: { [ANNOTATION_ADOPT]: "default/cfg" } },
  };
  const adopt = setup([source(), adoptable]);
  await adopt.run(); // 409, read
  const taken = await adopt.run();
  assert.deepEqual(taken.requests, [`PUT ${mirrorPath}`, `PATCH ${sourcePath}`]);
  assert.equal(adopt.kube.objects.get(mirrorPath)!.metadata?.labels?.[LABEL_MIRROR], "true");
});

Deno.test("reconciler: 409 on our own mirror, 404, 410 and a conflicting status patch all back off; the work loop owns the retry", async () => {
  // A create meeting a mirror the cache has not seen yet: it goes into the cache, and the next plan is in sync.
  const own = setup([source()]);
  await own.run();
  own.mirrors.drop("app1/cfg");
  const met = await own.run();
  assert.deepEqual(met.requests, [`POST ${CM}/app1/configmaps`, `GET ${mirrorPath}`]);
  assert.deepEqual(met.result, { requeue: "backoff" });
  assert.ok(own.mirrors.get("app1/cfg"), "the reply went into the mirrors cache");
  assert.deepEqual((await own.run()).requests, []);

  for (const [status, reason] of [[404, "NotFound"], [410, "Gone"], [500, "InternalError"]] as const) {
    const s = setup([source()]);
    await s.run();
    s.mirrors.observe({ ...s.kube.objects.get(mirrorPath)!, data: { a: "stale" } });
    s.kube.fail("PUT", /app1/, status, reason);
    const r = await s.run();
    // The failed write is told to the source's author; the retry is the work loop's.
    assert.deepEqual(r.requests, [`PUT ${mirrorPath}`, `POST ${CM}/default/events`], String(status));
    assert.equal(s.kube.events.at(-1)!.reason, "WriteFailed");
    assert.deepEqual(r.result, { requeue: "backoff" }, String(status));
  }

  const patch = setup([{ ...source(), metadata: { ...source().metadata, finalizers: [] } }]);
  patch.kube.fail("PATCH", /default/, 409, "Conflict");
  const r = await patch.run();
  assert.deepEqual(
    r.result,
    { requeue: "backoff" },
    "a conflicting status patch is retried with backoff, not at once",
  );
});

Deno.test("reconciler: an immutable mirror whose content changed is deleted and created again", async () => {
  const s = setup([source({ a: "1" }, { immutable: true })]);
  await s.run();
  const changed = s.kube.put({
    ...source({ a: "2" }, { immutable: true }),
    metadata: s.kube.objects.get(sourcePath)!.metadata,
  });
  s.sources.observe(changed);
  const r = await s.run();
  assert.deepEqual(r.requests, [`DELETE ${mirrorPath}`, `POST ${CM}/app1/configmaps`]);
  assert.equal((s.kube.objects.get(mirrorPath)!.data as Record<string, string>).a, "2");
});

Deno.test("reconciler: a source gone from the cache has its mirrors deleted and its finalizer released", async () => {
  const s = setup([source()]);
  await s.run();
  // The label is removed: the source leaves the label-filtered cache but still exists.
  const unlabelled = s.kube.put({
    ...s.kube.objects.get(sourcePath)!,
    metadata: { ...s.kube.objects.get(sourcePath)!.metadata, labels: {} },
  });
  s.sources.drop("default/cfg");
  const r = await s.run();
  assert.deepEqual(r.requests, [`DELETE ${mirrorPath}`, `GET ${sourcePath}`, `PATCH ${sourcePath}`]);
  const released = s.kube.objects.get(itemPath(unlabelled))!;
  assert.deepEqual(released.metadata?.finalizers, []);
  assert.equal(released.metadata?.annotations?.[ANNOTATION_SYNC_STATUS], undefined);
});

Deno.test("reconciler: once the Lease is lost no write starts", async () => {
  const s = setup([source()]);
  const lost = new AbortController();
  lost.abort(new Error("the Lease was lost"));
  const r = await s.run(lost.signal);
  assert.deepEqual(r.requests, []);
  assert.deepEqual(r.result, { requeue: "backoff" });
});

Deno.test("a source's fan-out writes 40 mirrors at once alone, and 8 at once beside four other busy keys", async () => {
  /** A fake API server that answers creates after a moment, counting how many are in flight. */
  class SlowKube extends FakeKube {
    inFlight = 0;
    most = 0;
    override async request<T>(method: Method, path: string, options: RequestOptions = {}): Promise<T> {
      if (method !== "POST" || !path.endsWith("/configmaps")) {
        return await super.request<T>(method, path, options);
      }
      this.most = Math.max(this.most, ++this.inFlight);
      await new Promise((r) => setTimeout(r, 2));
      this.inFlight--;
      return await super.request<T>(method, path, options);
    }
  }
  for (const [busy, want] of [[1, 40], [5, 8]]) {
    const cfg = source({ a: "1" });
    cfg.metadata!.annotations![ANNOTATION_TARGET_NAMESPACES] = "app-*";
    const { kube, run } = setup([cfg], {
      kube: new SlowKube(),
      namespaceNames: Array.from({ length: 100 }, (_, i) => `app-${i}`),
      keysInFlight: () => busy,
    });
    await run();
    assert.equal(kube.requests.filter((r) => r.startsWith("POST") && r.endsWith("/configmaps")).length, 100);
    assert.equal(kube.most, want, `${busy} keys busy`);
  }
});

/** How many plans were made, by scope. */
async function plans(metrics: ReturnType<typeof createMetrics>): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const v of (await metrics.plans.get()).values) counts[String(v.labels.scope)] = v.value;
  return counts;
}

Deno.test("reconciler: a namespace's change is planned for that namespace alone; a source's change, in full", async () => {
  const spread = source({ a: "1" }, {
    metadata: {
      ...source().metadata,
      annotations: { [ANNOTATION_SYNC]: "true", [ANNOTATION_TARGET_NAMESPACES]: "app*" },
    },
  });
  const s = setup([spread], { namespaceNames: ["default", "app1", "app2"] });
  const first = await s.run();
  assert.deepEqual(first.requests, [
    `POST ${CM}/app1/configmaps`,
    `POST ${CM}/app2/configmaps`,
    `PATCH ${sourcePath}`,
  ]);
  assert.deepEqual(await plans(s.metrics), { full: 1 });

  // A new namespace: its mirror, and the source's count, from a plan of that namespace.
  s.namespaces.observe({ metadata: { name: "app3" } });
  s.reconciler.noteNamespaces(KEY, ["app3"]);
  const created = await s.run();
  assert.deepEqual(created.requests, [`POST ${CM}/app3/configmaps`, `PATCH ${sourcePath}`]);
  assert.equal(
    s.kube.objects.get(sourcePath)!.metadata?.annotations?.[ANNOTATION_SYNC_STATUS],
    "reconciled:3,errors:0",
  );
  assert.deepEqual(await plans(s.metrics), { full: 1, namespaces: 1 });

  // A mirror edited by hand: put back from a plan of its namespace.
  const app2 = `${CM}/app2/configmaps/cfg`;
  s.mirrors.observe(s.kube.put({ ...s.kube.objects.get(app2)!, data: { a: "edited" } }));
  s.reconciler.noteNamespaces(KEY, ["app2"]);
  assert.deepEqual((await s.run()).requests, [`PUT ${app2}`]);
  assert.equal((s.kube.objects.get(app2)!.data as Record<string, string>).a, "1");

  // A namespace opting out: its mirror goes.
  s.namespaces.observe({
    metadata: { name: "app1", labels: { "kubemirror.raczylo.com/allow-mirrors": "false" } },
  });
  s.reconciler.noteNamespaces(KEY, ["app1"]);
  const optedOut = await s.run();
  assert.deepEqual(optedOut.requests, [`DELETE ${mirrorPath}`, `PATCH ${sourcePath}`]);
  assert.equal(s.kube.objects.get(mirrorPath), undefined);
  assert.deepEqual(await plans(s.metrics), { full: 1, namespaces: 3 });

  // Nothing changed: a plan of nothing (the namespaces just written, read from the caches), no request.
  assert.deepEqual((await s.run()).requests, []);
  assert.deepEqual(await plans(s.metrics), { full: 1, namespaces: 4 });

  // The source's own status write (its watch event may come before the write's answer) keeps it by namespace.
  s.reconciler.noteChange(KEY);
  assert.deepEqual((await s.run()).requests, []);
  assert.deepEqual(await plans(s.metrics), { full: 1, namespaces: 5 });

  // The source edited, or a resync: planned in full.
  const edited = s.kube.put({ ...s.kube.objects.get(sourcePath)!, data: { a: "2" } });
  s.sources.observe(edited);
  s.reconciler.noteChange(KEY);
  assert.deepEqual((await s.run()).requests, [`PUT ${app2}`, `PUT ${CM}/app3/configmaps/cfg`]);
  s.reconciler.planAllInFull();
  assert.deepEqual((await s.run()).requests, []);
  assert.deepEqual(await plans(s.metrics), { full: 3, namespaces: 5 });
});

Deno.test("reconciler: a plan whose writes did not all go through is not the base of the next", async () => {
  const s = setup([source()]);
  await s.run();
  s.mirrors.observe({ ...s.kube.objects.get(mirrorPath)!, data: { a: "stale" } });
  s.kube.fail("PUT", /app1/, 500, "InternalError");
  assert.deepEqual((await s.run()).result, { requeue: "backoff" });
  const before = await plans(s.metrics);
  await s.run();
  assert.equal((await plans(s.metrics)).full, before.full + 1, "the retry is planned in full");
});

import assert from "node:assert/strict";
import type { KubeObject } from "../../core/types.ts";
import { DIGESTS, valueDigest } from "../../core/content_digest.ts";
import { LABEL_MIRROR } from "../../core/markers.ts";
import { newer, objectKey, ObjectStore, slim, slimMirror } from "./object_store.ts";

const cm = (ns: string, name: string, app: string, rv = "1"): KubeObject => ({
  metadata: { namespace: ns, name, resourceVersion: rv, labels: { app } },
});
const byApp = { app: (o: KubeObject) => [o.metadata?.labels?.app ?? ""] };
const keys = (objs: KubeObject[]) => objs.map(objectKey).sort();

Deno.test("object store: an object replaced or removed leaves no index entry behind", () => {
  const store = new ObjectStore(byApp);
  store.put("a/x", cm("a", "x", "web"));
  store.put("b/x", cm("b", "x", "web"));
  assert.deepEqual(keys(store.byIndex("app", "web")), ["a/x", "b/x"]);
  store.put("a/x", cm("a", "x", "db", "2"));
  assert.deepEqual(keys(store.byIndex("app", "web")), ["b/x"]);
  assert.deepEqual(keys(store.byIndex("app", "db")), ["a/x"]);
  store.remove("b/x");
  assert.deepEqual(store.indexValues("app"), ["db"]);
  assert.equal(store.size, 1);
  store.replace([], "3");
  assert.deepEqual(store.indexValues("app"), []);
  assert.deepEqual(store.list(), []);
});

Deno.test("object store: versions compare as numbers, and a cluster-scoped object is keyed by its name", () => {
  assert.ok(newer(cm("a", "x", "", "10"), cm("a", "x", "", "9")));
  assert.ok(!newer(cm("a", "x", "", "9"), cm("a", "x", "", "10")));
  assert.ok(!newer(cm("a", "x", "", "abc"), cm("a", "x", "", "1")), "opaque versions are never newer");
  assert.equal(objectKey({ metadata: { name: "ns-1" } }), "ns-1");
  const obj = slim({
    metadata: {
      name: "x",
      managedFields: [{ manager: "kubectl" }],
      annotations: { "kubectl.kubernetes.io/last-applied-configuration": "{}", keep: "1" },
    },
  } as KubeObject);
  assert.deepEqual(obj.metadata, { name: "x", annotations: { keep: "1" } });
});

Deno.test("slimMirror: a listed mirror is kept as the controller caches it, any other object whole", () => {
  const cert = "c".repeat(4096);
  const listed = (labels: Record<string, string>): KubeObject => ({
    kind: "Secret",
    metadata: { namespace: "a", name: "tls", labels, managedFields: [{ manager: "kubemirror" }] },
    data: { "tls.crt": cert, user: "YWRtaW4=" },
  });
  const mirror = slimMirror(listed({ [LABEL_MIRROR]: "true" }));
  assert.equal(mirror.metadata?.managedFields, undefined);
  assert.deepEqual(mirror.data, { user: "YWRtaW4=" });
  assert.deepEqual((mirror[DIGESTS] as any).data, { "tls.crt": valueDigest(cert) });
  const other = listed({ app: "web" });
  assert.equal(slimMirror(other), other, "a source or an object in the way is shown as it is");
});

Deno.test("object store: replace puts a list in, keeps what is newer than it, and says what changed", () => {
  const store = new ObjectStore(byApp);
  store.put("a/same", cm("a", "same", "web", "5"));
  store.put("a/edited", cm("a", "edited", "web", "5"));
  store.put("a/gone", cm("a", "gone", "web", "5"));
  // Our own write observed after the list's snapshot (version 9 > the list's 8): it stays.
  store.put("a/ours", cm("a", "ours", "db", "9"));
  const changes = store.replace([
    cm("a", "same", "web", "5"),
    cm("a", "edited", "db", "7"),
    cm("a", "new", "web", "8"),
  ], "8");
  assert.deepEqual(changes.map((c) => `${c.type} ${objectKey(c.obj)} ${c.old ? objectKey(c.old) : "-"}`), [
    "MODIFIED a/edited a/edited",
    "ADDED a/new -",
    "DELETED a/gone a/gone",
  ]);
  assert.deepEqual(keys(store.list()), ["a/edited", "a/new", "a/ours", "a/same"]);
  assert.deepEqual(keys(store.byIndex("app", "db")), ["a/edited", "a/ours"]);
});

Deno.test("object store: a relist of what the store holds already (the same objects) changes and re-files nothing", () => {
  let indexed = 0;
  const store = new ObjectStore({ app: (o) => (indexed++, [o.metadata?.labels?.app ?? ""]) });
  const objs = Array.from({ length: 100 }, (_, i) => cm("a", `cfg-${i}`, i % 2 ? "web" : "db", "5"));
  for (const o of objs) store.put(objectKey(o), o);
  indexed = 0;
  assert.deepEqual(store.replace(objs, "9"), []);
  assert.equal(indexed, 0, "no object filed again");
  assert.equal(store.byIndex("app", "web").length, 50);
  // A copy at the same version is put in (the list's object replaces the cached one) but is no change.
  assert.deepEqual(store.replace([structuredClone(objs[0]), ...objs.slice(1)], "9"), []);
  assert.notEqual(store.get("a/cfg-0"), objs[0]);
});

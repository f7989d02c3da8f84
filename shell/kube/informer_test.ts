import assert from "node:assert/strict";
import type { KubeObject } from "../../core/types.ts";
import { Informer, type ListWatchClient } from "./informer.ts";
import type { WatchEvent } from "./client.ts";
import { createLogger } from "../runtime/log.ts";

/** A fake API: a list answer, and a watch whose events the test sends. */
function fakeApi(items: KubeObject[], listVersion: string) {
  let send: ((e: WatchEvent) => void) | undefined;
  let lists = 0;
  const api: ListWatchClient = {
    list: <T extends KubeObject>() => {
      lists++;
      return Promise.resolve({ items: structuredClone(items) as T[], resourceVersion: listVersion });
    },
    watch: (_path, _query, onEvent, onDone) => {
      send = onEvent;
      return Promise.resolve(() => onDone(new DOMException("aborted", "AbortError")));
    },
  };
  return {
    api,
    send: (e: WatchEvent) => send!(e),
    get lists() {
      return lists;
    },
    setItems(next: KubeObject[], rv: string) {
      items = next;
      listVersion = rv;
    },
  };
}

const cm = (ns: string, name: string, rv: string, source = "src"): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { namespace: ns, name, resourceVersion: rv, annotations: { source } },
});

const indexers = {
  name: (o: KubeObject) => [o.metadata?.name ?? ""],
  source: (o: KubeObject) => [o.metadata?.annotations?.source ?? ""],
};

async function started(fake: ReturnType<typeof fakeApi>) {
  const changes: string[] = [];
  const inf = new Informer(fake.api, { path: "/x", name: "x", indexers }, {
    onChange: (type, obj) => changes.push(`${type} ${obj.metadata?.namespace}/${obj.metadata?.name}`),
  }, createLogger("error"));
  inf.start();
  await inf.synced;
  await new Promise((r) => setTimeout(r, 0));
  return { inf, changes };
}

const names = (objs: KubeObject[]) => objs.map((o) => `${o.metadata?.namespace}/${o.metadata?.name}`).sort();

Deno.test("informer: indexes follow watch events, our own writes and our own deletes", async () => {
  const fake = fakeApi([cm("a", "cfg", "10")], "10");
  const { inf } = await started(fake);
  assert.deepEqual(names(inf.byIndex("name", "cfg")), ["a/cfg"]);
  // Our create, put in ahead of its watch event, is found by the index at once.
  inf.observe(cm("b", "cfg", "11"));
  assert.deepEqual(names(inf.byIndex("name", "cfg")), ["a/cfg", "b/cfg"]);
  // A change of the indexed value moves the object between index entries.
  fake.send({ type: "MODIFIED", object: cm("a", "cfg", "12", "other") });
  assert.deepEqual(names(inf.byIndex("source", "src")), ["b/cfg"]);
  assert.deepEqual(names(inf.byIndex("source", "other")), ["a/cfg"]);
  inf.drop("b/cfg");
  assert.deepEqual(names(inf.byIndex("name", "cfg")), ["a/cfg"]);
  assert.deepEqual(inf.indexValues("source"), ["other"]);
  inf.stop();
});

Deno.test("informer: a late DELETED of an object we replaced does not drop the replacement", async () => {
  const fake = fakeApi([cm("a", "cfg", "10")], "10");
  const { inf, changes } = await started(fake);
  // We delete and recreate (the replacement is rv 12); the watch then delivers the old object's DELETED.
  inf.drop("a/cfg");
  inf.observe(cm("a", "cfg", "12"));
  fake.send({ type: "DELETED", object: cm("a", "cfg", "11") });
  assert.equal(inf.get("a/cfg")?.metadata?.resourceVersion, "12");
  assert.deepEqual(names(inf.byIndex("name", "cfg")), ["a/cfg"]);
  assert.ok(!changes.includes("DELETED a/cfg"), "no change reported for a stale event");
  // A real deletion of the replacement is applied.
  fake.send({ type: "DELETED", object: cm("a", "cfg", "13") });
  assert.equal(inf.get("a/cfg"), undefined);
  inf.stop();
});

Deno.test("informer: a relist from a lagging cache keeps our newer writes and drops what is really gone", async () => {
  const fake = fakeApi([cm("a", "old", "5"), cm("a", "gone", "6")], "6");
  const { inf } = await started(fake);
  inf.observe(cm("a", "mine", "20")); // written after the next list's snapshot (rv 8)
  inf.observe(cm("a", "old", "21")); // updated after it too
  fake.setItems([cm("a", "old", "5")], "8"); // "gone" was deleted at rv 7
  fake.send({ type: "ERROR", object: { code: 410, message: "too old" } as unknown as KubeObject });
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(fake.lists >= 2, "relisted after 410 Gone");
  assert.equal(inf.get("a/mine")?.metadata?.resourceVersion, "20");
  assert.equal(inf.get("a/old")?.metadata?.resourceVersion, "21");
  assert.equal(inf.get("a/gone"), undefined);
  assert.deepEqual(names(inf.byIndex("source", "src")), ["a/mine", "a/old"]);
  inf.stop();
});

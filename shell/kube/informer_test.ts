import assert from "node:assert/strict";
import type { KubeObject } from "../../core/types.ts";
import { Informer, type ListWatchClient } from "./informer.ts";
import { ApiError, type ListOptions, type WatchEvent } from "./client.ts";
import { FakeClock } from "../runtime/fake_clock.ts";
import { createMetrics } from "../runtime/metrics.ts";
import { createLogger } from "../runtime/log.ts";

/** A fake API: a list answer, and a watch whose events the test sends. */
function fakeApi(items: KubeObject[], listVersion: string) {
  let send: ((e: WatchEvent) => void) | undefined;
  let lists = 0;
  const api: ListWatchClient = {
    list: <T extends KubeObject>(_path: string, options?: ListOptions) => {
      lists++;
      const keep = options?.keep ?? ((o: KubeObject) => o);
      return Promise.resolve({
        items: structuredClone(items).map(keep) as T[],
        resourceVersion: listVersion,
      });
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

Deno.test("informer: the watch event of our own write (the version already cached) is not handed on", async () => {
  const fake = fakeApi([cm("a", "cfg", "10")], "10");
  const { inf, changes } = await started(fake);
  const ours = cm("b", "cfg", "11");
  inf.observe(ours);
  const cached = inf.get("b/cfg");
  fake.send({ type: "ADDED", object: cm("b", "cfg", "11") });
  fake.send({ type: "MODIFIED", object: cm("a", "cfg", "10") });
  assert.deepEqual(changes, ["ADDED a/cfg"], "only the first list's object was ever reported");
  assert.equal(inf.get("b/cfg"), cached, "the cached object is kept, not copied again");
  // Someone else's change of it (a new version) is.
  fake.send({ type: "MODIFIED", object: cm("b", "cfg", "12", "other") });
  assert.deepEqual(changes, ["ADDED a/cfg", "MODIFIED b/cfg"]);
  assert.deepEqual(names(inf.byIndex("source", "other")), ["b/cfg"]);
  // A DELETED of the cached version is a delete.
  fake.send({ type: "DELETED", object: cm("b", "cfg", "12", "other") });
  assert.equal(inf.get("b/cfg"), undefined);
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

Deno.test("informer: a relist keeps the cached copy of what did not change, and hands on only what did", async () => {
  const fake = fakeApi([cm("a", "same", "5"), cm("a", "edited", "5")], "5");
  const { inf, changes } = await started(fake);
  const same = inf.get("a/same");
  changes.length = 0;
  fake.setItems([cm("a", "same", "5"), cm("a", "edited", "7")], "7");
  fake.send({ type: "ERROR", object: { code: 410, message: "too old" } as unknown as KubeObject });
  await new Promise((r) => setTimeout(r, 50));
  assert.ok(fake.lists >= 2, "relisted after 410 Gone");
  assert.equal(inf.get("a/same"), same, "one copy, not a second beside it while the relist runs");
  assert.equal(inf.get("a/edited")?.metadata?.resourceVersion, "7");
  assert.deepEqual(changes, ["MODIFIED a/edited"]);
  inf.stop();
});

/** A fake API on a fake clock whose watches the test ends: normally, with an error, or with an event. */
function scriptedApi(clock: FakeClock) {
  const watches: {
    query: Record<string, unknown>;
    at: number;
    end: (err?: unknown) => void;
    send: (e: WatchEvent) => void;
  }[] = [];
  let lists = 0;
  const api: ListWatchClient = {
    list: <T extends KubeObject>() => {
      lists++;
      return Promise.resolve({
        items: [cm("a", "cfg", String(10 + lists))] as T[],
        resourceVersion: String(10 + lists),
      });
    },
    watch: (_path, options, onEvent, onDone) => {
      let done = false;
      const end = (err?: unknown) => {
        if (!done) onDone(err);
        done = true;
      };
      watches.push({ query: { ...options.query }, at: clock.now(), end, send: onEvent });
      return Promise.resolve(() => end(new DOMException("aborted", "AbortError")));
    },
  };
  return {
    api,
    watches,
    get lists() {
      return lists;
    },
  };
}

async function startedOn(clock: FakeClock, idleTimeoutMs = 300_000) {
  const fake = scriptedApi(clock);
  const metrics = createMetrics();
  const inf = new Informer(
    fake.api,
    { path: "/x", name: "x", idleTimeoutMs },
    { onChange: () => {} },
    createLogger("error", {}, () => {}),
    metrics,
    clock,
  );
  inf.start();
  await clock.advance(0);
  const restarts = async (reason: string) =>
    (await metrics.watchRestarts.get()).values.find((v) => v.labels.reason === reason)?.value ?? 0;
  return { fake, inf, restarts };
}

Deno.test("informer: 410 Gone relists at once and watches from the new list's version", async () => {
  const clock = new FakeClock();
  const { fake, inf, restarts } = await startedOn(clock);
  assert.equal(fake.lists, 1);
  assert.equal(fake.watches.length, 1);
  assert.equal(fake.watches[0].query.resourceVersion, "11");
  fake.watches[0].send({ type: "ERROR", object: { code: 410, message: "too old" } as unknown as KubeObject });
  await clock.advance(0);
  assert.equal(fake.lists, 2, "relisted without waiting");
  assert.equal(fake.watches.length, 2);
  assert.equal(fake.watches[1].query.resourceVersion, "12", "the new watch starts from the relist");
  assert.equal(await restarts("expired"), 1);
  inf.stop();
});

Deno.test("informer: a watch closed by the server resumes from the last version without a relist", async () => {
  const clock = new FakeClock();
  const { fake, inf, restarts } = await startedOn(clock);
  fake.watches[0].send({ type: "MODIFIED", object: cm("a", "cfg", "30") });
  fake.watches[0].end();
  await clock.advance(0);
  assert.equal(fake.lists, 1, "no relist");
  assert.equal(fake.watches[1].query.resourceVersion, "30");
  assert.equal(await restarts("closed"), 1);
  inf.stop();
});

Deno.test("informer: a failing watch backs off 1 s, 2 s, 4 s, and relists after the third failure", async () => {
  const clock = new FakeClock();
  const { fake, inf, restarts } = await startedOn(clock);
  const fail = async (n: number) => {
    fake.watches[n].end(new ApiError(500, "InternalError", "etcd timeout"));
    await clock.advance(0);
  };
  await fail(0);
  await clock.advance(999);
  assert.equal(fake.watches.length, 1, "not before the backoff");
  await clock.advance(1);
  assert.equal(fake.watches.length, 2, "retried after 1 s");
  await fail(1);
  await clock.advance(1_999);
  assert.equal(fake.watches.length, 2);
  await clock.advance(1);
  assert.equal(fake.watches.length, 3, "retried after 2 s");
  assert.equal(fake.lists, 1, "resumed, not relisted, so far");
  await fail(2);
  await clock.advance(4_000);
  assert.equal(fake.lists, 2, "the third failure in a row relists");
  assert.equal(fake.watches.length, 4);
  assert.equal(await restarts("error"), 3);
  await fail(3);
  await clock.advance(7_999);
  assert.equal(fake.watches.length, 4, "the fourth failure in a row waits 8 s");
  await clock.advance(1);
  assert.equal(fake.watches.length, 5);
  await clock.advance(5_000);
  fake.watches[4].end(); // a watch that ran and ended cleanly resets the count
  await clock.advance(0);
  await fail(5);
  await clock.advance(1_000);
  assert.equal(fake.watches.length, 7, "after a clean end the backoff starts at 1 s again");
  inf.stop();
});

Deno.test("informer: a watch silent past the idle timeout is restarted; one with events is not", async () => {
  const clock = new FakeClock();
  const { fake, inf, restarts } = await startedOn(clock, 60_000);
  for (let i = 0; i < 5; i++) {
    await clock.advance(20_000);
    fake.watches[0].send({ type: "BOOKMARK", object: cm("a", "cfg", String(50 + i)) });
  }
  assert.equal(fake.watches.length, 1, "bookmarks keep it alive");
  await clock.advance(60_000 + 10_000);
  assert.equal(await restarts("idle"), 1, "silent for a minute: restarted");
  assert.equal(fake.watches.length, 2);
  assert.equal(fake.watches[1].query.resourceVersion, "54", "resumed from the last bookmark");
  assert.equal(fake.lists, 1);
  inf.stop();
  await clock.advance(300_000);
  assert.equal(fake.watches.length, 2, "stopped: no more watches");
  assert.equal(clock.pending, 0, "stop leaves no timer behind");
});

Deno.test("informer: health is up after a list or a watch the server answered, never after one that could not start", async () => {
  const clock = new FakeClock();
  let refuse = false;
  let lists = 0;
  let endOpen: ((err?: unknown) => void) | undefined;
  const health: string[] = [];
  const api: ListWatchClient = {
    list: <T extends KubeObject>() => {
      lists++;
      return refuse
        ? Promise.reject(new TypeError("connection refused"))
        : Promise.resolve({ items: [] as T[], resourceVersion: String(10 + lists) });
    },
    watch: (_path, _options, _onEvent, onDone) => {
      // As the client does: a watch that cannot connect ends before it is handed back.
      if (refuse) onDone(new TypeError("connection refused"));
      else endOpen = onDone;
      return Promise.resolve(() => onDone(new DOMException("aborted", "AbortError")));
    },
  };
  const inf = new Informer(
    api,
    { path: "/x", name: "x" },
    {
      onChange: () => {},
      onHealth: (up) => health.push(up ? "up" : "down"),
    },
    createLogger("error", {}, () => {}),
    undefined,
    clock,
  );
  inf.start();
  await clock.advance(0);
  assert.deepEqual(health, ["up", "up"], "the list, then the watch");
  // The server goes away: the open watch breaks, and every later try is refused (watches first, then
  // lists after the third failure).
  refuse = true;
  health.length = 0;
  endOpen!(new TypeError("connection reset"));
  for (let i = 0; i < 6; i++) await clock.advance(30_000);
  assert.ok(health.length >= 4, health.join(","));
  assert.deepEqual([...new Set(health)], ["down"], "never up while the server refuses");
  refuse = false;
  await clock.advance(30_000);
  assert.equal(health.at(-1), "up", "up again once it answers");
  inf.stop();
});

Deno.test("informer: an API server back from an outage that refuses at first is asked again after 1 s, not 30", async () => {
  const clock = new FakeClock();
  const { fake, inf } = await startedOn(clock);
  const refused = () => new TypeError("error sending request: Connection refused");
  // The outage: 1, 2, 4 (and a relist), 8 s…
  for (let n = 0; n < 4; n++) {
    fake.watches[n].end(refused());
    await clock.advance(0);
    await clock.advance(1000 * 2 ** n);
  }
  assert.equal(fake.watches.length, 5);
  // …and back, but refusing (its RBAC not read yet): asked again after 1 s.
  fake.watches[4].end(new ApiError(403, "Forbidden", "configmaps is forbidden"));
  await clock.advance(999);
  assert.equal(fake.watches.length, 5, "not before 1 s");
  await clock.advance(1);
  assert.equal(fake.watches.length, 6, "after 1 s");
  // Refusing again: the refusals' own backoff grows.
  fake.watches[5].end(new ApiError(403, "Forbidden", "configmaps is forbidden"));
  await clock.advance(1_999);
  assert.equal(fake.watches.length, 6);
  await clock.advance(1);
  assert.equal(fake.watches.length, 7, "after 2 s");
  inf.stop();
});

Deno.test("informer: retryNow ends a backoff at once; without one it does nothing", async () => {
  const clock = new FakeClock();
  const { fake, inf } = await startedOn(clock);
  inf.retryNow(); // watching: nothing to cut short
  await clock.advance(0);
  assert.equal(fake.watches.length, 1);
  for (let n = 0; n < 5; n++) {
    fake.watches[n].end(new TypeError("Connection refused"));
    await clock.advance(0);
    await clock.advance(1000 * 2 ** n);
  }
  fake.watches[5].end(new TypeError("Connection refused"));
  await clock.advance(1000);
  assert.equal(fake.watches.length, 6, "waiting out a 30 s backoff");
  inf.retryNow();
  await clock.advance(0);
  assert.equal(fake.watches.length, 7, "retried at once");
  inf.stop();
});

Deno.test("informer: a listed object is cached as the spec keeps it, without managedFields", async () => {
  const listed = {
    ...cm("a", "cfg", "5"),
    data: { big: "x".repeat(300) },
  };
  listed.metadata!.managedFields = [{ manager: "kubectl" }];
  const fake = fakeApi([listed], "5");
  const inf = new Informer(
    fake.api,
    {
      path: "/x",
      name: "x",
      transform: (o) => ({ ...o, data: { big: `${(o.data as Record<string, string>).big.length} chars` } }),
    },
    { onChange: () => {} },
    createLogger("error"),
  );
  inf.start();
  await inf.synced;
  inf.stop();
  const cached = inf.get("a/cfg")!;
  assert.equal(cached.metadata?.managedFields, undefined);
  assert.deepEqual(cached.data, { big: "300 chars" });
});

Deno.test("informer: an event its handler fails on is said, and the object listed again, not lost", async () => {
  const fake = fakeApi([cm("a", "cfg", "10")], "10");
  const lines: string[] = [];
  const changes: string[] = [];
  let failOnce = true;
  const inf = new Informer(fake.api, { path: "/x", name: "x", indexers }, {
    onChange: (type, obj) => {
      if (obj.metadata?.name === "bad" && failOnce) {
        failOnce = false;
        throw new Error("handler bug");
      }
      changes.push(`${type} ${obj.metadata?.namespace}/${obj.metadata?.name}`);
    },
  }, createLogger("error", {}, (line) => lines.push(line)));
  inf.start();
  await inf.synced;
  await new Promise((r) => setTimeout(r, 0));
  // The API server now holds the new object; its first event fails in the handler.
  fake.setItems([cm("a", "cfg", "10"), cm("b", "bad", "11")], "11");
  fake.send({ type: "ADDED", object: cm("b", "bad", "11") });
  for (let i = 0; i < 50 && !changes.includes("ADDED b/bad"); i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(fake.lists, 2, "listed again after the failed event");
  assert.deepEqual(changes, ["ADDED a/cfg", "ADDED b/bad"], "the object is handed on by the relist");
  assert.equal(inf.get("b/bad")?.metadata?.resourceVersion, "11");
  const logged = lines.map((l) => JSON.parse(l)).find((l) =>
    l.msg.startsWith("a watch event could not be handled")
  );
  assert.equal(logged?.object, "b/bad");
  assert.equal(logged?.error, "handler bug");
  inf.stop();
});

Deno.test("informer: a list its handler fails on hands on the rest, and lists again until every change is handed on", async () => {
  const clock = new FakeClock();
  const fake = fakeApi([cm("a", "cfg", "10"), cm("b", "bad", "10"), cm("c", "gone", "10")], "10");
  const lines: string[] = [];
  const changes: string[] = [];
  const failing = new Set(["ADDED b/bad"]);
  const metrics = createMetrics();
  const inf = new Informer(
    fake.api,
    { path: "/x", name: "x", indexers },
    {
      onChange: (type, obj) => {
        const change = `${type} ${obj.metadata?.namespace}/${obj.metadata?.name}`;
        if (failing.delete(change)) throw new Error("handler bug");
        changes.push(change);
      },
    },
    createLogger("error", {}, (line) => lines.push(line)),
    metrics,
    clock,
  );
  inf.start();
  await clock.advance(0);
  assert.deepEqual(changes, ["ADDED a/cfg", "ADDED c/gone"], "the change after the failed one is handed on");
  assert.equal(inf.hasSynced, false, "not synced while a listed change is not handed on");
  assert.equal(inf.get("b/bad"), undefined, "the failed object is not cached as if handed on");
  await clock.advance(999);
  assert.equal(fake.lists, 1, "listed again only after a wait");
  await clock.advance(1);
  assert.equal(fake.lists, 2);
  assert.deepEqual(changes, ["ADDED a/cfg", "ADDED c/gone", "ADDED b/bad"], "handed on by the next list");
  assert.equal(inf.hasSynced, true);

  // A relist (410) that finds c/gone deleted: the handler fails on the DELETED once, and the next list
  // hands the deletion on again (the cache had put the object back).
  failing.add("DELETED c/gone");
  failing.add("MODIFIED a/cfg");
  fake.setItems([cm("a", "cfg", "12"), cm("b", "bad", "10")], "12");
  fake.send({ type: "ERROR", object: { code: 410, message: "too old" } as unknown as KubeObject });
  await clock.advance(0);
  assert.equal(fake.lists, 3);
  assert.equal(inf.get("c/gone")?.metadata?.name, "gone", "kept until its deletion is handed on");
  assert.equal(
    inf.get("a/cfg")?.metadata?.resourceVersion,
    "10",
    "kept as it was until its change is handed on",
  );
  await clock.advance(1_000);
  assert.equal(fake.lists, 4);
  assert.deepEqual(changes.slice(3), ["MODIFIED a/cfg", "DELETED c/gone"]);
  assert.equal(inf.get("c/gone"), undefined);
  assert.equal(inf.get("a/cfg")?.metadata?.resourceVersion, "12");
  const logged = lines.map((l) => JSON.parse(l)).filter((l) =>
    l.msg.startsWith("a listed change could not be handled")
  );
  assert.deepEqual(logged.map((l) => `${l.change} ${l.object}`), [
    "ADDED b/bad",
    "MODIFIED a/cfg",
    "DELETED c/gone",
  ]);
  const failedLists = (await metrics.watchRestarts.get()).values.find((v) => v.labels.reason === "failed")
    ?.value;
  assert.equal(failedLists, 2);
  inf.stop();
});

Deno.test("informer: a deletion its handler fails on is handed on again by the relist", async () => {
  const fake = fakeApi([cm("a", "cfg", "10"), cm("b", "gone", "10")], "10");
  const changes: string[] = [];
  let failOnce = true;
  const inf = new Informer(fake.api, { path: "/x", name: "x", indexers }, {
    onChange: (type, obj) => {
      if (type === "DELETED" && failOnce) {
        failOnce = false;
        throw new Error("handler bug");
      }
      changes.push(`${type} ${obj.metadata?.namespace}/${obj.metadata?.name}`);
    },
  }, createLogger("error", {}, () => {}));
  inf.start();
  await inf.synced;
  await new Promise((r) => setTimeout(r, 0));
  fake.setItems([cm("a", "cfg", "10")], "11");
  fake.send({ type: "DELETED", object: cm("b", "gone", "11") });
  for (let i = 0; i < 50 && !changes.includes("DELETED b/gone"); i++) {
    await new Promise((r) => setTimeout(r, 5));
  }
  assert.equal(fake.lists, 2, "listed again after the failed event");
  assert.deepEqual(changes, ["ADDED a/cfg", "ADDED b/gone", "DELETED b/gone"]);
  assert.equal(inf.get("b/gone"), undefined);
  inf.stop();
});

Deno.test("informer: watches the server closes at once, with no event, are started again after a wait, not in a loop", async () => {
  const clock = new FakeClock();
  const { fake, inf, restarts } = await startedOn(clock);
  // The server (a proxy in front of it, say) ends every watch as soon as it starts. A loop of watches would
  // never let the fake clock move: it stops after 50.
  const endAtOnce = () => {
    const w = fake.watches.at(-1)!;
    if (fake.watches.length <= 50) w.end();
  };
  endAtOnce();
  const at: number[] = [];
  for (let t = 0; t < 20_000; t += 100) {
    const n = fake.watches.length;
    await clock.advance(100);
    if (fake.watches.length > n) {
      at.push(fake.watches.at(-1)!.at);
      endAtOnce();
    }
  }
  assert.deepEqual(at, [1_000, 3_000, 7_000, 15_000], "1 s, 2 s, 4 s, 8 s apart");
  assert.equal(fake.lists, 1, "resumed, not relisted");
  assert.equal(await restarts("closed"), 5, "each counted");
  inf.stop();
});

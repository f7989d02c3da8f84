import assert from "node:assert/strict";
import { ANNOTATION_CLUSTER_NAME, LABEL_CLUSTER_LINK } from "../../core/markers.ts";
import type { MirrorableKind } from "../../core/mirrorable.ts";
import type { KubeObject } from "../../core/types.ts";
import { ApiError, type KubeClient } from "../kube/client.ts";
import { FakeClock, settle } from "../runtime/fake_clock.ts";
import { createLogger } from "../runtime/log.ts";
import { createMetrics } from "../runtime/metrics.ts";
import { ClusterLinks } from "./cluster_links.ts";
import { FORBIDDEN_RECHECK_MS } from "./link_state.ts";

const configMaps = { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true };

/**
 * A client that lists `answer(path)` (or throws it) and watches until the test ends the watches (of one
 * path, or all).
 */
function client(
  answer: (path: string) => KubeObject[] | Error,
): KubeClient & { lists: number; endWatches: (err: unknown, path?: string) => void } {
  let open: { path: string; end: (err?: unknown) => void }[] = [];
  const c = {
    lists: 0,
    endWatches: (err: unknown, path?: string) => {
      const ending = open.filter((w) => path === undefined || w.path === path);
      open = open.filter((w) => !ending.includes(w));
      for (const w of ending) w.end(err);
    },
    request: () => Promise.reject(new Error("not used")),
    get: () => Promise.reject(new Error("not used")),
    list<T extends KubeObject>(path: string) {
      c.lists++;
      const a = answer(path);
      return a instanceof Error
        ? Promise.reject(a)
        : Promise.resolve({ items: a as T[], resourceVersion: "5" });
    },
    watch: (path: string, _options: unknown, _onEvent: unknown, onDone: (err?: unknown) => void) => {
      open.push({ path, end: onDone });
      return Promise.resolve(() => {});
    },
  };
  return c;
}

const linkSecret: KubeObject = {
  apiVersion: "v1",
  kind: "Secret",
  metadata: {
    name: "link-hub",
    namespace: "kubemirror",
    resourceVersion: "1",
    labels: { [LABEL_CLUSTER_LINK]: "true" },
    annotations: { [ANNOTATION_CLUSTER_NAME]: "hub" },
  },
  data: { kubeconfig: btoa("apiVersion: v1\nkind: Config\n") },
};

/** Links over `upstream`, started and watching `kinds`, on a fake clock; `up()` reads the link's gauge. */
async function startLinks(
  upstream: KubeClient,
  kinds: MirrorableKind[],
  clock: FakeClock,
  log = createLogger("error", {}, () => {}),
) {
  const metrics = createMetrics();
  const links = new ClusterLinks({
    client: client(() => [linkSecret]),
    connect: () => upstream,
    namespace: "kubemirror",
    clusterName: "edge",
    idleTimeoutMs: 3_600_000,
    log,
    metrics,
    clock,
  }, { source: () => {}, link: () => {} });
  await links.start();
  links.watchKinds(kinds);
  await settle();
  const up = async () =>
    (await metrics.clusterLinkUp.get()).values.find((v) => v.labels.cluster === "hub")?.value;
  return { links, up };
}

Deno.test("a link kind refused upstream (403) is asked again after 30 s, doubling; the link comes up once allowed", async () => {
  const clock = new FakeClock(1_000_000);
  // An upstream API server that has just started refuses everyone until it has read its RBAC.
  let rbacRead = false;
  const upstream = client(() =>
    rbacRead ? [] : new ApiError(403, "Forbidden", 'configmaps is forbidden: User "reader" cannot list')
  );
  const lines: string[] = [];
  const { links, up } = await startLinks(
    upstream,
    [configMaps],
    clock,
    createLogger("info", {}, (line) => lines.push(line)),
  );
  assert.equal(upstream.lists, 1);
  assert.equal(await up(), 0, "every kind refused: the link is down");
  // Still refused at the first re-check: asked once more, said once in the log.
  await clock.advance(FORBIDDEN_RECHECK_MS);
  await settle();
  assert.equal(upstream.lists, 2);
  assert.equal(lines.filter((l) => l.includes("may not list this kind")).length, 1);
  // The next re-check waits twice as long.
  rbacRead = true;
  await clock.advance(FORBIDDEN_RECHECK_MS);
  await settle();
  assert.equal(upstream.lists, 2, "not before 60 s");
  await clock.advance(FORBIDDEN_RECHECK_MS);
  await settle();
  assert.equal(upstream.lists, 3);
  assert.equal(await up(), 1, "allowed now: the link is up without waiting for a discovery");
  assert.ok(lines.some((l) => l.includes("may list this kind upstream again")));
  links.stop();
});

Deno.test("a link kind listed before and then refused (an upstream restarting) is asked again after 1 s", async () => {
  const clock = new FakeClock(1_000_000);
  let refusing = false;
  const upstream = client(() => refusing ? new ApiError(403, "Forbidden", "configmaps is forbidden") : []);
  const { links, up } = await startLinks(upstream, [configMaps], clock);
  assert.equal(await up(), 1);
  // The upstream restarts and refuses until it has read its RBAC.
  refusing = true;
  upstream.endWatches(new ApiError(403, "Forbidden", "configmaps is forbidden"));
  await settle();
  assert.equal(await up(), 0);
  const lists = upstream.lists;
  await clock.advance(999);
  await settle();
  assert.equal(upstream.lists, lists, "not before 1 s");
  await clock.advance(1);
  await settle();
  assert.equal(upstream.lists, lists + 1, "asked again after 1 s, not after 30");
  // Refused again: asked after 2 s, and allowed by then.
  refusing = false;
  await clock.advance(1_999);
  await settle();
  assert.equal(upstream.lists, lists + 1);
  await clock.advance(1);
  await settle();
  assert.equal(upstream.lists, lists + 2);
  assert.equal(await up(), 1, "up again");
  links.stop();
});

Deno.test("a link kind waiting out an outage's backoff asks again as soon as the upstream answers another", async () => {
  const clock = new FakeClock(1_000_000);
  const secrets = { group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true };
  let down = false;
  const listed: string[] = [];
  const upstream = client((path) => {
    listed.push(path);
    return down ? new TypeError("Connection refused") : [];
  });
  const { links, up } = await startLinks(upstream, [configMaps, secrets], clock);
  assert.equal(await up(), 1);
  // The ConfigMap watch fails for a while (its backoff reaches 30 s); the upstream then comes back.
  down = true;
  for (let n = 0; n < 6; n++) {
    upstream.endWatches(new TypeError("Connection refused"), "/api/v1/configmaps");
    await settle();
    await clock.advance(1000 * 2 ** n);
    await settle();
  }
  assert.equal(await up(), 0);
  down = false;
  listed.length = 0;
  // The Secret watch ends and starts again: the upstream answered, so ConfigMaps are asked for at once.
  upstream.endWatches(new TypeError("Connection reset"), "/api/v1/secrets");
  await settle();
  await clock.advance(1000);
  await settle();
  assert.ok(listed.includes("/api/v1/configmaps"), "asked again, not after the 30 s backoff");
  assert.equal(await up(), 1, "the link is up within a second of the upstream's answer");
  links.stop();
});

Deno.test("link kinds the upstream answers with errors retry on their own backoff, never waking each other", async () => {
  const clock = new FakeClock(1_000_000);
  const secrets = { group: "", version: "v1", kind: "Secret", plural: "secrets", namespaced: true };
  let failing = false;
  const tries: number[] = [];
  const upstream = client(() => {
    if (!failing) return [];
    tries.push(clock.now() - 1_000_000);
    // A loop of retries waking each other would never let the fake clock move: it is cut off here.
    return tries.length > 50 ? [] : new ApiError(500, "InternalError", "etcdserver: request timed out");
  });
  // Watches are refused too while it fails.
  const watch = upstream.watch;
  upstream.watch = (path, options, onEvent, onDone) => {
    if (!failing || tries.length > 50) return watch(path, options, onEvent, onDone);
    tries.push(clock.now() - 1_000_000);
    onDone(new ApiError(500, "InternalError", "etcdserver: request timed out"));
    return Promise.resolve(() => {});
  };
  const { links, up } = await startLinks(upstream, [configMaps, secrets], clock);
  failing = true;
  upstream.endWatches(new ApiError(500, "InternalError", "etcdserver: request timed out"));
  await settle();
  for (let s = 0; s < 10; s++) {
    await clock.advance(1000);
    await settle();
  }
  // Each kind: watches at 1 and 3 s, a list at 7 s (the third failure relists); the next after 15 s.
  assert.ok(tries.length <= 6, `${tries.length} tries in 10 s: ${tries.join(", ")}`);
  assert.equal(await up(), 0, "down while the upstream fails");
  links.stop();
});

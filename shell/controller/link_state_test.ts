import assert from "node:assert/strict";
import type { KubeClient } from "../kube/client.ts";
import type { Informer } from "../kube/informer.ts";
import { linkIsUp, newLinkState, recheckAfter, stopLinkWatches } from "./link_state.ts";

/** A link with a client and one watch per kind, listed or not. */
function linkWith(kinds: Record<string, boolean>) {
  const link = newLinkState({ metadata: { name: "hub" } });
  link.client = {} as KubeClient;
  link.cluster = "hub";
  const stopped: string[] = [];
  for (const [gk, synced] of Object.entries(kinds)) {
    link.sources.set(gk, { hasSynced: synced, stop: () => stopped.push(gk) } as unknown as Informer);
  }
  return { link, stopped };
}

Deno.test("link state: up once every readable kind is listed and none fails", () => {
  const { link } = linkWith({ "/ConfigMap": true, "/Secret": false });
  assert.equal(linkIsUp(link), false, "a kind not listed yet");
  link.forbidden.add("/Secret");
  assert.equal(linkIsUp(link), true, "the upstream shares ConfigMaps only");
  link.failing.add("/ConfigMap");
  assert.equal(linkIsUp(link), false, "a failing watch");
  link.failing.clear();
  link.forbidden.add("/ConfigMap");
  assert.equal(linkIsUp(link), false, "every kind refused");
  link.absent.add("/ConfigMap");
  assert.equal(linkIsUp(link), true, "what the upstream serves is refused or absent, and one is absent");
  link.invalid = "data.kubeconfig: missing";
  assert.equal(linkIsUp(link), false, "an invalid Secret");
});

Deno.test("link state: stopping the watches stops each and forgets the client and the answers", () => {
  const { link, stopped } = linkWith({ "/ConfigMap": true, "/Secret": true });
  let cancelled = 0;
  link.rechecks.set("/Secret", { waitMs: 2_000, cancel: () => cancelled++ });
  link.listed.add("/ConfigMap");
  link.forbidden.add("/Secret");
  stopLinkWatches(link);
  assert.deepEqual(stopped.sort(), ["/ConfigMap", "/Secret"]);
  assert.equal(cancelled, 1);
  assert.equal(link.client, undefined);
  assert.equal(link.sources.size + link.forbidden.size + link.listed.size + link.rechecks.size, 0);
  assert.equal(linkIsUp(link), false);
  assert.ok(recheckAfter(true) < recheckAfter(false), "a kind listed before is asked again sooner");
});

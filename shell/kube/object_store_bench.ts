/**
 * Figures for the watch cache's store (`deno task bench`): a relist of 100,000 mirrors into a store that
 * holds them (the informer hands the cached copies back for the versions it holds), in sync and with 1,000
 * of them changed, under the two indexes the mirrors cache keeps (source and namespace).
 */
import type { KubeObject } from "../../core/types.ts";
import { objectKey, ObjectStore } from "./object_store.ts";

const N = 100_000;
const mirror = (i: number, rv: number): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: {
    namespace: `ns-${i % 1000}`,
    name: `s-${Math.floor(i / 1000)}`,
    resourceVersion: String(rv),
    annotations: { source: `default/s-${Math.floor(i / 1000)}` },
  },
});
const indexers = {
  source: (o: KubeObject) => [o.metadata?.annotations?.source ?? ""],
  namespace: (o: KubeObject) => [o.metadata?.namespace ?? ""],
};
const cached = Array.from({ length: N }, (_, i) => mirror(i, 1000 + i));
const store = new ObjectStore(indexers);
for (const o of cached) store.put(objectKey(o), o);
const listVersion = String(1000 + 2 * N);

Deno.bench("store: relist of 100,000 cached mirrors, in sync", () => {
  store.replace(cached, listVersion);
});

const changed = cached.map((o, i) => i % 100 === 0 ? mirror(i, 1000 + N + i) : o);
Deno.bench("store: relist of 100,000 cached mirrors, 1,000 of them changed", () => {
  store.replace(changed, listVersion);
  store.replace(cached, listVersion);
});

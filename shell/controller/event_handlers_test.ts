import assert from "node:assert/strict";
import { DEFAULT_CONFIG } from "../../core/config.ts";
import {
  ANNOTATION_SOURCE_NAME,
  ANNOTATION_SOURCE_NAMESPACE,
  ANNOTATION_SYNC,
  ANNOTATION_TARGET_NAMESPACES,
  LABEL_ENABLED,
  LABEL_MIRROR,
} from "../../core/markers.ts";
import type { KubeObject } from "../../core/types.ts";
import { MemoryCache } from "../kube/_testing.ts";
import { keysForMirror, keysForNamespace, resyncKeys } from "./event_handlers.ts";
import { MIRROR_INDEXERS } from "./mirror_indexes.ts";

const src = (ns: string, name: string, targets: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: {
    namespace: ns,
    name,
    labels: { [LABEL_ENABLED]: "true" },
    annotations: { [ANNOTATION_SYNC]: "true", [ANNOTATION_TARGET_NAMESPACES]: targets },
  },
});
const mirror = (ns: string, name: string, sourceNs: string): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: {
    namespace: ns,
    name,
    labels: { [LABEL_MIRROR]: "true" },
    annotations: { [ANNOTATION_SOURCE_NAMESPACE]: sourceNs, [ANNOTATION_SOURCE_NAME]: name },
  },
});

function kinds() {
  const sources = new MemoryCache();
  const mirrors = new MemoryCache(MIRROR_INDEXERS);
  for (const s of [src("default", "a", "app-*"), src("default", "b", "other"), src("team", "c", "all")]) {
    sources.observe(s);
  }
  mirrors.observe(mirror("legacy", "b", "default"));
  return [["/ConfigMap", { sources, mirrors }]] as [string, { sources: MemoryCache; mirrors: MemoryCache }][];
}

const ns = (name: string, labels: Record<string, string> = {}): KubeObject => ({
  metadata: { name, labels },
});

Deno.test("event handlers: a namespace wakes the sources that may target it and the owners of its mirrors", () => {
  const k = kinds();
  assert.deepEqual(keysForNamespace(ns("app-1"), undefined, k, DEFAULT_CONFIG).sort(), [
    "/ConfigMap/default/a",
    "/ConfigMap/team/c",
  ]);
  assert.deepEqual(keysForNamespace(ns("legacy"), undefined, k, DEFAULT_CONFIG).sort(), [
    "/ConfigMap/default/b",
    "/ConfigMap/team/c",
  ]);
  assert.deepEqual(
    keysForNamespace(ns("app-1", { a: "1" }), ns("app-1", { a: "1" }), k, DEFAULT_CONFIG),
    [],
    "nothing changed",
  );
});

Deno.test("event handlers: a mirror wakes its source, before and after a change of markers; a resync wakes all", () => {
  assert.deepEqual(keysForMirror("/ConfigMap", mirror("x", "b", "team"), mirror("x", "b", "default")), [
    "/ConfigMap/default/b",
    "/ConfigMap/team/b",
  ]);
  assert.deepEqual(resyncKeys(kinds()).sort(), [
    "/ConfigMap/default/a",
    "/ConfigMap/default/b",
    "/ConfigMap/team/c",
  ]);
});

Deno.test("event handlers: a watch event that echoes our own write or delete wakes nothing; anyone else's does", async () => {
  const { ownEcho } = await import("./kind_watches.ts");
  const at = (rv: string): KubeObject => ({
    metadata: { name: "cfg", namespace: "app1", resourceVersion: rv },
  });
  assert.ok(ownEcho("ADDED", at("7"), at("7")), "our create, already in the cache from its answer");
  assert.ok(ownEcho("MODIFIED", at("8"), at("8")), "our update");
  assert.ok(ownEcho("DELETED", at("9"), undefined), "our delete, dropped already");
  assert.ok(!ownEcho("MODIFIED", at("9"), at("8")), "someone else's edit");
  assert.ok(!ownEcho("ADDED", at("1"), undefined), "someone else's create");
  assert.ok(!ownEcho("DELETED", at("9"), at("8")), "someone else's delete of what we hold");
});

Deno.test("namespaces are cached as what target resolution reads: name, labels, phase, version", async () => {
  const { namespaceRecord } = await import("./kind_watches.ts");
  const { namespaceInfo } = await import("../../core/types.ts");
  const full: KubeObject = {
    apiVersion: "v1",
    kind: "Namespace",
    metadata: {
      name: "team-a",
      uid: "u",
      resourceVersion: "42",
      labels: { env: "prod" },
      annotations: { "owner": "someone" },
      deletionTimestamp: "2026-11-30T00:00:00Z",
      finalizers: ["x"],
    },
    spec: { finalizers: ["kubernetes"] },
    status: { phase: "Terminating" },
  };
  const kept = namespaceRecord(full);
  assert.deepEqual(namespaceInfo(kept), namespaceInfo(full));
  assert.equal(kept.metadata?.resourceVersion, "42");
  assert.equal(kept.metadata?.annotations, undefined);
  assert.equal(kept.spec, undefined);
});

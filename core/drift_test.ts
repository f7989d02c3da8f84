import assert from "node:assert/strict";
import fc from "fast-check";
import { slimMaps } from "./content_digest.ts";
import { driftOf, needsRecreate } from "./drift.ts";
import { ANNOTATION_LAST_SYNC_TIME } from "./markers.ts";
import type { KubeObject } from "./types.ts";

Deno.test("drift: edits in content, removed keys and added data keys count; defaults and status do not", () => {
  const desired: KubeObject = {
    kind: "ConfigMap",
    metadata: { labels: { a: "1" }, annotations: { [ANNOTATION_LAST_SYNC_TIME]: "t1", b: "2" } },
    data: { x: "1" },
  };
  assert.equal(driftOf(desired, structuredClone(desired)), undefined);
  assert.equal(driftOf(desired, { ...desired, data: { x: "2" } }), "data.x");
  assert.equal(driftOf(desired, { ...desired, data: { x: "1", y: "added" } }), "data.y");
  assert.equal(driftOf(desired, { ...desired, data: {} }), "data.x");
  assert.equal(driftOf(desired, { ...desired, binaryData: { z: "AA==" } }), "binaryData");
  assert.equal(
    driftOf(desired, { ...desired, metadata: { ...desired.metadata, labels: {} } }),
    'metadata.labels["a"]',
  );
  assert.equal(
    driftOf(desired, {
      ...desired,
      metadata: { ...desired.metadata, annotations: { [ANNOTATION_LAST_SYNC_TIME]: "t2", b: "2" } },
    }),
    undefined,
    "the sync time is not content",
  );
  assert.equal(driftOf(desired, { ...desired, status: { x: 1 }, immutable: false }), undefined);
  const withEmpty: KubeObject = { kind: "ConfigMap", metadata: {}, data: {} };
  assert.equal(
    driftOf(withEmpty, { kind: "ConfigMap", metadata: {} }),
    undefined,
    "the server drops empty maps",
  );
});

Deno.test("property: an object never drifted from itself, nor from itself with extra server fields", () => {
  fc.assert(
    fc.property(
      fc.dictionary(fc.string(), fc.jsonValue()),
      fc.dictionary(fc.string(), fc.string()),
      (spec, extra) => {
        const desired = { kind: "Widget", metadata: {}, spec } as KubeObject;
        const observed = {
          ...structuredClone(desired),
          spec: { ...extra, ...structuredClone(spec) },
          status: { ready: true },
        };
        assert.equal(driftOf(desired, observed), undefined);
      },
    ),
  );
});

Deno.test("needsRecreate: only immutable Secrets and ConfigMaps whose content changed", () => {
  const cm = (data: Record<string, string>, immutable?: boolean): KubeObject => ({
    kind: "ConfigMap",
    data,
    ...(immutable ? { immutable } : {}),
  });
  assert.ok(needsRecreate(cm({ a: "2" }, true), cm({ a: "1" }, true)));
  assert.ok(needsRecreate(cm({ a: "1" }), cm({ a: "1" }, true)), "immutable cannot be turned off in place");
  assert.ok(!needsRecreate(cm({ a: "1" }, true), cm({ a: "1" }, true)));
  assert.ok(!needsRecreate(cm({ a: "2" }), cm({ a: "1" })));
  assert.ok(!needsRecreate({ kind: "Widget", immutable: true }, { kind: "Widget", immutable: true, x: 1 }));
});

Deno.test("property: a mirror cached with digests for its long values drifts exactly when the whole one does", () => {
  const value = fc.oneof(
    fc.constantFrom("a", "b", ""),
    fc.constantFrom("x".repeat(200), "y".repeat(200), "z".repeat(300)),
  );
  const map = fc.dictionary(fc.constantFrom("k1", "k2", "tls.crt", "ca.crt"), value, {
    maxKeys: 4,
    noNullPrototype: true,
  });
  const obj = fc.record({
    kind: fc.constantFrom("Secret", "ConfigMap"),
    data: fc.option(map, { nil: undefined }),
    binaryData: fc.option(map, { nil: undefined }),
    immutable: fc.option(fc.boolean(), { nil: undefined }),
  }).map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as KubeObject);
  fc.assert(fc.property(obj, obj, (desired, observed) => {
    const cached = slimMaps(observed);
    const whole = driftOf(desired, observed);
    const slim = driftOf(desired, cached);
    // The same verdict, in the same map (which extra key is named first may differ: key order is lost).
    assert.equal(slim === undefined, whole === undefined, `${slim} vs ${whole}`);
    assert.equal(slim?.split(".")[0], whole?.split(".")[0]);
    assert.equal(needsRecreate(desired, cached), needsRecreate(desired, observed));
    assert.equal(driftOf(observed, slimMaps(observed)), undefined, "a copy cached of itself never drifts");
  }));
});

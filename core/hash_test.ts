import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_CONFIG } from "./config.ts";
import { canonicalJson, contentHash } from "./hash.ts";
import { prepareSource } from "./render.ts";
import type { KubeObject } from "./types.ts";

/** Rebuilds a JSON value with every object's keys in reverse order. */
function reorder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reorder);
  if (v && typeof v === "object") {
    return Object.fromEntries(
      Object.keys(v).reverse().map((k) => [k, reorder((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

Deno.test("the hash ignores key order and is 64 hex characters", () => {
  fc.assert(fc.property(fc.jsonValue(), (v) => {
    assert.equal(contentHash(v), contentHash(reorder(v)));
    assert.match(contentHash(v), /^[0-9a-f]{64}$/);
    assert.deepEqual(JSON.parse(canonicalJson(v)), JSON.parse(JSON.stringify(v)));
  }));
});

Deno.test("the hash is SHA-256 of the canonical form", () => {
  // sha256('{"a":1,"b":[true,null]}') computed independently with sha256sum.
  assert.equal(canonicalJson({ b: [true, null], a: 1 }), '{"a":1,"b":[true,null]}');
  assert.equal(
    contentHash({ b: [true, null], a: 1 }),
    "1cc69c7fa23616ca2ec3ee70d24390a6225c8832db8a4c814c7e0e7f942f8668",
  );
});

const sourceArb = fc.record({
  data: fc.dictionary(fc.stringMatching(/^[a-z]{1,3}$/), fc.string({ maxLength: 4 }), { maxKeys: 3 }),
  labels: fc.dictionary(fc.stringMatching(/^[a-z]{1,3}$/), fc.stringMatching(/^[a-z]{0,3}$/), { maxKeys: 2 }),
  annotations: fc.dictionary(fc.stringMatching(/^[a-z]{1,3}$/), fc.string({ maxLength: 3 }), { maxKeys: 2 }),
  transform: fc.string({ maxLength: 5 }),
});

function build(
  s: { data: Record<string, string>; labels: Record<string, string>; annotations: Record<string, string> },
) {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "c",
      namespace: "d",
      labels: s.labels,
      annotations: s.annotations,
      resourceVersion: "1",
    },
    data: s.data,
  } as KubeObject;
}

function hashOf(
  s: {
    data: Record<string, string>;
    labels: Record<string, string>;
    annotations: Record<string, string>;
    transform: string;
  },
) {
  return prepareSource(
    build(s),
    { strict: false, transform: { text: s.transform, rules: [], invalid: [] } },
    DEFAULT_CONFIG,
  ).hash;
}

Deno.test("the mirror hash changes with every change that shapes the mirror, and only with those", () => {
  fc.assert(
    fc.property(sourceArb, sourceArb, (a, b) => {
      const same = canonicalJson(a) === canonicalJson(b);
      assert.equal(hashOf(a) === hashOf(b), same);
    }),
    { numRuns: 500 },
  );
  const base = { data: { a: "1" }, labels: { x: "y" }, annotations: { n: "1" }, transform: "" };
  const h = hashOf(base);
  assert.notEqual(hashOf({ ...base, data: { a: "2" } }), h, "content");
  assert.notEqual(hashOf({ ...base, labels: { x: "z" } }), h, "labels");
  assert.notEqual(hashOf({ ...base, annotations: { n: "2" } }), h, "annotations");
  assert.notEqual(hashOf({ ...base, transform: "rules: []" }), h, "transform text");
  const withRv = build(base);
  withRv.metadata!.resourceVersion = "99";
  withRv.metadata!.annotations = {
    ...base.annotations,
    "kubemirror.raczylo.com/sync-status": "reconciled:3,errors:0",
  };
  withRv.status = { anything: true };
  assert.equal(
    prepareSource(withRv, { strict: false, transform: { text: "", rules: [], invalid: [] } }, DEFAULT_CONFIG)
      .hash,
    h,
    "resourceVersion, status and KubeMirror's own keys do not shape the mirror",
  );
});

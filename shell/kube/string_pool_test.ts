import assert from "node:assert/strict";
import fc from "fast-check";
import { DIGESTS } from "../../core/content_digest.ts";
import type { KubeObject } from "../../core/types.ts";
import { StringPool } from "./string_pool.ts";

const mirror = (ns: string, i: number): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: {
    name: "shared",
    namespace: ns,
    uid: `uid-${ns}-${i}`,
    resourceVersion: String(100 + i),
    labels: { "kubemirror.raczylo.com/mirror": "true" },
    annotations: { "kubemirror.raczylo.com/source-content-hash": "f".repeat(64) },
  },
  data: { index: "1" },
  [DIGESTS]: { data: { payload: "e".repeat(64) } },
});

Deno.test("string pool: a thousand mirrors of one source hold one copy of each value they share", () => {
  const pool = new StringPool();
  for (let i = 0; i < 1000; i++) pool.internObject(mirror(`ns-${i % 10}`, i));
  // name, 10 namespaces, "true", the content hash, "1", the digest: uids and resourceVersions are not pooled.
  assert.equal(pool.size, 1 + 10 + 1 + 1 + 1 + 1);
});

Deno.test("string pool: long values are not pooled, and a full pool starts again", () => {
  const pool = new StringPool(3);
  assert.equal(pool.intern("x".repeat(500)), "x".repeat(500));
  assert.equal(pool.size, 0);
  for (const s of ["a", "b", "c"]) pool.intern(s);
  assert.equal(pool.size, 3);
  assert.equal(pool.intern("d"), "d");
  assert.equal(pool.size, 1);
});

Deno.test("property: pooling never changes an object", () => {
  const value = fc.oneof(fc.string({ maxLength: 8 }), fc.string({ minLength: 129, maxLength: 140 }));
  fc.assert(
    fc.property(
      fc.record({
        name: fc.string({ maxLength: 8 }),
        labels: fc.dictionary(fc.string({ maxLength: 4 }), value, { maxKeys: 3, noNullPrototype: true }),
        annotations: fc.dictionary(fc.string({ maxLength: 4 }), value, { maxKeys: 3, noNullPrototype: true }),
        data: fc.dictionary(fc.string({ maxLength: 4 }), value, { maxKeys: 3, noNullPrototype: true }),
      }),
      fc.integer({ min: 1, max: 4 }),
      ({ name, labels, annotations, data }, capacity) => {
        const obj: KubeObject = {
          metadata: { name, labels, annotations },
          data,
          [DIGESTS]: { data: { ...data } },
        };
        const before = structuredClone(obj);
        const pool = new StringPool(capacity);
        assert.deepEqual(pool.internObject(obj), before);
        assert.deepEqual(pool.internObject(structuredClone(before)), before);
        assert.ok(pool.size <= capacity);
      },
    ),
  );
});

import assert from "node:assert/strict";
import fc from "fast-check";
import { applyMergePatch, mergePatch } from "./merge_patch.ts";
import type { JsonValue } from "./types.ts";

// Objects without explicit nulls (a merge patch cannot set one), as Kubernetes content is.
const leaf = fc.oneof(fc.string({ maxLength: 3 }), fc.integer(), fc.boolean());
const { value } = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    leaf,
    fc.array(tie("value"), { maxLength: 3 }),
    fc.dictionary(fc.constantFrom("a", "b", "c", "data", "spec"), tie("value"), {
      maxKeys: 4,
      noNullPrototype: true,
    }),
  ),
}));
const object = fc.dictionary(fc.constantFrom("a", "b", "data", "spec", "type"), value, {
  maxKeys: 4,
  noNullPrototype: true,
});

Deno.test("property: applying mergePatch(from, to) to from yields to; equal objects need no patch", () => {
  fc.assert(fc.property(object, object, (from, to) => {
    const patch = mergePatch(from, to);
    assert.deepEqual(patch === undefined ? from : applyMergePatch(from, patch), to);
    assert.equal(mergePatch(to, to), undefined);
    assert.deepEqual(mergePatch(from, to), patch, "deterministic");
  }));
});

Deno.test("property: a merge patch names only keys that differ", () => {
  fc.assert(fc.property(object, object, (from, to) => {
    const patch = (mergePatch(from, to) ?? {}) as Record<string, JsonValue>;
    for (const k of Object.keys(patch)) {
      assert.notDeepEqual(from[k], to[k], `${k} is in the patch but did not change`);
    }
  }));
});

import assert from "node:assert/strict";
import fc from "fast-check";
import { PREFIX } from "../markers.ts";
import { protectedFingerprint, touchesProtected } from "./protected.ts";

Deno.test("property: paths under data or spec are never protected; protected paths always are", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("data", "spec", "binaryData"),
      fc.array(fc.stringMatching(/^[a-z]{1,5}$/), { maxLength: 3 }),
      (head, rest) => {
        assert.equal(touchesProtected([{ key: head }, ...rest.map((key) => ({ key }))]), undefined);
      },
    ),
  );
  for (const p of [["metadata", "name"], ["status"], ["metadata", "labels", `${PREFIX}mirror`], ["kind"]]) {
    assert.ok(touchesProtected(p.map((key) => ({ key }))), p.join("."));
  }
  const base = {
    apiVersion: "v1",
    kind: "X",
    metadata: { name: "a", labels: { [`${PREFIX}m`]: "1", app: "x" } },
  };
  assert.equal(
    protectedFingerprint(base),
    protectedFingerprint({ ...base, metadata: { ...base.metadata, labels: { [`${PREFIX}m`]: "1" } } }),
  );
  assert.notEqual(
    protectedFingerprint(base),
    protectedFingerprint({ ...base, metadata: { ...base.metadata, name: "b" } }),
  );
});

import assert from "node:assert/strict";
import fc from "fast-check";
import { formatPath, parsePath, type Segment } from "./path.ts";

const segmentArb: fc.Arbitrary<Segment> = fc.oneof(
  fc.record({ key: fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_-]{0,6}$/) }),
  fc.record({ key: fc.constantFrom("tls.crt", "app.kubernetes.io/name", ".dockerconfigjson", "a b") }),
  fc.record({ index: fc.nat(20) }),
);

Deno.test("parsePath reads back what formatPath prints", () => {
  fc.assert(
    fc.property(
      fc.tuple(fc.record({ key: fc.stringMatching(/^[a-z]{1,5}$/) }), fc.array(segmentArb, { maxLength: 6 })),
      ([head, rest]) => {
        const path = [head, ...rest];
        const parsed = parsePath(formatPath(path));
        assert.ok(parsed.ok, formatPath(path));
        assert.deepEqual(parsed.path, JSON.parse(JSON.stringify(path)));
      },
    ),
  );
});

Deno.test("parsePath: the contract's examples", () => {
  const p = (t: string) => {
    const r = parsePath(t);
    assert.ok(r.ok, t);
    return r.path;
  };
  assert.deepEqual(p('data["tls.crt"]'), [{ key: "data" }, { key: "tls.crt" }]);
  assert.deepEqual(p('metadata.labels["app.kubernetes.io/name"]'), [
    { key: "metadata" },
    { key: "labels" },
    { key: "app.kubernetes.io/name" },
  ]);
  assert.deepEqual(p("spec.template.spec.containers[0].env[1].value"), [
    { key: "spec" },
    { key: "template" },
    { key: "spec" },
    { key: "containers" },
    { index: 0 },
    { key: "env" },
    { index: 1 },
    { key: "value" },
  ]);
  assert.deepEqual(p("data['x.y']"), [{ key: "data" }, { key: "x.y" }]);
});

Deno.test("parsePath: bad paths get a clear error", () => {
  for (
    const [text, re] of [
      ["", /empty/],
      ["a..b", /empty segment/],
      ["a.", /ends with/],
      ["a[", /unterminated/],
      ["a[x]", /neither an array index nor a quoted key/],
      ['a["x', /unterminated string/],
      ["a]b", /unexpected/],
      ["a[0]b", /expected '.' or '\['/],
      ['a[""]', /empty key/],
    ] as const
  ) {
    const r = parsePath(text);
    assert.ok(!r.ok, text);
    assert.match(r.error, re, text);
  }
  fc.assert(fc.property(fc.string({ maxLength: 20 }), (t) => {
    const r = parsePath(t);
    assert.ok(r.ok || r.error.startsWith("invalid path"));
  }));
});

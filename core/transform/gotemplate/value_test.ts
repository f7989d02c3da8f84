import assert from "node:assert/strict";
import fc from "fast-check";
import { andOr, GO_BUILTINS } from "./builtins.ts";
import { lex } from "./lex.ts";
import {
  byteLength,
  formatFloat,
  formatValue,
  goExponent,
  GoFloat,
  GoStruct,
  goTypeName,
  type GoValue,
  isMap,
  isTrue,
  sortedKeys,
} from "./value.ts";

const scalar: fc.Arbitrary<GoValue> = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.integer({ min: -1000, max: 1000 }),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.dictionary(fc.string({ maxLength: 3 }), fc.string({ maxLength: 3 }), { maxKeys: 3 }),
);

Deno.test("property: Go's truth and printing of the values templates see", () => {
  fc.assert(fc.property(fc.string(), (s) => {
    assert.equal(isTrue(s), s.length > 0);
    assert.equal(formatValue(s), s);
    assert.equal(byteLength(s), new TextEncoder().encode(s).length);
  }));
  fc.assert(fc.property(fc.integer(), (n) => {
    assert.equal(isTrue(n), n !== 0);
    assert.equal(formatValue(n), String(n));
    assert.equal(goTypeName(n), "int");
  }));
  fc.assert(fc.property(fc.integer({ min: -99999, max: 99999 }), (n) => {
    // Floats with fewer than 7 integer digits print as plain numbers, as Go's %v does.
    assert.equal(formatFloat(n), String(n));
    assert.equal(formatValue(new GoFloat(n)), String(n));
  }));
  fc.assert(fc.property(fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 })), (m) => {
    const keys = sortedKeys(m);
    assert.deepEqual([...keys].sort(), Object.keys(m).sort(), "a permutation");
    for (let i = 1; i < keys.length; i++) assert.ok(keys[i - 1] < keys[i], "in byte order");
    assert.ok(isMap(m));
    assert.equal(isTrue(m), keys.length > 0);
    assert.equal(formatValue(m), `map[${keys.map((k) => `${k}:${m[k]}`).join(" ")}]`);
  }));
  assert.equal(isTrue(new GoStruct("T", {})), true, "a struct is always true");
  assert.equal(formatValue(undefined), "<no value>");
  assert.equal(goExponent("1e+6"), "1e+06");
  assert.equal(goExponent(goExponent("1e+6")), "1e+06", "idempotent");
});

Deno.test("property: and/or return the operand that decides, as Go's short-circuit does", () => {
  fc.assert(fc.property(fc.array(scalar, { minLength: 1, maxLength: 5 }), (values) => {
    const and = andOr("and", values);
    const or = andOr("or", values);
    assert.ok(values.includes(and) && values.includes(or));
    assert.equal(isTrue(and), values.every(isTrue));
    assert.equal(isTrue(or), values.some(isTrue));
    assert.equal(GO_BUILTINS.not([and]), !values.every(isTrue));
  }));
});

Deno.test("property: the lexer keeps text without actions as it is, and splits actions out", () => {
  fc.assert(fc.property(fc.string().filter((s) => !s.includes("{{")), (text) => {
    assert.deepEqual(lex(text), text ? [{ kind: "text", text }] : []);
  }));
  fc.assert(fc.property(
    fc.string().filter((s) => !s.includes("{") && !s.includes("}")),
    fc.stringMatching(/^[a-z]{1,6}$/),
    (text, name) => {
      const items = lex(`${text}{{ .${name} }}${text}`);
      assert.equal(items.filter((i) => i.kind === "action").length, 1);
      assert.equal(
        items.filter((i) => i.kind === "text").map((i) => (i as { text: string }).text).join(""),
        text + text,
      );
    },
  ));
});

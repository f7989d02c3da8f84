import assert from "node:assert/strict";
import fc from "fast-check";
import { formatSelector, matchesSelector, parseSelector, type Requirement } from "./label_selector.ts";

const keyArb = fc.constantFrom(
  "env",
  "tier",
  "example.com/team",
  "a.b-c_d",
  "kubemirror.raczylo.com/allow-mirrors",
);
const valueArb = fc.constantFrom("prod", "dev", "web", "api", "", "v1.2");
const requirementArb: fc.Arbitrary<Requirement> = fc.oneof(
  fc.record({ key: keyArb, op: fc.constantFrom<"=" | "!=">("=", "!="), value: valueArb }),
  fc.record({
    key: keyArb,
    op: fc.constantFrom<"in" | "notin">("in", "notin"),
    values: fc.array(valueArb.filter((v) => v !== ""), { minLength: 1, maxLength: 3 }),
  }),
  fc.record({ key: keyArb, op: fc.constantFrom<"exists" | "!exists">("exists", "!exists") }),
);
const labelsArb = fc.dictionary(keyArb, valueArb, { maxKeys: 4 });

Deno.test("parseSelector reads back what formatSelector prints", () => {
  fc.assert(fc.property(fc.array(requirementArb, { minLength: 1, maxLength: 4 }), (requirements) => {
    const text = formatSelector({ requirements });
    const parsed = parseSelector(text);
    assert.ok(parsed.ok, `${text}: ${!parsed.ok && parsed.error}`);
    assert.deepEqual(parsed.selector.requirements, JSON.parse(JSON.stringify(requirements)));
  }));
});

Deno.test("matchesSelector: a selector is the conjunction of its requirements", () => {
  fc.assert(
    fc.property(
      fc.array(requirementArb, { minLength: 1, maxLength: 4 }),
      labelsArb,
      (requirements, labels) => {
        const all = matchesSelector({ requirements }, labels);
        const each = requirements.every((r) => matchesSelector({ requirements: [r] }, labels));
        assert.equal(all, each);
      },
    ),
  );
});

Deno.test("matchesSelector: the operators mean what Kubernetes says", () => {
  const m = (sel: string, labels: Record<string, string>) => {
    const p = parseSelector(sel);
    assert.ok(p.ok, sel);
    return matchesSelector(p.selector, labels);
  };
  assert.ok(m("env=prod", { env: "prod" }) && m("env==prod", { env: "prod" }));
  assert.ok(!m("env=prod", {}));
  assert.ok(m("env!=prod", {}) && m("env!=prod", { env: "dev" }) && !m("env!=prod", { env: "prod" }));
  assert.ok(m("tier in (web,api)", { tier: "api" }) && !m("tier in (web,api)", {}));
  assert.ok(m("tier notin (web,api)", {}) && !m("tier notin (web,api)", { tier: "web" }));
  assert.ok(m("legacy", { legacy: "" }) && !m("legacy", {}));
  assert.ok(m("!legacy", {}) && !m("!legacy", { legacy: "x" }));
  assert.ok(m("env=prod,tier in (web,api),!legacy", { env: "prod", tier: "web" }));
  assert.ok(!m("env=prod,tier in (web,api),!legacy", { env: "prod", tier: "web", legacy: "1" }));
  assert.ok(m("  env = prod ,  tier  in ( web , api ) ", { env: "prod", tier: "web" }), "blanks are allowed");
});

Deno.test("parseSelector: bad selectors get an error naming the problem", () => {
  const bad: [string, RegExp][] = [
    ["env=", /./],
    ["", /empty/],
    ["env in prod", /expected "\("/],
    ["env in (prod", /expected "," or "\)"/],
    ["env=prod,", /requirement after/],
    ["env prod", /expected/],
    ["=prod", /label key/],
    ["Env_=x", /invalid label key/],
    ["env=-bad-", /invalid label value/],
    ["env>3", /not supported/],
    ["a,,b", /label key/],
    ["bad/key/x=1", /invalid label key/],
  ];
  for (const [sel, re] of bad) {
    const p = parseSelector(sel);
    if (sel === "env=") {
      assert.ok(p.ok, "an empty value is allowed, as in Kubernetes");
      continue;
    }
    assert.ok(!p.ok, `${JSON.stringify(sel)} should be rejected`);
    assert.match(p.error, re, sel);
  }
});

Deno.test("parseSelector never throws on arbitrary text", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), (text) => {
      const p = parseSelector(text);
      assert.ok(p.ok || p.error.length > 0);
    }),
    { numRuns: 2000 },
  );
});

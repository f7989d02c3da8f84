import assert from "node:assert/strict";
import fc from "fast-check";
import { globMatch, isGlob, matchesAny, namespacePatternError, splitList } from "./glob.ts";

/** A reference matcher built on a regular expression, to compare against. */
function reference(pattern: string, text: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${re}$`, "s").test(text);
}

Deno.test("globMatch agrees with a regular-expression reference", () => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-c*?-]{0,8}$/),
      fc.stringMatching(/^[a-c-]{0,10}$/),
      (pattern, text) => {
        assert.equal(globMatch(pattern, text), reference(pattern, text));
      },
    ),
    { numRuns: 2000 },
  );
});

Deno.test("globMatch: examples from the contract", () => {
  assert.ok(globMatch("prod-*", "prod-eu"));
  assert.ok(globMatch("prod-*", "prod-"));
  assert.ok(!globMatch("prod-*", "preprod-eu"), "no prefix matching: the glob covers the whole name");
  assert.ok(globMatch("*-staging", "web-staging"));
  assert.ok(globMatch("namespace-?", "namespace-1"));
  assert.ok(!globMatch("namespace-?", "namespace-10"));
  assert.ok(globMatch("prod-*-v?", "prod-eu-v2"));
  assert.ok(!globMatch("app", "app-1"), "an exact name matches only itself");
});

Deno.test("globMatch stays fast on patterns that make backtracking regexes explode", () => {
  const pattern = "*a*a*a*a*a*a*a*a*a*b";
  const text = "a".repeat(60);
  assert.equal(globMatch(pattern, text), false);
});

Deno.test("namespacePatternError accepts names and globs, rejects the rest with the reason", () => {
  for (const ok of ["app1", "app-*", "*-staging", "a?c", "*"]) {
    assert.equal(namespacePatternError(ok), undefined, ok);
  }
  assert.match(namespacePatternError("App")!, /not a valid namespace name/);
  assert.match(namespacePatternError("app_1")!, /not a valid namespace name/);
  assert.match(namespacePatternError("app-[0-9]")!, /not a valid namespace glob/);
  assert.match(namespacePatternError("-app")!, /not a valid namespace name/);
  assert.match(namespacePatternError("a".repeat(64))!, /longer than 63/);
});

Deno.test("splitList trims blanks and drops empty items", () => {
  assert.deepEqual(splitList(" a, b ,,c , "), ["a", "b", "c"]);
  assert.deepEqual(splitList(undefined), []);
  assert.deepEqual(splitList(" , "), []);
  fc.assert(fc.property(fc.array(fc.stringMatching(/^[a-z]{1,5}$/)), (items) => {
    assert.deepEqual(splitList(items.join(" , ")), items);
  }));
});

Deno.test("isGlob and matchesAny", () => {
  assert.ok(isGlob("a*") && isGlob("a?") && !isGlob("abc"));
  assert.ok(matchesAny(["x", "app-*"], "app-1") && !matchesAny([], "x"));
});

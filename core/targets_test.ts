import assert from "node:assert/strict";
import fc from "fast-check";
import { configArb, namespacesArb, sourceArb } from "./_testing.ts";
import { DEFAULT_CONFIG } from "./config.ts";
import { ALWAYS_EXCLUDED_NAMESPACES, LABEL_ALLOW_MIRRORS } from "./markers.ts";
import { parseSource } from "./source_spec.ts";
import { exclusionReason, mayTarget, resolveTargets, type TargetSpec } from "./targets.ts";
import type { NamespaceInfo } from "./types.ts";
import { isGlob, matchesAny, namespacePatternError } from "./glob.ts";
import { labelKeyError, labelValueError } from "./label_selector.ts";

const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);

const ns = (
  name: string,
  labels: Record<string, string> = {},
  phase: "Active" | "Terminating" = "Active",
) => ({
  name,
  labels,
  phase,
});

/** A random source's target spec, from the same arbitraries the plan properties use. */
const specArb: fc.Arbitrary<{ spec: TargetSpec; sourceNamespace: string }> = sourceArb().map((s) => {
  const parsed = parseSource(s, DEFAULT_CONFIG);
  return {
    spec: parsed.ok ? parsed.spec.targets : { items: [] },
    sourceNamespace: s.metadata!.namespace!,
  };
});

Deno.test("resolution never yields the source namespace, a system, excluded, opted-out or terminating namespace", () => {
  fc.assert(
    fc.property(specArb, namespacesArb, configArb, ({ spec, sourceNamespace }, namespaces, config) => {
      const byName = new Map(namespaces.map((n) => [n.name, n]));
      const r = resolveTargets(spec, sourceNamespace, namespaces, config);
      for (const t of r.targets) {
        const info = byName.get(t);
        assert.notEqual(t, sourceNamespace);
        assert.ok(!ALWAYS_EXCLUDED_NAMESPACES.includes(t), t);
        assert.ok(!matchesAny(config.excludedNamespaces, t), t);
        if (config.includedNamespaces.length > 0) assert.ok(matchesAny(config.includedNamespaces, t), t);
        assert.notEqual(info?.labels[LABEL_ALLOW_MIRRORS], "false", t);
        assert.notEqual(info?.phase, "Terminating", t);
        if (config.requireNamespaceOptIn) assert.equal(info?.labels[LABEL_ALLOW_MIRRORS], "true", t);
        if (!info) assert.ok(r.pending.includes(t), "a missing namespace is only ever a pending exact name");
      }
      assert.ok(r.targets.length <= Math.min(config.maxTargets, spec.maxTargets ?? Infinity));
      assert.deepEqual(r.targets, [...r.targets].sort(), "sorted by name");
      const skipped = new Set(r.skipped.map((s) => s.namespace));
      for (const t of r.targets) assert.ok(!skipped.has(t), "a target is never also skipped");
      for (const s of r.skipped) assert.ok(s.reason.length > 0);
    }),
    { numRuns: 500 },
  );
});

Deno.test("resolution does not depend on the order of namespaces or of the annotation's items", () => {
  fc.assert(
    fc.property(
      specArb,
      namespacesArb,
      configArb,
      fc.integer(),
      ({ spec, sourceNamespace }, namespaces, config, seed) => {
        const shuffled = [...namespaces].sort((a, b) =>
          ((a.name.length * seed) % 7) - ((b.name.length * seed) % 7)
        );
        const reversedItems = { ...spec, items: [...spec.items].reverse() };
        const a = resolveTargets(spec, sourceNamespace, namespaces, config);
        const b = resolveTargets(reversedItems, sourceNamespace, shuffled.reverse(), config);
        assert.deepEqual(a, b);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("resolution: names, globs, all, all-labeled and the selector add up", () => {
  const namespaces: NamespaceInfo[] = [
    ns("default"),
    ns("kube-system"),
    ns("app-1"),
    ns("app-2", { env: "prod" }),
    ns("prod-a", { [LABEL_ALLOW_MIRRORS]: "true", env: "prod" }),
    ns("legacy", { [LABEL_ALLOW_MIRRORS]: "false", env: "prod" }),
    ns("gone", {}, "Terminating"),
  ];
  const r = (spec: TargetSpec, config = DEFAULT_CONFIG) =>
    resolveTargets(spec, "default", namespaces, config);
  assert.deepEqual(r({ items: [{ type: "name", name: "app-1" }, { type: "name", name: "later" }] }).targets, [
    "app-1",
    "later",
  ]);
  assert.deepEqual(r({ items: [{ type: "name", name: "later" }] }).pending, ["later"]);
  assert.deepEqual(r({ items: [{ type: "glob", pattern: "app-*" }] }).targets, ["app-1", "app-2"]);
  const all = r({ items: [{ type: "all" }] });
  assert.deepEqual(all.targets, ["app-1", "app-2", "prod-a"]);
  assert.deepEqual(all.skipped.map((s) => s.namespace), ["default", "gone", "kube-system", "legacy"]);
  assert.match(all.skipped.find((s) => s.namespace === "legacy")!.reason, /opted out/);
  assert.match(all.skipped.find((s) => s.namespace === "gone")!.reason, /terminating/);
  assert.match(all.skipped.find((s) => s.namespace === "kube-system")!.reason, /system namespaces/);
  assert.deepEqual(r({ items: [{ type: "all-labeled" }] }).targets, ["prod-a"]);
  const selected = r({ items: [], selector: { requirements: [{ key: "env", op: "=", value: "prod" }] } });
  assert.deepEqual(
    selected.targets,
    ["app-2", "prod-a"],
    "the opted-out legacy is left out even when selected",
  );
  assert.deepEqual(
    r({
      items: [{ type: "name", name: "app-1" }],
      selector: { requirements: [{ key: "env", op: "=", value: "prod" }] },
    })
      .targets,
    ["app-1", "app-2", "prod-a"],
    "selector matches are added to the annotation's",
  );
  assert.deepEqual(
    r({ items: [{ type: "name", name: "legacy" }] }).targets,
    [],
    "opt-out beats an exact name",
  );
  const optIn = r({ items: [{ type: "all" }] }, { ...DEFAULT_CONFIG, requireNamespaceOptIn: true });
  assert.deepEqual(optIn.targets, ["prod-a"]);
  const excluded = r({ items: [{ type: "all" }] }, { ...DEFAULT_CONFIG, excludedNamespaces: ["app-*"] });
  assert.deepEqual(excluded.targets, ["prod-a"]);
  const included = r({ items: [{ type: "all" }] }, { ...DEFAULT_CONFIG, includedNamespaces: ["prod-*"] });
  assert.deepEqual(included.targets, ["prod-a"]);
});

Deno.test("truncation keeps the first names in order and reports the same cut ones every time", () => {
  const namespaces = Array.from({ length: 30 }, (_, i) => ns(`team-${String(i).padStart(2, "0")}`));
  const cut = resolveTargets({ items: [{ type: "all" }], maxTargets: 5 }, "default", namespaces, {
    ...DEFAULT_CONFIG,
    maxTargets: 10,
  });
  assert.deepEqual(cut.targets, ["team-00", "team-01", "team-02", "team-03", "team-04"]);
  assert.equal(cut.skipped.length, 25);
  assert.match(cut.skipped[0].reason, /the source's max-targets \(5\)/);
  const global = resolveTargets({ items: [{ type: "all" }], maxTargets: 50 }, "default", namespaces, {
    ...DEFAULT_CONFIG,
    maxTargets: 10,
  });
  assert.equal(global.targets.length, 10, "the annotation never raises the global limit");
  assert.match(global.skipped[0].reason, /--max-targets \(10\)/);
});

Deno.test("property: the namespace wake-up filter never misses a namespace the resolution would target or skip", () => {
  fc.assert(
    fc.property(specArb, namespacesArb, configArb, ({ spec, sourceNamespace }, namespaces, config) => {
      const r = resolveTargets(spec, sourceNamespace, namespaces, config);
      for (const ns of [...r.targets, ...r.skipped.map((s) => s.namespace)]) {
        assert.ok(mayTarget(spec, ns), `${ns} would be missed`);
      }
      // And with only exact names, a namespace not named is left alone.
      if (!spec.selector && spec.items.every((i) => i.type === "name")) {
        assert.ok(!mayTarget(spec, "zz-nobody-names-this"));
      }
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: names and globs of the DNS label shape are valid; system and source namespaces are always excluded", () => {
  fc.assert(fc.property(dnsLabel, dnsLabel, (name, source) => {
    assert.equal(namespacePatternError(name), undefined);
    assert.equal(namespacePatternError(`${name.slice(0, 10)}*`), undefined);
    assert.ok(isGlob(`${name}?`) && !isGlob(name));
    assert.ok(exclusionReason(source, undefined, source, DEFAULT_CONFIG));
    for (const sys of ALWAYS_EXCLUDED_NAMESPACES) {
      assert.ok(exclusionReason(sys, undefined, source, DEFAULT_CONFIG));
    }
    assert.equal(labelValueError(name), undefined);
    assert.equal(labelKeyError(`example.com/${name}`), undefined);
  }));
});

import assert from "node:assert/strict";
import fc from "fast-check";
import { assertSame, configArb, sourceArb } from "./_testing.ts";
import { parseAndPrepare, type PlanMemo, sourceConfig } from "./plan_memo.ts";

const link = { cluster: "hub", allowedNamespaces: ["*"], up: true };

Deno.test("property: a memo of the same source is reused as is; any other memo changes nothing", () => {
  fc.assert(
    fc.property(
      sourceArb(),
      configArb,
      fc.boolean(),
      fc.constantFrom("uid", "resourceVersion", "config", "cluster"),
      (source, config, viaLink, differ) => {
        const scope = viaLink ? link : undefined;
        const fresh = parseAndPrepare(source, config, scope);
        assertSame(parseAndPrepare(source, config, scope), fresh, "deterministic");
        if (!fresh.ok) return;
        // A memo whose parts are marked: reusing it where it does not belong would show.
        const memo: PlanMemo = {
          uid: source.metadata?.uid,
          resourceVersion: source.metadata?.resourceVersion,
          config,
          cluster: scope?.cluster,
          spec: fresh.spec,
          warnings: fresh.warnings,
          prepared: { ...fresh.prepared, hash: "0".repeat(64) },
          inSync: new Map(),
        };
        const same = parseAndPrepare(source, config, scope, memo);
        assert.ok(same.ok);
        assert.equal(same.prepared, memo.prepared, "the very parts of the memo");
        const other: PlanMemo = {
          ...memo,
          ...(differ === "uid" ? { uid: "another" } : {}),
          ...(differ === "resourceVersion" ? { resourceVersion: "another" } : {}),
          ...(differ === "config" ? { config: { ...config } } : {}),
          ...(differ === "cluster" ? { cluster: viaLink ? "elsewhere" : "hub" } : {}),
        };
        assertSame(parseAndPrepare(source, config, scope, other), fresh, `another ${differ}`);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("property: through a link only the upstream's --source-namespaces are left out", () => {
  fc.assert(
    fc.property(configArb, (config) => {
      assert.equal(sourceConfig(config), config);
      const read = sourceConfig(config, link);
      assert.deepEqual(read, { ...config, sourceNamespaces: [] });
      assert.deepEqual(sourceConfig(read, link), read, "idempotent");
    }),
  );
});

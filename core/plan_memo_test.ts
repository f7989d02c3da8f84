import assert from "node:assert/strict";
import fc from "fast-check";
import { assertSame, configArb, namespacesArb, observedArb, sourceArb } from "./_testing.ts";
import { ANNOTATION_SYNC_STATUS, FINALIZER } from "./markers.ts";
import { planSource } from "./plan.ts";
import { parseAndPrepare, type PlanMemo, rebaseMemo, sourceConfig } from "./plan_memo.ts";
import type { KubeObject } from "./types.ts";

const T0 = { now: "2026-12-01T10:00:00Z" };

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

Deno.test("property: a memo carried over the controller's own sync-status and finalizer changes no plan", () => {
  fc.assert(
    fc.property(
      sourceArb().chain((s) => fc.tuple(fc.constant(s), observedArb(s), namespacesArb, configArb)),
      fc.constantFrom("status", "data", "label", "annotation", "uid"),
      ([source, observed, namespaces, config], change) => {
        const ctx = { namespaces, observed, config, time: T0 };
        const first = planSource(source, ctx);
        if (!first.memo) return;
        const meta = source.metadata!;
        const after: KubeObject = {
          ...source,
          metadata: {
            ...meta,
            resourceVersion: "8",
            finalizers: [FINALIZER],
            annotations: { ...meta.annotations, [ANNOTATION_SYNC_STATUS]: "reconciled:3,errors:0" },
          },
        };
        if (change === "data") after.data = { other: source.kind === "Secret" ? btoa("x") : "x" };
        if (change === "label") after.metadata!.labels = { ...meta.labels, tier: "z" };
        if (change === "annotation") after.metadata!.annotations!["example.com/note"] = "z";
        if (change === "uid") after.metadata!.uid = "recreated";
        const rebased = rebaseMemo(first.memo, after);
        if (change !== "status") {
          assert.equal(rebased, undefined, change);
          return;
        }
        assert.ok(rebased);
        const again = planSource(after, { ...ctx, memo: rebased });
        assertSame(again, planSource(after, ctx));
        assert.equal(again.memo?.prepared, rebased.prepared, "not parsed and hashed again");
      },
    ),
    { numRuns: 300 },
  );
});

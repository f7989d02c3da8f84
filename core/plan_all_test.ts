import assert from "node:assert/strict";
import fc from "fast-check";
import { applyActions, configArb, namespacesArb, observedArb, sourceArb } from "./_testing.ts";
import { ANNOTATION_SYNC, LABEL_ENABLED } from "./markers.ts";
import { mirrorSourceOf } from "./ownership.ts";
import { planKey } from "./plan_key.ts";
import type { GroupKind } from "./group_kind.ts";
import { kindPolicy as policy } from "./mirrorable.ts";
import { isMirrorOf } from "./ownership.ts";
import { type PlanAction, sortActions } from "./plan.ts";
import { planAll } from "./plan_all.ts";
import type { KubeObject } from "./types.ts";

const T0 = { now: "2026-11-24T10:00:00Z" };
const kindPolicy = (gk: GroupKind) => policy(gk, undefined);

/** Several sources at once, unique by kind, namespace and name. */
const sourcesArb = fc.uniqueArray(sourceArb(), {
  selector: (s) => `${s.kind}/${s.metadata!.namespace}/${s.metadata!.name}`,
  minLength: 1,
  maxLength: 4,
});

Deno.test("property: planning everything is idempotent across many sources claiming names", () => {
  fc.assert(
    fc.property(sourcesArb, namespacesArb, configArb, (sources, namespaces, config) => {
      const first = planAll({ objects: sources, namespaces, config, time: T0, kindPolicy });
      const after = applyActions(sources, first.actions);
      const second = planAll({ objects: after, namespaces, config, time: T0, kindPolicy });
      for (const a of second.actions) {
        assert.ok(
          ["unchanged", "conflict", "skip"].includes(a.action),
          `${a.action} ${a.source.namespace}/${a.source.name} → ${a.target.namespace}: ${a.reason}`,
        );
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: planning everything never writes over a source or another source's mirror", () => {
  fc.assert(
    fc.property(sourcesArb, namespacesArb, configArb, (sources, namespaces, config) => {
      const doc = planAll({ objects: sources, namespaces, config, time: T0, kindPolicy });
      const at = (a: PlanAction) =>
        sources.find((o) =>
          o.kind === a.source.kind && o.metadata!.namespace === a.target.namespace &&
          o.metadata!.name === a.target.name
        );
      for (const a of doc.actions) {
        if (a.action === "create") assert.equal(at(a), undefined, "never created over an existing object");
        if (a.action === "update" || a.action === "delete") {
          const existing = at(a) as KubeObject;
          assert.ok(existing && isMirrorOf(existing, a.source), "only our own mirrors are touched");
        }
      }
      // One name in one namespace is written by at most one source.
      const writes = doc.actions.filter((a) => a.action === "create").map((a) =>
        `${a.source.kind}/${a.target.namespace}/${a.target.name}`
      );
      assert.equal(new Set(writes).size, writes.length);
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: the plan document is sorted and does not depend on input order", () => {
  fc.assert(
    fc.property(sourcesArb, namespacesArb, configArb, (sources, namespaces, config) => {
      const a = planAll({ objects: sources, namespaces, config, time: T0, kindPolicy });
      const b = planAll({
        objects: [...sources].reverse(),
        namespaces: [...namespaces].reverse(),
        config,
        time: T0,
        kindPolicy,
      });
      assert.deepEqual(a, b);
      assert.deepEqual(sortActions([...a.actions]), a.actions);
    }),
    { numRuns: 200 },
  );
});

Deno.test("property: kubemirror plan and the controller plan every key alike", () => {
  // A cluster: sources (some disabled, some unlabelled), and what already sits at their names.
  const clusterArb = sourcesArb.chain((sources) =>
    fc.tuple(
      fc.constant(sources),
      observedArb(sources[0]),
      fc.array(fc.constantFrom("keep", "drop-label", "drop-sync"), {
        minLength: sources.length,
        maxLength: sources.length,
      }),
    )
  ).map(([sources, observed, edits]) => {
    const edited = sources.map((s, i) => {
      const copy = structuredClone(s);
      if (edits[i] === "drop-label") delete copy.metadata!.labels![LABEL_ENABLED];
      if (edits[i] === "drop-sync") copy.metadata!.annotations![ANNOTATION_SYNC] = "false";
      return copy;
    });
    const taken = new Set(edited.map((s) => `${s.kind}/${s.metadata!.namespace}/${s.metadata!.name}`));
    return [
      ...edited,
      ...observed.filter((o) => !taken.has(`${o.kind}/${o.metadata!.namespace}/${o.metadata!.name}`)),
    ];
  });
  fc.assert(
    fc.property(clusterArb, namespacesArb, configArb, (objects, namespaces, config) => {
      const doc = planAll({ objects, namespaces, config, time: T0, kindPolicy });
      const keyOf = (r: { kind: string; namespace: string; name: string }) =>
        `${r.kind}/${r.namespace}/${r.name}`;
      const keys = new Set([
        ...doc.actions.map((a) => keyOf(a.source)),
        ...doc.errors.map((e) => keyOf(e.source)),
      ]);
      for (const k of keys) {
        const [kind, namespace, name] = k.split("/");
        const sameKind = objects.filter((o) => o.kind === kind);
        // What the controller's caches hold: sources by the enabled label, everything at the name.
        const cached = sameKind.find((o) =>
          o.metadata?.namespace === namespace && o.metadata?.name === name && !mirrorSourceOf(o) &&
          o.metadata?.labels?.[LABEL_ENABLED] === "true"
        );
        const controller = planKey({
          ref: { apiVersion: "v1", kind, namespace, name },
          source: cached,
          observed: sameKind.filter((o) => o.metadata?.name === name),
          peers: sameKind.filter((o) =>
            o !== cached && o.metadata?.name === name && o.metadata?.labels?.[LABEL_ENABLED] === "true" &&
            !mirrorSourceOf(o)
          ),
          namespaces,
          config,
          time: T0,
        });
        const strip = (a: PlanAction) => ({ ...a, source: keyOf(a.source) });
        assert.deepEqual(
          sortActions(controller.actions).map(strip),
          doc.actions.filter((a) => keyOf(a.source) === k).map(strip),
          k,
        );
        assert.deepEqual(
          controller.errors.map((e) => e.message),
          doc.errors.filter((e) => keyOf(e.source) === k).map((e) => e.message),
          k,
        );
      }
    }),
    { numRuns: 300 },
  );
});

import assert from "node:assert/strict";
import fc from "fast-check";
import {
  applyActions,
  assertSame,
  configArb,
  NAMESPACE_POOL,
  namespacesArb,
  OBSERVED_SHAPES,
  observedArb,
  observedObject,
  sourceArb,
} from "./_testing.ts";
import { ANNOTATION_SYNC_STATUS, FINALIZER, LABEL_ALLOW_MIRRORS } from "./markers.ts";
import { isMirrorOf } from "./ownership.ts";
import { type PlanAction, planSource, type SourcePlan } from "./plan.ts";
import { rebaseMemo } from "./plan_memo.ts";
import { namespacesToReplan, planBase, planNamespaces } from "./plan_namespaces.ts";
import type { KubeObject, NamespaceInfo } from "./types.ts";

const T0 = { now: "2026-12-01T10:00:00Z" };
const T1 = { now: "2026-12-01T11:00:00Z" };

/** What happens to one namespace between two plans: to the namespace, and to the object at the source's name. */
const changeArb = fc.uniqueArray(
  fc.record({
    namespace: fc.constantFrom(...NAMESPACE_POOL, "new-1", "app-9"),
    to: fc.constantFrom("kept", "added", "removed", "opted-in", "opted-out", "relabelled", "terminating"),
    object: fc.constantFrom("kept", "removed", ...OBSERVED_SHAPES),
  }),
  { selector: (c) => c.namespace, maxLength: 5 },
);

type Change = { namespace: string; to: string; object: string };

function changeNamespaces(namespaces: readonly NamespaceInfo[], changes: readonly Change[]): NamespaceInfo[] {
  const byName = new Map(namespaces.map((n) => [n.name, n]));
  for (const c of changes) {
    const before = byName.get(c.namespace) ?? { name: c.namespace, labels: {}, phase: "Active" as const };
    if (c.to === "removed") byName.delete(c.namespace);
    else if (c.to === "added") byName.set(c.namespace, before);
    else if (c.to === "opted-in" || c.to === "opted-out") {
      const label = c.to === "opted-in" ? "true" : "false";
      byName.set(c.namespace, { ...before, labels: { ...before.labels, [LABEL_ALLOW_MIRRORS]: label } });
    } else if (c.to === "relabelled") {
      byName.set(c.namespace, { ...before, labels: { ...before.labels, env: "prod" } });
    } else if (c.to === "terminating") byName.set(c.namespace, { ...before, phase: "Terminating" });
  }
  return [...byName.values()];
}

function changeObjects(source: KubeObject, observed: readonly KubeObject[], changes: readonly Change[]) {
  const touched = new Map(changes.filter((c) => c.object !== "kept").map((c) => [c.namespace, c.object]));
  const kept = observed.filter((o) => !touched.has(o.metadata?.namespace ?? ""));
  for (const [ns, object] of touched) {
    if (object !== "removed") {
      kept.push(observedObject(source, ns, object as typeof OBSERVED_SHAPES[number], "50"));
    }
  }
  return kept;
}

/** The source once the controller wrote its sync-status and finalizer on it. */
function withStatus(source: KubeObject): KubeObject {
  const meta = source.metadata ?? {};
  return {
    ...source,
    metadata: {
      ...meta,
      resourceVersion: "8",
      finalizers: [FINALIZER],
      annotations: { ...meta.annotations, [ANNOTATION_SYNC_STATUS]: "reconciled:1,errors:0" },
    },
  };
}

/** Only what a namespace-scoped plan is given: the namespaces planned again and the objects in them. */
function only(
  replan: ReadonlySet<string>,
  namespaces: readonly NamespaceInfo[],
  observed: readonly KubeObject[],
) {
  return {
    namespaces: namespaces.filter((n) => replan.has(n.name)),
    observed: observed.filter((o) => replan.has(o.metadata?.namespace ?? "")),
  };
}

const caseArb = sourceArb().chain((s) =>
  fc.tuple(fc.constant(s), observedArb(s), namespacesArb, configArb, changeArb, fc.boolean())
);

Deno.test("property: a plan of the namespaces that changed is the full plan, whenever there is one", () => {
  let scoped = 0;
  fc.assert(
    fc.property(
      caseArb,
      fc.boolean(),
      fc.boolean(),
      ([source, given, namespaces, config, changes, conflictsGo], inSync, statusWritten) => {
        // The last plan wrote everywhere, or found the mirrors it had written before.
        const observed = inSync
          ? applyActions(given, planSource(source, { namespaces, observed: given, config, time: T0 }).actions)
          : given;
        let last = planSource(source, { namespaces, observed, config, time: T0 });
        // The shell carries the plan out (and may write the source's sync-status: its memo is carried
        // over), then the cluster changes in a few namespaces…
        const settled = applyActions(observed, last.actions);
        const source1 = statusWritten ? withStatus(source) : source;
        if (source1 !== source && last.memo) {
          const rebased = rebaseMemo(last.memo, source1);
          if (rebased) last = { ...last, memo: rebased };
        }
        const namespaces1 = changeNamespaces(namespaces, changes);
        let observed1 = changeObjects(source, settled, changes);
        // …and objects that are not the source's mirrors may go without telling the source.
        if (conflictsGo) {
          const conflicts = new Set(
            last.actions.filter((a) => a.action === "conflict").map((a) => a.target.namespace),
          );
          observed1 = observed1.filter((o) =>
            !conflicts.has(o.metadata?.namespace ?? "") || isMirrorOf(o, last.source)
          );
        }
        const changed = new Set(changes.map((c) => c.namespace));
        // The shell keeps the plan's base (no desired objects): it replans the same namespaces.
        const base = planBase(last);
        const replan = namespacesToReplan(base, changed);
        const ctx = { config, time: T1 };
        const full = planSource(source1, { ...ctx, namespaces: namespaces1, observed: observed1 });
        const part = planNamespaces(
          source1,
          { ...ctx, ...only(replan, namespaces1, observed1) },
          base,
          changed,
        );
        if (part) {
          scoped++;
          assertSame(part, full);
        } else {
          // Planned in full only where the change may reach past those namespaces: the cap cuts some (a skip,
          // or a delete of the mirror there).
          const cut = (a: PlanAction) => a.code === "truncated" || a.reason?.startsWith("cut by ");
          const rebuilt = source1 !== source && last.memo?.spec.transform;
          assert.ok(
            !last.memo || rebuilt || [...last.actions, ...full.actions].some(cut),
            "a valid source under the cap is planned by namespace",
          );
        }
      },
    ),
    { numRuns: 600 },
  );
  assert.ok(scoped > 100, `planned by namespace ${scoped} times`);
});

Deno.test("property: planning the namespaces again against what their plan did leaves nothing to do", () => {
  fc.assert(
    fc.property(caseArb, ([source, observed, namespaces, config, changes]) => {
      const last = planSource(source, { namespaces, observed, config, time: T0 });
      const namespaces1 = changeNamespaces(namespaces, changes);
      const settled = changeObjects(source, applyActions(observed, last.actions), changes);
      const changed = new Set(changes.map((c) => c.namespace));
      const plan = (within: ReadonlySet<string>, objects: readonly KubeObject[], previous: SourcePlan) =>
        planNamespaces(
          source,
          { config, time: T1, ...only(namespacesToReplan(planBase(previous), within), namespaces1, objects) },
          planBase(previous),
          within,
        );
      const part = plan(changed, settled, last);
      if (!part) return;
      // Deterministic.
      assertSame(plan(changed, settled, last), part);
      // Every write is to the source's own mirror, or to an object its owner let the source adopt.
      const before = new Map(settled.map((o) => [`${o.kind}/${o.metadata?.namespace}`, o]));
      for (const a of part.actions) {
        if (a.action !== "update" && a.action !== "delete") continue;
        const o = before.get(`${source.kind}/${a.target.namespace}`);
        assert.ok(
          o && (isMirrorOf(o, part.source) || a.reason?.startsWith("adopted")),
          `${a.action} ${a.target.namespace}`,
        );
      }
      const after = applyActions(settled, part.actions);
      const again = plan(new Set(), after, part);
      for (const a of again?.actions ?? []) {
        assert.ok(["unchanged", "conflict", "skip"].includes(a.action), `${a.action} ${a.target.namespace}`);
      }
    }),
    { numRuns: 400 },
  );
});

Deno.test("property: another source of the same name, another resourceVersion or other flags: planned in full", () => {
  fc.assert(
    fc.property(
      caseArb,
      fc.constantFrom("peer", "edited", "flags"),
      ([source, observed, namespaces, config], why) => {
        const last = planSource(source, { namespaces, observed, config, time: T0 });
        const changed = new Set(["app-1"]);
        const ctx = { namespaces, observed, config, time: T1 };
        const edited = { ...source, metadata: { ...source.metadata, resourceVersion: "8" } };
        const peer = { ...source, metadata: { ...source.metadata, namespace: "team-b", uid: "other" } };
        const part = why === "peer"
          ? planNamespaces(source, { ...ctx, peers: [peer] }, planBase(last), changed)
          : why === "edited"
          ? planNamespaces(edited, ctx, planBase(last), changed)
          : planNamespaces(source, { ...ctx, config: { ...config } }, planBase(last), changed);
        assert.equal(part, undefined);
      },
    ),
    { numRuns: 200 },
  );
});

Deno.test("namespacesToReplan: the namespaces that changed and those where the last plan met a conflict", () => {
  const ref = { apiVersion: "v1", kind: "ConfigMap", namespace: "default", name: "cfg" };
  const at = (action: "conflict" | "unchanged" | "create", namespace: string) => ({
    action,
    source: ref,
    target: { namespace, name: "cfg" },
  });
  const last: SourcePlan = {
    source: ref,
    actions: [at("unchanged", "a"), at("conflict", "b"), at("create", "c")],
    errors: [],
    warnings: [],
  };
  assert.deepEqual([...namespacesToReplan(planBase(last), ["z"])].sort(), ["b", "c", "z"]);
  assert.deepEqual([...namespacesToReplan(planBase(last), [])].sort(), ["b", "c"]);
});

import assert from "node:assert/strict";
import fc from "fast-check";
import { configArb, namespacesArb, observedArb, sourceArb } from "./_testing.ts";
import { ANNOTATION_SYNC, ANNOTATION_SYNC_STATUS, FINALIZER, LABEL_ENABLED } from "./markers.ts";
import { planSource } from "./plan.ts";
import { decideSourceStatus, ERROR_REASONS, type ExecutionOutcome, withStatus } from "./status.ts";
import type { KubeObject } from "./types.ts";

const T0 = { now: "2026-11-24T10:00:00Z" };

/** A source in any state the controller may meet: enabled or not, deleting, finalizer, old status. */
const sourceStateArb = fc.tuple(
  sourceArb(),
  fc.constantFrom("enabled", "no-label", "sync-false"),
  fc.boolean(),
  fc.boolean(),
  fc.option(fc.constantFrom("reconciled:0,errors:0", "reconciled:3,errors:1"), { nil: undefined }),
).map(([s, state, deleting, finalizer, status]): KubeObject => {
  const o = structuredClone(s);
  if (state === "no-label") delete o.metadata!.labels![LABEL_ENABLED];
  if (state === "sync-false") o.metadata!.annotations![ANNOTATION_SYNC] = "false";
  if (deleting) o.metadata!.deletionTimestamp = "2026-11-24T09:00:00Z";
  if (finalizer) o.metadata!.finalizers = [FINALIZER];
  if (status) o.metadata!.annotations![ANNOTATION_SYNC_STATUS] = status;
  return o;
});

const outcomeArb: fc.Arbitrary<ExecutionOutcome> = fc.record({
  written: fc.nat(5),
  deferred: fc.nat(2),
  failures: fc.array(fc.constant("update app-1/cfg: 500"), { maxLength: 2 }),
  pending: fc.boolean(),
  notes: fc.constant([]),
});

Deno.test("property: the source's status is decided once; deciding again on the written result changes nothing", () => {
  fc.assert(
    fc.property(
      sourceStateArb,
      namespacesArb,
      configArb,
      outcomeArb,
      (source, namespaces, config, outcome) => {
        const plan = planSource(source, { namespaces, observed: [], config, time: T0 });
        const input = { source, plan, outcome };
        const first = decideSourceStatus(input);
        assert.deepEqual(decideSourceStatus(input), first, "deterministic");
        const second = decideSourceStatus({ ...input, source: withStatus(source, first) });
        assert.equal(second.finalizer, "keep");
        assert.equal(second.syncStatus, undefined);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("property: the finalizer is never added to a disabled source, nor released while a retry is pending", () => {
  fc.assert(
    fc.property(sourceStateArb, outcomeArb, (source, outcome) => {
      const s = decideSourceStatus({ source, plan: { actions: [], errors: [], warnings: [] }, outcome });
      const enabled = source.metadata?.labels?.[LABEL_ENABLED] === "true" &&
        source.metadata?.annotations?.[ANNOTATION_SYNC] === "true" && !source.metadata?.deletionTimestamp;
      if (!enabled) assert.notEqual(s.finalizer, "add");
      if (enabled) assert.notEqual(s.finalizer, "remove");
      if (outcome.pending) {
        assert.notEqual(s.finalizer, "remove");
        assert.ok(s.syncStatus === undefined || s.syncStatus === null, "no status while pending");
      }
      if (!enabled) assert.deepEqual(s.events, [], "a disabled source gets no Events");
    }),
    { numRuns: 500 },
  );
});

Deno.test("property: every plan error, failure and warning becomes one Event, its reason chosen by code", () => {
  fc.assert(
    fc.property(
      sourceArb().chain((s) => fc.tuple(fc.constant(s), observedArb(s))),
      namespacesArb,
      configArb,
      ([source, observed], namespaces, config) => {
        const plan = planSource(source, { namespaces, observed, config, time: T0 });
        const outcome = {
          written: 0,
          deferred: 0,
          failures: ["create x/y: boom"],
          pending: false,
          notes: [],
        };
        const s = decideSourceStatus({ source, plan, outcome });
        const truncated = plan.actions.some((a) => a.action === "skip" && a.code === "truncated") ? 1 : 0;
        assert.equal(s.events.length, plan.errors.length + 1 + plan.warnings.length + truncated);
        for (const e of plan.errors) {
          assert.ok(
            s.events.some((ev) => ev.reason === ERROR_REASONS[e.kind] && ev.message.endsWith(e.message)),
          );
        }
        assert.match(s.syncStatus ?? "", new RegExp(`errors:${plan.errors.length + 1}$`));
      },
    ),
    { numRuns: 300 },
  );
});

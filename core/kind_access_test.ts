import assert from "node:assert/strict";
import fc from "fast-check";
import { groupKindKey } from "./group_kind.ts";
import { diffWatchedKinds, type DiscoveredKind, kindAccess } from "./kind_access.ts";
import { MIRROR_VERBS, type MirrorableKind } from "./mirrorable.ts";

const verbs = fc.subarray([...MIRROR_VERBS]);
const kindArb: fc.Arbitrary<MirrorableKind> = fc.record({
  group: fc.constantFrom("", "apps", "traefik.io"),
  version: fc.constantFrom("v1", "v1alpha1"),
  kind: fc.constantFrom("Secret", "ConfigMap", "Middleware"),
  plural: fc.constantFrom("secrets", "configmaps", "middlewares"),
});
const discoveredArb = fc.uniqueArray(fc.record({ kind: kindArb, missingVerbs: verbs }), {
  selector: (d) => groupKindKey(d.kind),
});
const watchedArb = fc.uniqueArray(kindArb, { selector: groupKindKey }).map((ks) =>
  new Map(ks.map((k) => [groupKindKey(k), k]))
);

/** The watched kinds after carrying out a diff. */
function apply(watched: Map<string, MirrorableKind>, d: ReturnType<typeof diffWatchedKinds>) {
  const next = new Map(watched);
  for (const key of d.stop) next.delete(key);
  for (const s of d.start) next.set(groupKindKey(s.kind), s.kind);
  return next;
}

Deno.test("kindAccess: full only with every verb; none without get, list or watch; else read-only", () => {
  fc.assert(fc.property(verbs, (missing) => {
    const access = kindAccess(missing);
    assert.equal(access === "full", missing.length === 0);
    assert.equal(access === "none", missing.some((v) => ["get", "list", "watch"].includes(v)));
  }));
});

Deno.test("property: after a discovery diff, exactly the readable kinds are watched, at the discovered version", () => {
  fc.assert(fc.property(watchedArb, discoveredArb, (watched, discovered) => {
    const d = diffWatchedKinds(watched, discovered);
    const next = apply(watched, d);
    const readable = discovered.filter((x) => kindAccess(x.missingVerbs) !== "none");
    assert.deepEqual([...next.keys()].sort(), readable.map((x) => groupKindKey(x.kind)).sort());
    for (const x of readable) {
      const k = next.get(groupKindKey(x.kind));
      assert.deepEqual([k?.version, k?.plural], [x.kind.version, x.kind.plural]);
    }
    // Every discovered readable kind is either started or kept, once.
    assert.equal(d.start.length + d.keep.length, readable.length);
  }));
});

Deno.test("property: the diff is idempotent and deterministic: a second run against its result changes nothing", () => {
  fc.assert(fc.property(watchedArb, discoveredArb, (watched, discovered) => {
    const d = diffWatchedKinds(watched, discovered);
    assert.deepEqual(diffWatchedKinds(watched, discovered), d);
    const again = diffWatchedKinds(apply(watched, d), discovered);
    assert.deepEqual(again.start, []);
    assert.deepEqual(again.stop, []);
  }));
});

Deno.test("discovery diff: a kind served at a new version is restarted; a kind whose rights changed is kept", () => {
  const v1 = { group: "traefik.io", version: "v1alpha1", kind: "Middleware", plural: "middlewares" };
  const secrets = { group: "", version: "v1", kind: "Secret", plural: "secrets" };
  const watched = new Map([[groupKindKey(v1), v1], [groupKindKey(secrets), secrets]]);
  const found: DiscoveredKind[] = [
    { kind: { ...v1, version: "v1" }, missingVerbs: [] },
    { kind: secrets, missingVerbs: ["create"] },
  ];
  const d = diffWatchedKinds(watched, found);
  assert.deepEqual(d.stop, ["traefik.io/Middleware"]);
  assert.deepEqual(d.start.map((s) => s.kind.version), ["v1"]);
  assert.deepEqual(d.keep, [{ kind: secrets, missingVerbs: ["create"] }]);
  const lost = diffWatchedKinds(watched, [{ kind: secrets, missingVerbs: ["list", "watch"] }]);
  assert.deepEqual(lost.stop.sort(), ["/Secret", "traefik.io/Middleware"]);
});

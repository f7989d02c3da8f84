import assert from "node:assert/strict";
import fc from "fast-check";
import { applyActions, assertSame, configArb, NAMESPACE_POOL, namespacesArb, sourceArb } from "./_testing.ts";
import {
  clusterMatches,
  type LinkScope,
  linkStatusChange,
  linkStatusValue,
  parseLink,
} from "./cluster_link.ts";
import {
  ANNOTATION_ALLOWED_NAMESPACES,
  ANNOTATION_CLUSTER_NAME,
  ANNOTATION_LINK_STATUS,
  ANNOTATION_SOURCE_CLUSTER,
  ANNOTATION_SOURCE_CONTENT_HASH,
  ANNOTATION_SOURCE_NAME,
  ANNOTATION_SOURCE_NAMESPACE,
  ANNOTATION_TARGET_CLUSTERS,
  LABEL_ALLOW_MIRRORS,
  LABEL_MANAGED_BY,
  LABEL_MIRROR,
} from "./markers.ts";
import { isMirrorOf, mirrorSourceOf } from "./ownership.ts";
import { type PlanAction, planSource } from "./plan.ts";
import { linkRemoved, planKey } from "./plan_key.ts";
import { planAll } from "./plan_all.ts";
import { type KubeObject, sourceRef } from "./types.ts";
import { globMatch } from "./glob.ts";

const T0 = { now: "2026-11-30T00:00:00Z" };
const T1 = { now: "2026-11-30T00:05:00Z" };
const HERE = "edge";

/** A source upstream, naming some clusters (or none). */
const upstreamSourceArb = fc.tuple(
  sourceArb(),
  fc.option(fc.constantFrom("edge", "edge-*", "all", "hub", "prod-*, edge", "other"), { nil: undefined }),
).map(([s, clusters]) => {
  if (clusters !== undefined) s.metadata!.annotations![ANNOTATION_TARGET_CLUSTERS] = clusters;
  return s;
});

const linkArb: fc.Arbitrary<LinkScope> = fc.record({
  cluster: fc.constantFrom("hub", "hub-2"),
  allowedNamespaces: fc.constantFrom<string[]>([], [], ["app-*"], ["prod-*", "team"]),
  up: fc.constant(true),
});

/** Objects at the source's name downstream: mirrors of this link, of another link, of a local source, and others. */
function downstreamArb(source: KubeObject, cluster: string): fc.Arbitrary<KubeObject[]> {
  const name = source.metadata!.name!;
  return fc.uniqueArray(
    fc.record({
      namespace: fc.constantFrom(...NAMESPACE_POOL),
      owner: fc.constantFrom("this-link", "other-link", "local-same-name", "unmanaged"),
      stale: fc.boolean(),
    }),
    { selector: (o) => o.namespace, maxLength: 6 },
  ).map((list) =>
    list.map(({ namespace, owner, stale }): KubeObject => {
      const labels: Record<string, string> = {};
      const annotations: Record<string, string> = {};
      if (owner !== "unmanaged") {
        labels[LABEL_MANAGED_BY] = "kubemirror";
        labels[LABEL_MIRROR] = "true";
        annotations[ANNOTATION_SOURCE_NAMESPACE] = source.metadata!.namespace!;
        annotations[ANNOTATION_SOURCE_NAME] = name;
        annotations[ANNOTATION_SOURCE_CONTENT_HASH] = (stale ? "0" : "f").repeat(64);
        if (owner === "this-link") annotations[ANNOTATION_SOURCE_CLUSTER] = cluster;
        if (owner === "other-link") annotations[ANNOTATION_SOURCE_CLUSTER] = `${cluster}-other`;
      }
      return {
        apiVersion: "v1",
        kind: source.kind,
        metadata: { name, namespace, uid: `d-${namespace}`, resourceVersion: "3", labels, annotations },
        data: { edited: "downstream" },
      };
    })
  );
}

const caseArb = fc.tuple(upstreamSourceArb, linkArb).chain(([source, link]) =>
  fc.tuple(
    fc.constant(source),
    fc.constant(link),
    downstreamArb(source, link.cluster),
    namespacesArb,
    configArb.map((c) => ({ ...c, clusterName: HERE })),
  )
);

const writes = (actions: readonly PlanAction[]) =>
  actions.filter((a) => a.action === "create" || a.action === "update" || a.action === "delete");

Deno.test("property: a cluster the source does not name gets nothing, and loses what it had", () => {
  fc.assert(
    fc.property(caseArb, ([source, link, observed, namespaces, config]) => {
      const clusters = source.metadata!.annotations![ANNOTATION_TARGET_CLUSTERS];
      const named = clusters !== undefined &&
        clusters.split(",").map((c) => c.trim()).some((c) => c === "all" || globMatch(c, HERE));
      const plan = planSource(source, { namespaces, observed, config, time: T0, link });
      if (named) return;
      for (const a of plan.actions) {
        assert.ok(a.action === "delete" || a.action === "skip", `${a.action} in ${a.target.namespace}`);
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: across clusters, only opted-in namespaces inside the link's allowed namespaces receive", () => {
  fc.assert(
    fc.property(caseArb, ([source, link, observed, namespaces, config]) => {
      const plan = planSource(source, { namespaces, observed, config, time: T0, link });
      const byName = new Map(namespaces.map((n) => [n.name, n]));
      for (const a of plan.actions) {
        if (a.action !== "create" && a.action !== "update") continue;
        const ns = a.target.namespace;
        assert.equal(byName.get(ns)?.labels[LABEL_ALLOW_MIRRORS], "true", `${ns} did not opt in`);
        if (link.allowedNamespaces.length > 0) {
          assert.ok(link.allowedNamespaces.some((g) => globMatch(g, ns)), `${ns} is outside the link`);
        }
        assert.equal(a.object?.metadata?.annotations?.[ANNOTATION_SOURCE_CLUSTER], link.cluster);
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: a link's plan touches only its own mirrors; a local plan never touches a link's", () => {
  fc.assert(
    fc.property(caseArb, ([source, link, observed, namespaces, config]) => {
      const ref = { ...sourceRef(source), cluster: link.cluster };
      const at = new Map(observed.map((o) => [o.metadata!.namespace!, o]));
      const viaLink = planSource(source, { namespaces, observed, config, time: T0, link });
      for (const a of writes(viaLink.actions)) {
        const o = at.get(a.target.namespace);
        if (a.action === "create") assert.equal(o, undefined);
        else assert.ok(o && isMirrorOf(o, ref), `${a.action} of ${JSON.stringify(o && mirrorSourceOf(o))}`);
      }
      // The same object as a local source of the downstream cluster: link mirrors are never its own.
      const local = planSource(source, {
        namespaces,
        observed,
        config: { ...config, clusterName: "all" },
        time: T0,
      });
      for (const a of writes(local.actions)) {
        const o = at.get(a.target.namespace);
        if (o) assert.equal(o.metadata?.annotations?.[ANNOTATION_SOURCE_CLUSTER], undefined);
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: planning across clusters is deterministic and idempotent", () => {
  fc.assert(
    fc.property(caseArb, ([source, link, observed, namespaces, config]) => {
      const c = { namespaces, observed, config, time: T0, link };
      const first = planSource(source, c);
      assertSame(planSource(source, c), first);
      const after = applyActions(observed, first.actions);
      const second = planSource(source, { ...c, observed: after, time: T1 });
      for (const a of second.actions) {
        assert.ok(["unchanged", "conflict", "skip"].includes(a.action), `${a.action} ${a.target.namespace}`);
      }
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: a link that is down or not synced plans nothing, whatever its caches lost", () => {
  fc.assert(
    fc.property(caseArb, fc.boolean(), ([source, link, observed, namespaces, config], sourceLost) => {
      const ref = { ...sourceRef(source), cluster: link.cluster };
      const plan = planKey({
        ref,
        source: sourceLost ? undefined : source,
        observed,
        namespaces,
        config,
        time: T0,
        link: { ...link, up: false },
      });
      assert.deepEqual(plan.actions, []);
    }),
    { numRuns: 200 },
  );
});

Deno.test("property: a removed link deletes exactly its own mirrors of that source", () => {
  fc.assert(
    fc.property(caseArb, ([source, link, observed, namespaces, config]) => {
      const ref = { ...sourceRef(source), cluster: link.cluster };
      const plan = planKey({ ref, source, observed, namespaces, config, time: T0 });
      const own = observed.filter((o) => isMirrorOf(o, ref)).map((o) => o.metadata!.namespace).sort();
      assert.deepEqual(plan.actions.map((a) => a.target.namespace).sort(), own);
      for (const a of plan.actions) {
        assert.equal(a.action, "delete");
        assert.equal(a.reason, linkRemoved(link.cluster));
      }
    }),
    { numRuns: 200 },
  );
});

Deno.test("property: a local source and a link source claiming one name: one owner, one conflict, no fight", () => {
  fc.assert(
    fc.property(caseArb, ([upstream, link, _observed, namespaces, config]) => {
      // Both name the same object; the local one is read in this cluster, the other through the link.
      upstream.metadata!.annotations![ANNOTATION_TARGET_CLUSTERS] = "all";
      const local = structuredClone(upstream);
      local.metadata!.namespace = "team";
      local.metadata!.annotations![ANNOTATION_TARGET_CLUSTERS] = HERE;
      let state: KubeObject[] = [];
      const plans = (time: typeof T0) => [
        planSource(local, {
          namespaces,
          observed: state,
          config,
          time,
          linkPeers: [{ link, source: upstream }],
        }),
        planSource(upstream, { namespaces, observed: state, config, time, link, peers: [local] }),
      ];
      const first = plans(T0);
      const claimed = new Map<string, number>();
      for (const p of first) {
        for (const a of p.actions) {
          if (a.action === "create") {
            claimed.set(a.target.namespace, (claimed.get(a.target.namespace) ?? 0) + 1);
          }
        }
      }
      for (const [ns, n] of claimed) assert.equal(n, 1, `two creates in ${ns}`);
      for (const p of first) state = applyActions(state, p.actions);
      for (const p of plans(T1)) assert.deepEqual(writes(p.actions), [], "no fight once settled");
    }),
    { numRuns: 300 },
  );
});

Deno.test("property: a link Secret parses exactly when it names another cluster and holds a kubeconfig", () => {
  fc.assert(
    fc.property(
      fc.option(fc.constantFrom("hub", "edge", "Hub", "", "hub-2", "a*"), { nil: undefined }),
      fc.option(fc.constantFrom("app-*", "team, prod-?", "Bad_NS"), { nil: undefined }),
      fc.option(fc.constantFrom("apiVersion: v1\nkind: Config\n", ""), { nil: undefined }),
      fc.boolean(),
      (cluster, allowed, kubeconfig, mirror) => {
        const annotations: Record<string, string> = {};
        if (mirror) {
          annotations[ANNOTATION_SOURCE_NAMESPACE] = "default";
          annotations[ANNOTATION_SOURCE_NAME] = "upstream";
        }
        if (cluster !== undefined) annotations[ANNOTATION_CLUSTER_NAME] = cluster;
        if (allowed !== undefined) annotations[ANNOTATION_ALLOWED_NAMESPACES] = allowed;
        const secret = {
          metadata: {
            name: "upstream",
            annotations,
            ...(mirror ? { labels: { [LABEL_MIRROR]: "true" } } : {}),
          },
          data: kubeconfig === undefined ? {} : { kubeconfig: btoa(kubeconfig) },
        };
        const parsed = parseLink(secret, HERE);
        const valid = ["hub", "hub-2"].includes(cluster ?? "") && allowed !== "Bad_NS" && !!kubeconfig &&
          !mirror;
        assert.equal(parsed.ok, valid, JSON.stringify(parsed));
        if (parsed.ok) {
          assert.equal(parsed.link.cluster, cluster);
          assert.equal(parsed.link.kubeconfig, kubeconfig);
          assert.deepEqual(
            parsed.link.allowedNamespaces,
            (allowed ?? "").split(",").map((s) => s.trim()).filter(Boolean),
          );
        } else {
          assert.ok(parsed.errors.length > 0 && parsed.errors.every((e) => e.message.length > 0));
        }
      },
    ),
  );
});

Deno.test("property: link-status is written when it changes, and only then", () => {
  fc.assert(
    fc.property(fc.nat(), fc.nat(), fc.nat(), (sources, mirrors, errors) => {
      const counts = { sources, mirrors, errors };
      const value = linkStatusChange({ metadata: {} }, counts);
      assert.equal(value, linkStatusValue(counts));
      assert.equal(
        linkStatusChange({ metadata: { annotations: { [ANNOTATION_LINK_STATUS]: value! } } }, counts),
        undefined,
      );
    }),
  );
});

Deno.test("property: clusterMatches is a glob match over the list, and `all` matches every cluster", () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom("edge", "e*", "all", "hub")),
      fc.constantFrom("edge", "hub", "x"),
      (list, c) => {
        assert.equal(clusterMatches(list, c), list.some((p) => p === "all" || globMatch(p, c)));
      },
    ),
  );
});

Deno.test("property: the whole plan plans a link's sources as their own plans do, and leaves link mirrors alone when links are unknown", () => {
  fc.assert(
    fc.property(caseArb, ([source, link, observed, namespaces, config]) => {
      const input = {
        objects: observed,
        namespaces,
        config,
        time: T0,
        kindPolicy: () => undefined,
      };
      const whole = planAll({ ...input, links: [{ link, sources: [source] }] });
      const own = planSource(source, { namespaces, observed, config, time: T0, link });
      const ofLink = (actions: readonly PlanAction[]) =>
        actions.filter((a) =>
          a.source.cluster === link.cluster && a.source.name === source.metadata!.name &&
          a.source.namespace === source.metadata!.namespace
        );
      assert.deepEqual(ofLink(whole.actions), own.actions);
      // Links not known (manifests, or a reader who may not read them): their mirrors get no action.
      const unknown = planAll(input);
      assert.deepEqual(unknown.actions.filter((a) => a.source.cluster !== undefined), []);
      // A kind the link may not read: kept as it is, like a link that is down.
      const unreadable = planAll({
        ...input,
        links: [{ link, sources: [], unreadableKinds: [`/${source.kind}`] }],
      });
      assert.deepEqual(writes(unreadable.actions.filter((a) => a.source.cluster === link.cluster)), []);
    }),
    { numRuns: 200 },
  );
});

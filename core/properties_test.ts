/**
 * Properties of the smaller exported core functions that the larger properties use.
 */
import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_CONFIG } from "./config.ts";
import { needsRecreate } from "./drift.ts";
import { isGlob, namespacePatternError } from "./glob.ts";
import { ALWAYS_EXCLUDED_NAMESPACES, PREFIX } from "./markers.ts";
import { labelKeyError, labelValueError } from "./label_selector.ts";
import { type ApiResourceList, denyReason, mirrorableKinds, parseResourceType } from "./mirrorable.ts";
import { adoptsFor, isMirrorOf, mirrorSourceOf } from "./ownership.ts";
import { copiedMetadata, DEFAULT_STRIPPED_PREFIXES, mirrorBody, renderMirror } from "./render.ts";
import { forbiddenSourceReason, isEnabledSource } from "./source_spec.ts";
import { exclusionReason } from "./targets.ts";
import { base64 } from "./transform/apply.ts";
import { BudgetExceeded, checkBudget, sizeOnlyBudget } from "./transform/budget.ts";
import { protectedFingerprint, touchesProtected } from "./transform/protected.ts";
import { parseTransform } from "./transform/rules.ts";
import { groupOf, type KubeObject, namespaceInfo, sourceRef } from "./types.ts";

const NOW = { now: "2026-11-24T00:00:00Z" };
const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);

Deno.test("property: namespaceInfo is terminating exactly when the phase or a deletionTimestamp says so", () => {
  fc.assert(
    fc.property(
      dnsLabel,
      fc.constantFrom("Active", "Terminating", undefined),
      fc.boolean(),
      (name, phase, deleting) => {
        const info = namespaceInfo({
          metadata: {
            name,
            labels: { a: "b" },
            ...(deleting ? { deletionTimestamp: "2026-01-01T00:00:00Z" } : {}),
          },
          ...(phase ? { status: { phase } } : {}),
        });
        assert.equal(info.phase === "Terminating", phase === "Terminating" || deleting);
        assert.equal(info.name, name);
      },
    ),
  );
});

Deno.test("property: sourceRef and groupOf read back what was written", () => {
  fc.assert(
    fc.property(
      fc.option(dnsLabel, { nil: "" }),
      fc.constantFrom("v1", "v1beta1"),
      dnsLabel,
      dnsLabel,
      (group, version, ns, name) => {
        const apiVersion = group ? `${group}/${version}` : version;
        assert.equal(groupOf(apiVersion), group);
        assert.deepEqual(sourceRef({ apiVersion, kind: "K", metadata: { namespace: ns, name } }), {
          apiVersion,
          kind: "K",
          namespace: ns,
          name,
        });
      },
    ),
  );
});

Deno.test("property: base64 decodes back to the same UTF-8 text", () => {
  fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (text) => {
    const bytes = Uint8Array.from(atob(base64(text)), (c) => c.charCodeAt(0));
    assert.equal(new TextDecoder().decode(bytes), text);
  }));
});

Deno.test("property: checkBudget throws exactly past the size or the deadline", () => {
  fc.assert(fc.property(fc.nat(2000), fc.nat(2000), fc.nat(100), fc.nat(100), (size, max, now, deadline) => {
    const budget = { now: () => now, deadline, maxBytes: max };
    const over = size > max || now > deadline;
    if (over) assert.throws(() => checkBudget(budget, size), BudgetExceeded);
    else checkBudget(budget, size);
    if (size <= max) checkBudget(sizeOnlyBudget(max), size);
  }));
});

const meta = fc.dictionary(
  fc.oneof(
    fc.stringMatching(/^[a-z]{1,5}$/),
    fc.constantFrom(...DEFAULT_STRIPPED_PREFIXES.map((p) => `${p}x`), `${PREFIX}enabled`),
  ),
  fc.string({ maxLength: 4 }),
);

Deno.test("property: copied metadata is a subset of the source's, never with a stripped prefix", () => {
  fc.assert(
    fc.property(
      meta,
      meta,
      fc.array(fc.constantFrom("a", "b", "x/"), { maxLength: 2 }),
      (labels, annotations, extra) => {
        const config = { ...DEFAULT_CONFIG, stripLabelPrefixes: extra, stripAnnotationPrefixes: extra };
        const out = copiedMetadata({ metadata: { labels, annotations } }, config);
        for (const [map, from] of [[out.labels, labels], [out.annotations, annotations]] as const) {
          for (const [k, v] of Object.entries(map)) {
            assert.equal(from[k], v);
            assert.ok(![...DEFAULT_STRIPPED_PREFIXES, ...extra].some((p) => k.startsWith(p)), k);
          }
        }
      },
    ),
  );
});

Deno.test("property: mirrorBody never carries metadata or status and never changes the source", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("Secret", "Service", "ConfigMap", "Widget"),
      fc.dictionary(fc.string(), fc.jsonValue()),
      (kind, rest) => {
        const source = {
          ...rest,
          apiVersion: "v1",
          kind,
          metadata: { name: "n" },
          status: { x: 1 },
        } as KubeObject;
        const copy = structuredClone(source);
        const body = mirrorBody(source);
        assert.equal(body.metadata, undefined);
        assert.equal(body.status, undefined);
        assert.deepEqual(source, copy);
      },
    ),
  );
});

Deno.test("property: a rendered mirror is a mirror of its source; adopt names exactly one source", () => {
  fc.assert(fc.property(dnsLabel, dnsLabel, dnsLabel, dnsLabel, (ns, name, target, other) => {
    const source = { apiVersion: "v1", kind: "ConfigMap", metadata: { namespace: ns, name } };
    const { object } = renderMirror(source, target, { strict: false }, DEFAULT_CONFIG, NOW);
    assert.ok(isMirrorOf(object, { namespace: ns, name }));
    assert.deepEqual(mirrorSourceOf(object), { namespace: ns, name });
    assert.equal(isMirrorOf(object, { namespace: `${ns}x`, name }), false);
    const adoptable = { metadata: { annotations: { [`${PREFIX}adopt`]: ` ${ns}/${name} ` } } };
    assert.ok(adoptsFor(adoptable, { namespace: ns, name }));
    assert.equal(adoptsFor(adoptable, { namespace: other, name: `${name}-` }), false);
    assert.equal(
      mirrorSourceOf({ metadata: { annotations: object.metadata!.annotations } }),
      undefined,
      "markers need the label too",
    );
  }));
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

Deno.test("property: parseResourceType reads back every Kind.version[.group] it accepts", () => {
  const kind = fc.stringMatching(/^[A-Z][A-Za-z0-9]{0,10}$/);
  const version = fc.stringMatching(/^v[1-9](beta[1-9]|alpha[1-9])?$/);
  const group = fc.option(fc.stringMatching(/^[a-z]{1,6}(\.[a-z]{1,6}){0,2}$/), { nil: "" });
  fc.assert(fc.property(kind, version, group, (k, v, g) => {
    const p = parseResourceType(g ? `${k}.${v}.${g}` : `${k}.${v}`);
    assert.ok(p.ok);
    assert.deepEqual(p.type, { kind: k, version: v, group: g });
  }));
});

Deno.test("property: discovery yields one allowed, namespaced kind per group and kind, whatever the list order", () => {
  const resource = fc.record({
    name: fc.stringMatching(/^[a-z]{1,6}(\/status)?$/),
    kind: fc.constantFrom("Pod", "Secret", "Widget", "Event", "Role", "Gadget"),
    namespaced: fc.boolean(),
    verbs: fc.subarray(["get", "list", "watch", "create", "update", "patch", "delete"]),
  });
  const list = fc.record({
    groupVersion: fc.constantFrom(
      "v1",
      "example.com/v1",
      "example.com/v1beta1",
      "rbac.authorization.k8s.io/v1",
    ),
    resources: fc.array(resource, { maxLength: 4 }),
  });
  fc.assert(fc.property(fc.array(list, { maxLength: 5 }), (lists: ApiResourceList[]) => {
    const groups = [{ name: "example.com", versions: ["v1", "v1beta1"], preferredVersion: "v1" }];
    const a = mirrorableKinds(groups, lists);
    const b = mirrorableKinds(groups, [...lists].reverse());
    assert.deepEqual(a.kinds.map((k) => `${k.group}/${k.kind}`), b.kinds.map((k) => `${k.group}/${k.kind}`));
    const seen = new Set<string>();
    for (const k of a.kinds) {
      assert.equal(denyReason(k.group, k.kind, false), undefined);
      assert.ok(!seen.has(`${k.group}/${k.kind}`));
      seen.add(`${k.group}/${k.kind}`);
      assert.ok(!k.plural.includes("/"));
    }
  }));
});

Deno.test("property: parseTransform never throws and is deterministic on any text", () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 80 }),
        fc.constantFrom("rules:\n  - path: a\n    value: b\n", "rules: [{path: x}]"),
      ),
      (text) => {
        const a = parseTransform(text, DEFAULT_CONFIG.transformLimits);
        const b = parseTransform(text, DEFAULT_CONFIG.transformLimits);
        assert.equal(JSON.stringify(a), JSON.stringify(b));
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("property: paths under data or spec are never protected; protected paths always are", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("data", "spec", "binaryData"),
      fc.array(fc.stringMatching(/^[a-z]{1,5}$/), { maxLength: 3 }),
      (head, rest) => {
        assert.equal(touchesProtected([{ key: head }, ...rest.map((key) => ({ key }))]), undefined);
      },
    ),
  );
  for (const p of [["metadata", "name"], ["status"], ["metadata", "labels", `${PREFIX}mirror`], ["kind"]]) {
    assert.ok(touchesProtected(p.map((key) => ({ key }))), p.join("."));
  }
  const base = {
    apiVersion: "v1",
    kind: "X",
    metadata: { name: "a", labels: { [`${PREFIX}m`]: "1", app: "x" } },
  };
  assert.equal(
    protectedFingerprint(base),
    protectedFingerprint({ ...base, metadata: { ...base.metadata, labels: { [`${PREFIX}m`]: "1" } } }),
  );
  assert.notEqual(
    protectedFingerprint(base),
    protectedFingerprint({ ...base, metadata: { ...base.metadata, name: "b" } }),
  );
});

Deno.test("property: sources are enabled only by both keys; forbidden reasons are about the namespace or the Secret type", () => {
  fc.assert(
    fc.property(
      fc.constantFrom("true", "false", undefined),
      fc.constantFrom("true", "yes", undefined),
      dnsLabel,
      (label, sync, ns) => {
        const obj: KubeObject = {
          apiVersion: "v1",
          kind: "Secret",
          type: "Opaque",
          metadata: {
            namespace: ns,
            labels: label ? { [`${PREFIX}enabled`]: label } : {},
            annotations: sync ? { [`${PREFIX}sync`]: sync } : {},
          },
        };
        assert.equal(isEnabledSource(obj), label === "true" && sync === "true");
        assert.equal(forbiddenSourceReason(obj, DEFAULT_CONFIG), undefined);
        assert.ok(forbiddenSourceReason({ ...obj, type: "helm.sh/release.v1" }, DEFAULT_CONFIG));
        assert.ok(forbiddenSourceReason(obj, { ...DEFAULT_CONFIG, sourceNamespaces: [`${ns}x`] }));
        assert.equal(
          needsRecreate({ kind: "Secret", data: { a: "1" } }, { kind: "Secret", data: { a: "2" } }),
          false,
        );
      },
    ),
  );
});

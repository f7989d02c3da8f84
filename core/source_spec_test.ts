import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_CONFIG } from "./config.ts";
import {
  ANNOTATION_MAX_TARGETS,
  ANNOTATION_SYNC,
  ANNOTATION_TARGET_NAMESPACE_SELECTOR,
  ANNOTATION_TARGET_NAMESPACES,
  ANNOTATION_TRANSFORM,
  ANNOTATION_TRANSFORM_STRICT,
  LABEL_ENABLED,
  PREFIX,
} from "./markers.ts";
import { forbiddenSourceReason, isEnabledSource, parseSource } from "./source_spec.ts";
import type { KubeObject } from "./types.ts";
import { needsRecreate } from "./drift.ts";

const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);

function source(annotations: Record<string, string>, extra: Partial<KubeObject> = {}): KubeObject {
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "cfg",
      namespace: "default",
      labels: { [LABEL_ENABLED]: "true" },
      annotations: { [ANNOTATION_SYNC]: "true", ...annotations },
    },
    ...extra,
  };
}

function errorsOf(obj: KubeObject, config = DEFAULT_CONFIG) {
  const p = parseSource(obj, config);
  assert.ok(!p.ok, "expected errors");
  return p.errors;
}

Deno.test("isEnabledSource needs both the label and the annotation set to true", () => {
  assert.ok(isEnabledSource(source({})));
  assert.ok(!isEnabledSource(source({ [ANNOTATION_SYNC]: "yes" })));
  const unlabelled = source({});
  unlabelled.metadata!.labels = {};
  assert.ok(!isEnabledSource(unlabelled));
});

Deno.test("parseSource reads items, keywords, selector, max-targets and strictness", () => {
  const p = parseSource(
    source({
      [ANNOTATION_TARGET_NAMESPACES]: " app1 , app-*,all-labeled,, ",
      [ANNOTATION_TARGET_NAMESPACE_SELECTOR]: "env=prod",
      [ANNOTATION_MAX_TARGETS]: "7",
      [ANNOTATION_TRANSFORM_STRICT]: "1",
    }),
    DEFAULT_CONFIG,
  );
  assert.ok(p.ok);
  assert.deepEqual(JSON.parse(JSON.stringify(p.spec.targets)), {
    items: [{ type: "name", name: "app1" }, { type: "glob", pattern: "app-*" }, { type: "all-labeled" }],
    selector: { requirements: [{ key: "env", op: "=", value: "prod" }] },
    maxTargets: 7,
  });
  assert.equal(p.spec.strict, true);
});

Deno.test("parseSource: every bad value gets an error naming the key and the value", () => {
  const errors = errorsOf(source({
    [ANNOTATION_TARGET_NAMESPACES]: "App1,ok,bad_ns",
    [ANNOTATION_TARGET_NAMESPACE_SELECTOR]: "env in (prod",
    [ANNOTATION_MAX_TARGETS]: "-3",
    [ANNOTATION_TRANSFORM]: "rules: [",
  }));
  const byKey = (k: string) => errors.filter((e) => e.key === k).map((e) => e.message).join(" | ");
  assert.match(byKey(ANNOTATION_TARGET_NAMESPACES), /"App1" is not a valid namespace name/);
  assert.match(byKey(ANNOTATION_TARGET_NAMESPACES), /"bad_ns"/);
  assert.match(byKey(ANNOTATION_TARGET_NAMESPACE_SELECTOR), /invalid label selector "env in \(prod"/);
  assert.match(byKey(ANNOTATION_MAX_TARGETS), /"-3" is not a positive whole number/);
  assert.match(byKey(ANNOTATION_TRANSFORM), /not valid YAML/);
  for (const bad of ["0", "000", "1.5", "ten", "", "1e3", "-0"]) {
    assert.match(
      errorsOf(source({ [ANNOTATION_TARGET_NAMESPACES]: "a", [ANNOTATION_MAX_TARGETS]: bad }))[0].message,
      /positive whole number/,
    );
  }
});

Deno.test("parseSource: a source with no targets, or a transform-strict value it does not know, is planned with a warning", () => {
  for (const annotations of [{}, { [ANNOTATION_TARGET_NAMESPACES]: " , " }] as Record<string, string>[]) {
    const p = parseSource(source(annotations), DEFAULT_CONFIG);
    assert.ok(p.ok, "not an error: the source simply mirrors nothing");
    assert.deepEqual(p.spec.targets.items, []);
    assert.equal(p.warnings.length, 1);
    assert.equal(p.warnings[0].reason, "NoTargets");
    assert.match(p.warnings[0].message, /nothing is mirrored: no target namespaces/);
  }
  for (
    const [value, strict, warned] of [
      ["yes", false, true],
      ["TRUE", false, true],
      ["true", true, false],
      ["1", true, false],
      ["false", false, false],
      ["0", false, false],
    ] as const
  ) {
    const p = parseSource(
      source({ [ANNOTATION_TARGET_NAMESPACES]: "a", [ANNOTATION_TRANSFORM_STRICT]: value }),
      DEFAULT_CONFIG,
    );
    assert.ok(p.ok, value);
    assert.equal(p.spec.strict, strict, value);
    assert.equal(p.warnings.length, warned ? 1 : 0, value);
    if (warned) {
      assert.equal(p.warnings[0].reason, "StrictValueNotUnderstood");
      assert.match(
        p.warnings[0].message,
        new RegExp(`"${value}" is not one of .*: transformations are not strict`),
      );
    }
  }
});

Deno.test("parseSource: a max-targets above any cap means the global cap, however many digits", () => {
  for (const big of ["99999999999999999999999", "1000000000", "9007199254740993"]) {
    const p = parseSource(
      source({ [ANNOTATION_TARGET_NAMESPACES]: "a", [ANNOTATION_MAX_TARGETS]: big }),
      DEFAULT_CONFIG,
    );
    assert.ok(p.ok, big);
    assert.ok(p.spec.targets.maxTargets! >= 1e9, big);
  }
});

Deno.test("parseSource: a forbidden Secret type or a disallowed namespace is an error", () => {
  for (
    const type of [
      "kubernetes.io/service-account-token",
      "bootstrap.kubernetes.io/token",
      "helm.sh/release.v1",
    ]
  ) {
    const s = source({ [ANNOTATION_TARGET_NAMESPACES]: "a" }, { kind: "Secret", type });
    assert.match(
      errorsOf(s)[0].message,
      new RegExp(`type ${type.replaceAll(".", "\\.")} are never mirrored`),
    );
  }
  const tls = parseSource(
    source({ [ANNOTATION_TARGET_NAMESPACES]: "a" }, { kind: "Secret", type: "kubernetes.io/tls" }),
    DEFAULT_CONFIG,
  );
  assert.ok(tls.ok, "TLS secrets are fine");
  const e = errorsOf(source({ [ANNOTATION_TARGET_NAMESPACES]: "a" }), {
    ...DEFAULT_CONFIG,
    sourceNamespaces: ["shared-*"],
  });
  assert.match(e[0].message, /namespace "default" is not allowed to hold sources/);
});

Deno.test("parseSource never throws, whatever the annotations hold, and is deterministic", () => {
  const keys = [
    ANNOTATION_TARGET_NAMESPACES,
    ANNOTATION_TARGET_NAMESPACE_SELECTOR,
    ANNOTATION_MAX_TARGETS,
    ANNOTATION_TRANSFORM,
    ANNOTATION_TRANSFORM_STRICT,
  ];
  fc.assert(
    fc.property(fc.dictionary(fc.constantFrom(...keys), fc.string({ maxLength: 60 })), (annotations) => {
      const a = parseSource(source(annotations), DEFAULT_CONFIG);
      const b = parseSource(source(annotations), DEFAULT_CONFIG);
      assert.equal(JSON.stringify(a), JSON.stringify(b));
      if (!a.ok) { for (const e of a.errors) assert.ok(e.message.length > 0); }
    }),
    { numRuns: 1000 },
  );
});

Deno.test("parseSource: an object with a pod template is refused unless its kind is named in --resource-types", () => {
  const workload = source({ [ANNOTATION_TARGET_NAMESPACES]: "a" }, {
    apiVersion: "argoproj.io/v1alpha1",
    kind: "Rollout",
    spec: { template: { spec: { containers: [{ name: "app", image: "app:1" }] } } },
  });
  const refused = errorsOf(workload);
  assert.equal(refused[0].key, undefined, "a forbidden source, not a typo: its mirrors are removed");
  assert.match(refused[0].message, /Rollout objects hold a pod template .* named in --resource-types/);
  const named = parseSource(workload, { ...DEFAULT_CONFIG, namedKinds: ["argoproj.io/Rollout"] });
  assert.ok(named.ok);
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

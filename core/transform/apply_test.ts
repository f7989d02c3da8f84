import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_CONFIG } from "../config.ts";
import { ANNOTATION_TRANSFORM, LABEL_MIRROR, PREFIX } from "../markers.ts";
import { renderMirror } from "../render.ts";
import type { KubeObject } from "../types.ts";
import { applyTransform, base64 } from "./apply.ts";
import { sizeOnlyBudget } from "./budget.ts";
import { protectedFingerprint } from "./protected.ts";
import { parseTransform, type TransformSpec } from "./rules.ts";

const limits = DEFAULT_CONFIG.transformLimits;
const NOW = { now: "2026-11-24T00:00:00Z" };

function spec(yaml: string): TransformSpec {
  const p = parseTransform(yaml, limits);
  assert.ok(p.ok, !p.ok ? p.error : "");
  return p.spec;
}

function mirror(source: KubeObject, ns: string, yaml: string, strict = false) {
  return renderMirror(source, ns, { transform: spec(yaml), strict }, DEFAULT_CONFIG, NOW);
}

const VARS = {
  TargetNamespace: "a",
  SourceNamespace: "b",
  SourceName: "c",
  TargetName: "c",
  Labels: {},
  Annotations: {},
};

const decode = (s: string) => new TextDecoder().decode(Uint8Array.from(atob(s), (c) => c.charCodeAt(0)));

Deno.test("seed example: environment-specific values on a ConfigMap", () => {
  const source: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "app-config", namespace: "default" },
    data: { LOG_LEVEL: "debug", API_URL: "https://localhost:8080", DEBUG_MODE: "true" },
  };
  const r = mirror(
    source,
    "prod-1",
    `rules:
  - path: data.LOG_LEVEL
    value: "error"
  - path: data.API_URL
    template: "https://{{.TargetNamespace}}.api.example.com"
  - path: metadata.labels
    merge:
      environment: "production"
  - path: data.DEBUG_MODE
    delete: true
`,
  );
  assert.deepEqual(r.failures, []);
  assert.deepEqual(r.object.data, { LOG_LEVEL: "error", API_URL: "https://prod-1.api.example.com" });
  assert.equal(r.object.metadata!.labels!.environment, "production");
  assert.equal(r.object.metadata!.labels![LABEL_MIRROR], "true", "markers survive a labels merge");
});

Deno.test("seed example: array indexing on a Deployment", () => {
  const source: KubeObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "app", namespace: "default" },
    spec: {
      template: {
        spec: {
          containers: [{
            name: "app",
            image: "old",
            env: [{ name: "A", value: "a" }, { name: "DB", value: "x" }],
          }],
          volumes: [{ name: "cfg", configMap: { name: "old" } }],
        },
      },
    },
  };
  const r = mirror(
    source,
    "team-a",
    `rules:
  - path: spec.template.spec.containers[0].image
    template: "registry.{{.TargetNamespace}}.example.com/app:v1"
  - path: spec.template.spec.containers[0].env[1].value
    template: "postgres://{{.TargetNamespace}}-db.svc:5432"
  - path: spec.template.spec.volumes[0].configMap.name
    template: "{{.TargetNamespace}}-config"
`,
  );
  const pod = (r.object.spec as any).template.spec;
  assert.equal(pod.containers[0].image, "registry.team-a.example.com/app:v1");
  assert.equal(pod.containers[0].env[1].value, "postgres://team-a-db.svc:5432");
  assert.equal(pod.containers[0].env[0].value, "a");
  assert.equal(pod.volumes[0].configMap.name, "team-a-config");
});

Deno.test("seed example: namespace patterns pick rules per target namespace", () => {
  const source: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "c", namespace: "default" },
    data: {},
  };
  const rules = `rules:
  - path: data.APP_NAME
    value: "my-app"
  - path: data.GRAPHQL_HOST
    value: "https://preprod.example.com/v1/graphql"
    namespacePattern: "preprod-*"
  - path: data.GRAPHQL_HOST
    value: "https://api.example.com/v1/graphql"
    namespacePattern: "prod-*"
  - path: data.LOG_LEVEL
    value: "warn"
    namespacePattern: "*-staging"
`;
  assert.deepEqual(mirror(source, "preprod-x", rules).object.data, {
    APP_NAME: "my-app",
    GRAPHQL_HOST: "https://preprod.example.com/v1/graphql",
  });
  assert.deepEqual(mirror(source, "prod-x", rules).object.data, {
    APP_NAME: "my-app",
    GRAPHQL_HOST: "https://api.example.com/v1/graphql",
  });
  assert.deepEqual(mirror(source, "web-staging", rules).object.data, {
    APP_NAME: "my-app",
    LOG_LEVEL: "warn",
  });
  assert.deepEqual(mirror(source, "other", rules).object.data, { APP_NAME: "my-app" });
});

Deno.test("seed example: removing sensitive data from a Secret; strings under data are base64-encoded", () => {
  const source: KubeObject = {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: { name: "app-credentials", namespace: "default" },
    stringData: {
      APP_KEY: "app-key-12345",
      ADMIN_PASSWORD: "super-secret",
      ROOT_TOKEN: "root-token-xyz",
      DB_HOST: "localhost",
    },
  };
  const r = mirror(
    source,
    "app-1",
    `rules:
  - path: data.ADMIN_PASSWORD
    delete: true
  - path: data.ROOT_TOKEN
    delete: true
  - path: data.DB_HOST
    template: "{{.TargetNamespace}}.postgres.svc.cluster.local"
`,
  );
  const data = r.object.data as Record<string, string>;
  assert.deepEqual(Object.keys(data).sort(), ["APP_KEY", "DB_HOST"]);
  assert.equal(decode(data.APP_KEY), "app-key-12345");
  assert.equal(decode(data.DB_HOST), "app-1.postgres.svc.cluster.local");
  assert.equal(r.object.stringData, undefined, "stringData is folded into data, as the API server does");
  const merged = mirror(source, "x", 'rules:\n  - path: data\n    merge:\n      EXTRA: "plain ✓"\n');
  assert.equal(decode((merged.object.data as Record<string, string>).EXTRA), "plain ✓");
});

Deno.test("seed example: strict mode blocks the mirror when a rule fails; non-strict skips the rule", () => {
  const source: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "c", namespace: "default" },
    data: { a: "1" },
  };
  const rules = `rules:
  - path: data.CRITICAL_VALUE
    value: "must-succeed"
  - path: data.list[3]
    value: "x"
  - path: data.b
    value: "2"
`;
  const strict = mirror(source, "ns", rules, true);
  assert.match(strict.blocked!, /transform-strict: rule 2 \(data.list\[3\]\)/);
  const lax = mirror(source, "ns", rules, false);
  assert.equal(lax.blocked, undefined);
  assert.deepEqual(lax.object.data, { a: "1", CRITICAL_VALUE: "must-succeed", b: "2" });
  assert.equal(lax.failures.length, 1);
  assert.match(lax.failures[0].message, /index 3 is out of range|not a list/);
});

Deno.test("rules: bad input gets a clear error, never a crash", () => {
  const whole: [string, RegExp][] = [
    ["rules: [", /not valid YAML/],
    ["- path: a", /must be a map with a 'rules' list/],
    ["rules: 3", /'rules' must be a list/],
    ["rules: []\nextra: 1", /unknown field/],
    [`rules:\n${"  - path: data.a\n    value: x\n".repeat(51)}`, /51 rules, over the limit of 50/],
    [`rules:\n  - path: data.a\n    value: "${"x".repeat(11 * 1024)}"\n`, /over the limit of 10240 bytes/],
  ];
  for (const [yaml, re] of whole) {
    const p = parseTransform(yaml, limits);
    assert.ok(!p.ok, yaml.slice(0, 40));
    assert.match(p.error, re);
  }
  const perRule: [string, RegExp][] = [
    ["- value: x", /'path' is required/],
    ["- path: data.a\n    value: x\n    delete: true", /has value and delete; exactly one/],
    ["- path: data.a", /needs exactly one of/],
    ["- path: metadata.name\n    value: x", /touches a protected path: metadata.name is protected/],
    ["- path: metadata\n    delete: true", /would replace or remove metadata/],
    [`- path: metadata.labels\n    merge:\n      ${PREFIX}mirror: "false"`, /protected/],
    [`- path: metadata.annotations["${PREFIX}source-name"]\n    value: x`, /protected/],
    ["- path: status.phase\n    value: x", /status is protected/],
    ["- path: kind\n    value: Secret", /kind is protected/],
    ["- path: data.a\n    template: '{{upper'", /syntax error/],
    ["- path: data.a\n    template: '{{nope TargetNamespace}}'", /unknown helper "nope"/],
    ["- path: data.a\n    template: '{{.Nope}}'", /unknown variable "Nope"/],
    ["- path: data..a\n    value: x", /empty segment/],
    ["- path: data.a\n    value: x\n    namespacePattern: 'Bad_NS'", /namespacePattern/],
    ["- path: data.a\n    merge: [1]", /merge must be a map/],
    ["- path: data.a\n    value: {a: 1}", /value must be a string/],
    ["- path: data.a\n    valu: x", /unknown field\(s\) valu/],
  ];
  for (const [rule, re] of perRule) {
    const p = parseTransform(`rules:\n  ${rule}\n`, limits);
    assert.ok(p.ok, rule);
    assert.equal(p.spec.invalid.length, 1, rule);
    assert.match(p.spec.invalid[0].message, re, rule);
  }
});

Deno.test("a transformation past the time limit is stopped: the mirror is not written", () => {
  let now = 0;
  const s = spec(`rules:\n${"  - path: data.a\n    template: '{{upper TargetNamespace}}'\n".repeat(40)}`);
  const out = applyTransform({ apiVersion: "v1", kind: "ConfigMap", data: {} }, s, {
    vars: VARS,
    budget: { now: () => (now += 7), deadline: 100, maxBytes: 1 << 20 },
  });
  assert.match(out.stopped!, /time limit/);
});

Deno.test("a rendered mirror over the size limit is stopped", () => {
  const s = spec(`rules:\n  - path: data.big\n    value: "${"x".repeat(5000)}"\n`);
  const out = applyTransform({ apiVersion: "v1", kind: "ConfigMap", data: {} }, s, {
    vars: VARS,
    budget: sizeOnlyBudget(4000),
  });
  assert.match(out.stopped!, /over the limit of 4000 bytes/);
});

const protectedTargets = [
  "metadata",
  "metadata.labels",
  "metadata.annotations",
  `metadata.labels["${PREFIX}mirror"]`,
  "metadata.name",
  "metadata.ownerReferences[0]",
  "status",
  "kind",
  "apiVersion",
  "data",
  "data.x",
  "spec.a",
  "metadata.labels.team",
];

const ruleArb = fc.record({
  path: fc.constantFrom(...protectedTargets),
  action: fc.oneof(
    fc.record({ value: fc.string({ maxLength: 5 }) }),
    fc.record({ delete: fc.constant(true) }),
    fc.record({
      merge: fc.dictionary(
        fc.constantFrom("name", "labels", "x", `${PREFIX}mirror`, "namespace"),
        fc.constant("v"),
      ),
    }),
    fc.record({ template: fc.constant("{{TargetNamespace}}") }),
  ),
});

Deno.test("no transformation ever changes a protected path", () => {
  const base: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "cfg",
      namespace: "ns",
      labels: { [`${PREFIX}mirror`]: "true", team: "a" },
      annotations: { [`${PREFIX}source-name`]: "cfg" },
    },
    data: { x: "1" },
  };
  fc.assert(
    fc.property(fc.array(ruleArb, { maxLength: 6 }), (rules) => {
      const yaml = JSON.stringify({ rules: rules.map((r) => ({ path: r.path, ...r.action })) });
      const p = parseTransform(yaml, limits);
      assert.ok(p.ok);
      const out = applyTransform(base, p.spec, {
        vars: {
          TargetNamespace: "ns",
          SourceNamespace: "d",
          SourceName: "cfg",
          TargetName: "cfg",
          Labels: {},
          Annotations: {},
        },
        budget: sizeOnlyBudget(1 << 20),
      });
      assert.equal(protectedFingerprint(out.object), protectedFingerprint(base));
    }),
    { numRuns: 500 },
  );
});

Deno.test("the transform annotation is part of the hash", () => {
  const source: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "c", namespace: "default", annotations: { [ANNOTATION_TRANSFORM]: "x" } },
    data: {},
  };
  const a = mirror(source, "n", "rules:\n  - path: data.a\n    value: '1'\n");
  const b = mirror(source, "n", "rules:\n  - path: data.a\n    value: '2'\n");
  assert.notEqual(a.hash, b.hash);
  assert.equal(base64("é"), "w6k=");
});

Deno.test("the README's transformation example works when pasted", async () => {
  const readme = await Deno.readTextFile(new URL("../../README.md", import.meta.url));
  const block = /```yaml\nkubemirror\.raczylo\.com\/transform: \|\n([\s\S]*?)```/.exec(readme);
  assert.ok(block, "the README has its transformation example");
  const yaml = block[1].split("\n").map((l) => l.slice(2)).join("\n");
  const source: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: "app", namespace: "default" },
    data: { LOG_LEVEL: "info", DEBUG_MODE: "1", "tls.crt": "x" },
  };
  const prod = mirror(source, "prod-eu", yaml);
  assert.deepEqual(prod.failures.map((f) => f.message).filter((m) => !/containers/.test(m)), []);
  const data = prod.object.data as Record<string, string>;
  assert.equal(data.LOG_LEVEL, "error\n", "the Go if/else example, last rule wins");
  assert.equal(data.API_URL, "https://prod-eu.api.example.com");
  assert.equal(data.DEBUG_MODE, undefined);
  assert.equal(data["tls.crt"], undefined);
  assert.equal((mirror(source, "staging-1", yaml).object.data as Record<string, string>).LOG_LEVEL, "warn\n");
  const workload: KubeObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "app", namespace: "default" },
    spec: {
      template: { spec: { containers: [{ name: "app", env: [{ name: "A" }, { name: "DB", value: "x" }] }] } },
    },
  };
  const env = (mirror(workload, "prod-eu", yaml).object as any).spec.template.spec.containers[0].env;
  assert.equal(env[1].value, "postgres://prod_eu-db:5432");
});

Deno.test("property: base64 decodes back to the same UTF-8 text", () => {
  fc.assert(fc.property(fc.string({ unit: "grapheme", maxLength: 200 }), (text) => {
    const bytes = Uint8Array.from(atob(base64(text)), (c) => c.charCodeAt(0));
    assert.equal(new TextDecoder().decode(bytes), text);
  }));
});

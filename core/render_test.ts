import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_CONFIG } from "./config.ts";
import {
  ANNOTATION_LAST_SYNC_TIME,
  ANNOTATION_SOURCE_CONTENT_HASH,
  ANNOTATION_SOURCE_GENERATION,
  ANNOTATION_SOURCE_NAME,
  ANNOTATION_SOURCE_NAMESPACE,
  ANNOTATION_SOURCE_RESOURCE_VERSION,
  ANNOTATION_SOURCE_UID,
  ANNOTATION_SYNC_STATUS,
  FINALIZER,
  LABEL_MANAGED_BY,
  LABEL_MIRROR,
  PREFIX,
} from "./markers.ts";
import { copiedMetadata, DEFAULT_STRIPPED_PREFIXES, mirrorBody, renderMirror } from "./render.ts";
import { parseTransform } from "./transform/rules.ts";
import type { KubeObject } from "./types.ts";

const NOW = { now: "2026-11-24T10:00:00Z" };

const source: KubeObject = {
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: {
    name: "cfg",
    namespace: "default",
    uid: "u-1",
    resourceVersion: "42",
    generation: 3,
    creationTimestamp: "2026-01-01T00:00:00Z",
    finalizers: [FINALIZER, "other/finalizer"],
    ownerReferences: [{ apiVersion: "v1", kind: "Pod", name: "x", uid: "p" }],
    managedFields: [{ manager: "kubectl" }],
    labels: {
      app: "web",
      [`${PREFIX}enabled`]: "true",
      "app.kubernetes.io/managed-by": "Helm",
      "argocd.argoproj.io/instance": "x",
      "team.example.com/owner": "a",
    },
    annotations: {
      [`${PREFIX}sync`]: "true",
      [`${PREFIX}target-namespaces`]: "all",
      "kubectl.kubernetes.io/last-applied-configuration": "{}",
      "argocd.argoproj.io/tracking-id": "x",
      "kustomize.toolkit.fluxcd.io/name": "x",
      "helm.toolkit.fluxcd.io/name": "x",
      "meta.helm.sh/release-name": "x",
      "docs.example.com/url": "https://x",
    },
  },
  data: { a: "1" },
  status: { some: "status" },
};

Deno.test("the mirror: fresh metadata, copied labels and annotations minus stripped prefixes, plus markers", () => {
  const { object, hash } = renderMirror(source, "app1", { strict: false }, DEFAULT_CONFIG, NOW);
  assert.deepEqual(object.metadata, {
    name: "cfg",
    namespace: "app1",
    labels: {
      app: "web",
      "team.example.com/owner": "a",
      [LABEL_MANAGED_BY]: "kubemirror",
      [LABEL_MIRROR]: "true",
    },
    annotations: {
      "docs.example.com/url": "https://x",
      [ANNOTATION_SOURCE_NAMESPACE]: "default",
      [ANNOTATION_SOURCE_NAME]: "cfg",
      [ANNOTATION_SOURCE_CONTENT_HASH]: hash,
      [ANNOTATION_LAST_SYNC_TIME]: "2026-11-24T10:00:00Z",
      [ANNOTATION_SOURCE_GENERATION]: "3",
      [ANNOTATION_SOURCE_UID]: "u-1",
      [ANNOTATION_SOURCE_RESOURCE_VERSION]: "42",
    },
  });
  assert.deepEqual(object.data, { a: "1" });
  assert.equal(object.status, undefined);
  assert.match(hash, /^[0-9a-f]{64}$/);
});

Deno.test("configured strip prefixes apply to labels and annotations separately", () => {
  const { object } = renderMirror(source, "app1", { strict: false }, {
    ...DEFAULT_CONFIG,
    stripLabelPrefixes: ["team.example.com/"],
    stripAnnotationPrefixes: ["docs.example.com/"],
  }, NOW);
  assert.equal(object.metadata!.labels!["team.example.com/owner"], undefined);
  assert.equal(object.metadata!.annotations!["docs.example.com/url"], undefined);
  assert.equal(object.metadata!.labels!.app, "web");
});

Deno.test("a Service mirror drops the fields the API server allocates", () => {
  const svc: KubeObject = {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: "web", namespace: "default" },
    spec: {
      type: "NodePort",
      clusterIP: "10.0.0.12",
      clusterIPs: ["10.0.0.12"],
      healthCheckNodePort: 31000,
      ports: [{ port: 80, nodePort: 30080, targetPort: 8080 }],
      selector: { app: "web" },
    },
  };
  const { object } = renderMirror(svc, "app1", { strict: false }, DEFAULT_CONFIG, NOW);
  assert.deepEqual(object.spec, {
    type: "NodePort",
    ports: [{ port: 80, targetPort: 8080 }],
    selector: { app: "web" },
  });
  const headless = renderMirror(
    { ...svc, spec: { clusterIP: "None", clusterIPs: ["None"], ports: [{ port: 80 }] } },
    "app1",
    { strict: false },
    DEFAULT_CONFIG,
    NOW,
  );
  assert.deepEqual(headless.object.spec, { clusterIP: "None", clusterIPs: ["None"], ports: [{ port: 80 }] });
  assert.equal((svc.spec as any).clusterIP, "10.0.0.12", "the source is not modified");
});

Deno.test("no mirror ever carries the source's ownership, bookkeeping, status or KubeMirror source keys", () => {
  const meta = fc.record({
    uid: fc.string(),
    resourceVersion: fc.string(),
    creationTimestamp: fc.string(),
    finalizers: fc.array(fc.string()),
    ownerReferences: fc.array(fc.record({ name: fc.string() })),
    managedFields: fc.array(fc.record({ manager: fc.string() })),
    labels: fc.dictionary(fc.oneof(fc.string(), fc.constant(`${PREFIX}enabled`)), fc.string()),
    annotations: fc.dictionary(fc.oneof(fc.string(), fc.constant(`${PREFIX}adopt`)), fc.string()),
  }, { requiredKeys: [] });
  fc.assert(fc.property(meta, fc.string({ minLength: 1 }), (m, ns) => {
    const { object } = renderMirror(
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { ...m, name: "n", namespace: "s" },
        status: { x: 1 },
      } as KubeObject,
      ns,
      { strict: false },
      DEFAULT_CONFIG,
      NOW,
    );
    const md = object.metadata!;
    assert.deepEqual(Object.keys(md).sort(), ["annotations", "labels", "name", "namespace"]);
    assert.equal(object.status, undefined);
    assert.equal(md.namespace, ns);
    for (const k of Object.keys(md.labels!)) {
      if (k.startsWith(PREFIX)) assert.ok([LABEL_MIRROR, LABEL_MANAGED_BY].includes(k), k);
    }
    assert.equal(md.annotations![`${PREFIX}adopt`], undefined);
  }));
});

/** Labels or annotations: plain keys, and keys under a prefix that is always stripped. */
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

Deno.test("a template sees the source's annotations but not the sync-status the controller writes on it", () => {
  const parsed = parseTransform(
    "rules:\n  - path: data.notes\n    template: '{{ range $k, $v := .Annotations }}{{ $k }}={{ $v }};{{ end }}'\n",
    DEFAULT_CONFIG.transformLimits,
  );
  assert.ok(parsed.ok);
  const withStatus: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: "cfg",
      namespace: "default",
      annotations: { "team.example.com/owner": "a", [ANNOTATION_SYNC_STATUS]: "reconciled:3,errors:0" },
    },
    data: {},
  };
  const spec = { transform: parsed.spec, strict: true };
  const { object, failures } = renderMirror(withStatus, "app1", spec, DEFAULT_CONFIG, NOW);
  assert.deepEqual(failures, []);
  assert.equal((object.data as Record<string, string>).notes, "team.example.com/owner=a;");
  // So a change of status renders the same mirror: nothing is written again.
  withStatus.metadata!.annotations![ANNOTATION_SYNC_STATUS] = "reconciled:4,errors:0";
  assert.deepEqual(renderMirror(withStatus, "app1", spec, DEFAULT_CONFIG, NOW).object, object);
});

import assert from "node:assert/strict";
import fc from "fast-check";
import { DEFAULT_CONFIG } from "./config.ts";
import { PREFIX } from "./markers.ts";
import { adoptsFor, isMirrorOf, mirrorSourceOf } from "./ownership.ts";
import { renderMirror } from "./render.ts";

const NOW = { now: "2026-11-24T00:00:00Z" };
const dnsLabel = fc.stringMatching(/^[a-z0-9]([-a-z0-9]{0,20}[a-z0-9])?$/);

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

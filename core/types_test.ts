import assert from "node:assert/strict";
import fc from "fast-check";
import { groupOf, namespaceInfo, sourceRef } from "./types.ts";

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

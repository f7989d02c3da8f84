/**
 * Where the system's CA bundle lives (the list Go's crypto/x509 reads), after `$SSL_CERT_FILE`: a
 * kubeconfig with no CA of its own gets the first readable one. This list is the one source of the
 * controller's read permissions for CA files: `tools/build_binary.sh --flags` prints it into the compiled
 * binary's `--allow-read`, and `tools/run.sh` runs with those flags.
 *
 * @example
 * ```ts
 * import { SYSTEM_CA_BUNDLES } from "./system_ca.ts";
 * import assert from "node:assert/strict";
 * assert.equal(SYSTEM_CA_BUNDLES[0], "/etc/ssl/certs/ca-certificates.crt");
 * ```
 * @module
 */

/** The system CA bundle paths, most common first. */
export const SYSTEM_CA_BUNDLES: readonly string[] = [
  "/etc/ssl/certs/ca-certificates.crt",
  "/etc/pki/tls/certs/ca-bundle.crt",
  "/etc/ssl/ca-bundle.pem",
  "/etc/pki/tls/cacert.pem",
  "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
  "/etc/ssl/cert.pem",
];

/** The first readable system CA bundle (`$SSL_CERT_FILE` first), or undefined. */
export function systemCaBundle(): string | undefined {
  const env = Deno.env.get("SSL_CERT_FILE");
  for (const path of env ? [env, ...SYSTEM_CA_BUNDLES] : SYSTEM_CA_BUNDLES) {
    try {
      const pem = Deno.readTextFileSync(path);
      if (pem.includes("BEGIN CERTIFICATE")) return pem;
    } catch {
      // missing, or not readable under the permission flags: try the next
    }
  }
  return undefined;
}

if (import.meta.main) console.log(SYSTEM_CA_BUNDLES.join(","));

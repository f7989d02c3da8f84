/**
 * The server, token and CA of a kubeconfig the test plane wrote (one cluster, one user, all inline).
 *
 * @example
 * ```ts
 * import { kubeconfigCredentials } from "./credentials.ts";
 * const { server, token, ca } = kubeconfigCredentials(Deno.readTextFileSync("admin.kubeconfig"));
 * ```
 * @module
 */

/** Reads the first server, token and (decoded) CA certificate out of a plane-written kubeconfig. */
export function kubeconfigCredentials(text: string): { server: string; token: string; ca: string } {
  const field = (name: string) => {
    const m = new RegExp(`${name}: (\\S+)`).exec(text);
    if (!m) throw new Error(`the kubeconfig has no ${name}`);
    return m[1];
  };
  return { server: field("server"), token: field("token"), ca: atob(field("certificate-authority-data")) };
}

/**
 * The kubeconfig, read through client-node (files, in-cluster, exec plugins, token files, cloud
 * providers), and what each request needs of it: Deno's HTTP client holding the cluster's CA and the
 * user's certificate, and the user's authorization headers.
 *
 * @example
 * ```ts
 * import { contextNamespace, kubeConfigFromText } from "./kube_config.ts";
 * const kc = kubeConfigFromText(`
 * apiVersion: v1
 * kind: Config
 * clusters: [{ name: c, cluster: { server: "http://127.0.0.1:8080" } }]
 * users: [{ name: u, user: { token: abc } }]
 * contexts: [{ name: x, context: { cluster: c, user: u, namespace: team-a } }]
 * current-context: x
 * `);
 * console.log(contextNamespace(kc)); // team-a
 * ```
 * @module
 */
import * as k8s from "@kubernetes/client-node";
import { Buffer } from "node:buffer";
import { SYSTEM_CA_BUNDLES, systemCaBundle } from "./system_ca.ts";

/**
 * Loads the kubeconfig: `--kubeconfig`, else `KUBECONFIG`, else `~/.kube/config`, else in-cluster; with
 * `context`, that context instead of the current one (as kubectl's `--context`).
 */
export function loadKubeConfig(path: string | undefined, context?: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  const env = Deno.env.get("KUBECONFIG");
  if (path) kc.loadFromFile(path);
  else if (env) kc.loadFromFile(env.split(":")[0]);
  else if (Deno.env.get("KUBERNETES_SERVICE_HOST")) kc.loadFromCluster();
  else kc.loadFromDefault();
  if (context !== undefined) {
    if (!kc.getContextObject(context)) {
      throw new Error(`context "${context}" does not exist in the kubeconfig`);
    }
    kc.setCurrentContext(context);
  }
  return withSystemRoots(kc);
}

/**
 * A kubeconfig given as text (a cluster link's, §10), used as is: token, client certificate, exec plugin
 * or none, its CA or the system's.
 */
export function kubeConfigFromText(text: string): k8s.KubeConfig {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(text);
  if (!kc.getCurrentCluster()) throw new Error("the kubeconfig has no current context with a cluster");
  return withSystemRoots(kc);
}

/** The namespace of the kubeconfig's current context, as kubectl reads it (`default` when unset). */
export function contextNamespace(kc: k8s.KubeConfig): string {
  return kc.getContextObject(kc.getCurrentContext())?.namespace ?? "default";
}

/**
 * A cluster with no CA in the kubeconfig (a publicly trusted server certificate, or
 * `insecure-skip-tls-verify`) gets the system's CA bundle: without an explicit CA, Deno's TLS for Node
 * asks for `--allow-sys`, which the controller does not have, and every request would fail.
 */
function withSystemRoots(kc: k8s.KubeConfig): k8s.KubeConfig {
  const cluster = kc.getCurrentCluster();
  if (!cluster || cluster.caData || cluster.caFile || !cluster.server.startsWith("https:")) return kc;
  const pem = systemCaBundle();
  if (!pem) {
    throw new Error(
      `the kubeconfig's cluster ${cluster.name} has no certificate-authority(-data) and no system CA bundle ` +
        `is readable (${SYSTEM_CA_BUNDLES[0]}, … or $SSL_CERT_FILE): add the CA to the kubeconfig`,
    );
  }
  const caData = Buffer.from(pem, "utf8").toString("base64");
  kc.clusters = kc.clusters.map((c) => c.name === cluster.name ? { ...c, caData } : c);
  return kc;
}

/**
 * Deno's HTTP client for the kubeconfig's cluster and user: the CA and the client certificate as
 * client-node reads them (the kubeconfig's data, or its files). Undefined when the kubeconfig needs what
 * it cannot do (skipping TLS verification, another TLS server name, a proxy), or the cluster is plain HTTP.
 */
export function nativeTransport(kc: k8s.KubeConfig): { client: Deno.HttpClient } | undefined {
  const cluster = kc.getCurrentCluster();
  const user = kc.getCurrentUser();
  if (!cluster || !user || cluster.skipTLSVerify || cluster.tlsServerName || cluster.proxyUrl) {
    return undefined;
  }
  if (!cluster.server.startsWith("https:")) return undefined;
  const pem = (file?: string, data?: string) =>
    file ? Deno.readTextFileSync(file) : data ? Buffer.from(data, "base64").toString("utf8") : undefined;
  const ca = pem(cluster.caFile, cluster.caData);
  const cert = pem(user.certFile, user.certData);
  const key = pem(user.keyFile, user.keyData);
  const client = Deno.createHttpClient({
    ...(ca ? { caCerts: [ca] } : {}),
    ...(cert && key ? { cert, key } : {}),
  });
  return { client };
}

/**
 * How one request is authenticated: the headers client-node's authenticators give for the current user
 * (a bearer token, a token file, an exec plugin, a cloud provider), asked for every request since tokens
 * rotate. Its public `applyToFetchOptions` also decodes the CA and the client key and builds an HTTPS
 * agent each time, which Deno's client holds once: that was a tenth of a request's CPU, measured. A user
 * with a password or an impersonation (headers applyToFetchOptions adds itself) still takes it.
 */
export function authHeaders(kc: k8s.KubeConfig): () => Promise<Record<string, string>> {
  const user = kc.getCurrentUser();
  // Private in client-node's types (1.4.0, pinned): the authorization step of applyToFetchOptions alone.
  const authorize = (kc as unknown as Record<string, unknown>)["applyAuthorizationHeader"];
  if (typeof authorize === "function" && !user?.username && !user?.impersonateUser) {
    return async () => {
      const options = { headers: {} as Record<string, string> };
      await authorize.call(kc, options);
      return options.headers;
    };
  }
  return async () => {
    const options = await kc.applyToFetchOptions({});
    return Object.fromEntries(new Headers(options.headers as HeadersInit));
  };
}

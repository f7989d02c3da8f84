/**
 * Reads the live cluster for `kubemirror plan` without `-f`: namespaces, and for every mirrorable kind
 * the sources (by label), the mirrors (by label) and any object at a source's name (by field selector).
 * Reads only: nothing is written.
 *
 * @example
 * ```ts
 * import { readCluster } from "./cluster_reader.ts";
 * import { parseFlags } from "../config/flags.ts";
 * const parsed = parseFlags([]);
 * if (parsed.ok) {
 *   const { namespaces, objects } = await readCluster(parsed.flags);
 * }
 * ```
 * @module
 */
import { LABEL_ENABLED, LABEL_MIRROR } from "../../core/markers.ts";
import { type KubeObject, type NamespaceInfo, namespaceInfo } from "../../core/types.ts";
import { discoverKinds } from "../kube/discovery.ts";
import type { Flags } from "../config/flags.ts";
import { KubeApi, loadKubeConfig } from "../kube/kube_api.ts";
import { resourcePath } from "../kube/client.ts";
import { createLogger } from "../runtime/log.ts";

async function listAll(api: KubeApi, path: string, query: Record<string, string>): Promise<KubeObject[]> {
  return (await api.list(path, query)).items;
}

/** Reads what a plan needs from the cluster the kubeconfig points at. */
export async function readCluster(
  flags: Flags,
): Promise<{ namespaces: NamespaceInfo[]; objects: KubeObject[]; errors: string[] }> {
  const api = new KubeApi(loadKubeConfig(flags.kubeconfig), {
    qps: flags.rateLimitQps,
    burst: flags.rateLimitBurst,
  });
  const log = createLogger("error");
  const namespaces = (await listAll(api, "/api/v1/namespaces", {})).map(namespaceInfo);
  const { kinds, errors } = await discoverKinds(api, flags.resourceTypes, log);
  const objects = new Map<string, KubeObject>();
  const add = (o: KubeObject) =>
    objects.set(`${o.apiVersion}|${o.kind}|${o.metadata?.namespace}|${o.metadata?.name}`, o);
  for (const kind of kinds) {
    const path = resourcePath(kind);
    const sources = await listAll(api, path, { labelSelector: `${LABEL_ENABLED}=true` });
    sources.forEach(add);
    (await listAll(api, path, { labelSelector: `${LABEL_MIRROR}=true` })).forEach(add);
    for (const name of new Set(sources.map((s) => s.metadata?.name ?? ""))) {
      (await listAll(api, path, { fieldSelector: `metadata.name=${name}` })).forEach(add);
    }
  }
  return { namespaces, objects: [...objects.values()], errors };
}

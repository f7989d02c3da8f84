/**
 * Reads the live cluster for `kubemirror plan` without `-f`: namespaces, and for every mirrorable kind
 * the sources (by label), the mirrors (by label) and any object at a source's name (by field selector).
 * Reads only: nothing is written.
 *
 * @example
 * ```ts
 * import { readCluster } from "./cluster_reader.ts";
 * import type { KubeClient } from "../kube/client.ts";
 * declare const client: KubeClient;
 * const { namespaces, objects, errors } = await readCluster(client, { resourceTypes: undefined });
 * ```
 * @module
 */
import { LABEL_ENABLED, LABEL_MIRROR } from "../../core/markers.ts";
import { type KubeObject, type NamespaceInfo, namespaceInfo } from "../../core/types.ts";
import { discoverKinds } from "../kube/discovery.ts";
import type { PlanFlags } from "../config/flags.ts";
import { type KubeClient, resourcePath } from "../kube/client.ts";
import { createLogger } from "../runtime/log.ts";

/** What the cluster holds that a plan reads. */
export interface ClusterState {
  namespaces: NamespaceInfo[];
  objects: KubeObject[];
  /** Kinds that could not be read, said to the user; the rest is planned. */
  errors: string[];
}

/** Reads what a plan needs from the cluster behind `api`. */
export async function readCluster(
  api: KubeClient,
  flags: Pick<PlanFlags, "resourceTypes">,
): Promise<ClusterState> {
  const log = createLogger("error");
  const listAll = async (path: string, query: Record<string, string> = {}) =>
    (await api.list(path, { query })).items;
  const namespaces = (await listAll("/api/v1/namespaces")).map(namespaceInfo);
  const { kinds, errors } = await discoverKinds(api, flags.resourceTypes, log);
  const objects = new Map<string, KubeObject>();
  const add = (o: KubeObject) =>
    objects.set(`${o.apiVersion}|${o.kind}|${o.metadata?.namespace}|${o.metadata?.name}`, o);
  for (const kind of kinds) {
    const path = resourcePath(kind);
    const sources = await listAll(path, { labelSelector: `${LABEL_ENABLED}=true` });
    sources.forEach(add);
    (await listAll(path, { labelSelector: `${LABEL_MIRROR}=true` })).forEach(add);
    for (const name of new Set(sources.map((s) => s.metadata?.name ?? ""))) {
      (await listAll(path, { fieldSelector: `metadata.name=${name}` })).forEach(add);
    }
  }
  return { namespaces, objects: [...objects.values()], errors };
}

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
import { type LinkScope, parseLink } from "../../core/cluster_link.ts";
import { DEFAULT_CLUSTER_NAME, LABEL_CLUSTER_LINK, LABEL_ENABLED, LABEL_MIRROR } from "../../core/markers.ts";
import type { MirrorableKind } from "../../core/mirrorable.ts";
import { groupKindKey } from "../../core/group_kind.ts";
import { type KubeObject, type NamespaceInfo, namespaceInfo } from "../../core/types.ts";
import { discoverKinds } from "../kube/discovery.ts";
import type { PlanFlags } from "../config/flags.ts";
import { isStatus, type KubeClient, resourcePath } from "../kube/client.ts";
import { slimMirror } from "../kube/object_store.ts";
import { createLogger, errorMessage } from "../runtime/log.ts";

/** What the cluster holds that a plan reads. */
export interface ClusterState {
  namespaces: NamespaceInfo[];
  objects: KubeObject[];
  /** Kinds that could not be read, said to the user; the rest is planned. */
  errors: string[];
  /** Cluster links (§10) and the sources read through each. */
  links?: { link: LinkScope; sources: KubeObject[]; unreadableKinds?: string[] }[];
}

/** Reads what a plan needs from the cluster behind `api`. */
export async function readCluster(
  api: KubeClient,
  flags: Pick<PlanFlags, "resourceTypes"> & Partial<Pick<PlanFlags, "leaderElectionNamespace" | "config">>,
  connect?: (kubeconfig: string) => KubeClient,
): Promise<ClusterState> {
  const log = createLogger("error");
  // Mirrors are kept as the controller caches them (what the plan compares), never whole.
  const listAll = async (path: string, query: Record<string, string> = {}) =>
    (await api.list(path, { query, keep: slimMirror })).items;
  const namespaces = (await listAll("/api/v1/namespaces")).map(namespaceInfo);
  const { kinds, errors } = await discoverKinds(api, flags.resourceTypes, log);
  // Links first: an object in the way of a link's source is read like one in the way of a local source.
  const links = connect && flags.leaderElectionNamespace
    ? await readLinks(api, kinds, flags.leaderElectionNamespace, flags.config?.clusterName, connect, errors)
    : [];
  const objects = new Map<string, KubeObject>();
  const add = (o: KubeObject) =>
    objects.set(`${o.apiVersion}|${o.kind}|${o.metadata?.namespace}|${o.metadata?.name}`, o);
  for (const kind of kinds) {
    const path = resourcePath(kind);
    const sources = await listAll(path, { labelSelector: `${LABEL_ENABLED}=true` });
    sources.forEach(add);
    (await listAll(path, { labelSelector: `${LABEL_MIRROR}=true` })).forEach(add);
    const fromLinks = links.flatMap((l) =>
      l.sources.filter((s) =>
        s.kind === kind.kind && s.apiVersion === (kind.group ? `${kind.group}/${kind.version}` : kind.version)
      )
    );
    for (const name of new Set([...sources, ...fromLinks].map((s) => s.metadata?.name ?? ""))) {
      (await listAll(path, { fieldSelector: `metadata.name=${name}` })).forEach(add);
    }
  }
  return { namespaces, objects: [...objects.values()], errors, ...(connect ? { links } : {}) };
}

/**
 * The link Secrets in the controller's namespace and, through each, the upstream's labelled objects of
 * the same kinds. A link that cannot be read is planned as the controller would while it is down:
 * nothing, its mirrors kept; the reason is said.
 */
async function readLinks(
  api: KubeClient,
  kinds: readonly MirrorableKind[],
  namespace: string,
  clusterName: string | undefined,
  connect: (kubeconfig: string) => KubeClient,
  errors: string[],
): Promise<{ link: LinkScope; sources: KubeObject[]; unreadableKinds?: string[] }[]> {
  const secrets = await api.list(`/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`, {
    query: { labelSelector: `${LABEL_CLUSTER_LINK}=true` },
  });
  const out: { link: LinkScope; sources: KubeObject[]; unreadableKinds?: string[] }[] = [];
  for (const secret of secrets.items) {
    const parsed = parseLink(secret, clusterName ?? DEFAULT_CLUSTER_NAME);
    if (!parsed.ok) {
      errors.push(`link ${secret.metadata?.name}: ${parsed.errors.map((e) => e.message).join("; ")}`);
      continue;
    }
    const l = parsed.link;
    const scope = { cluster: l.cluster, allowedNamespaces: l.allowedNamespaces, up: true };
    const sources: KubeObject[] = [];
    const unreadableKinds: string[] = [];
    try {
      const upstream = connect(l.kubeconfig);
      for (const kind of kinds) {
        try {
          const listed = await upstream.list(resourcePath(kind), {
            query: { labelSelector: `${LABEL_ENABLED}=true` },
          });
          sources.push(...listed.items);
        } catch (e) {
          // 404: not served there; 403: not shared with this link's identity (its mirrors are kept).
          if (isStatus(e, 403)) unreadableKinds.push(groupKindKey(kind));
          else if (!isStatus(e, 404)) throw e;
        }
      }
    } catch (e) {
      errors.push(
        `link ${secret.metadata?.name} (cluster "${l.cluster}") cannot be read, its mirrors are kept: ${
          errorMessage(e)
        }`,
      );
      out.push({ link: { ...scope, up: false }, sources: [] });
      continue;
    }
    if (unreadableKinds.length > 0 && unreadableKinds.length === kinds.length) {
      errors.push(
        `link ${secret.metadata?.name} (cluster "${l.cluster}") may read no kind upstream: its mirrors are kept`,
      );
      out.push({ link: { ...scope, up: false }, sources: [] });
      continue;
    }
    out.push({ link: scope, sources, ...(unreadableKinds.length > 0 ? { unreadableKinds } : {}) });
  }
  return out;
}

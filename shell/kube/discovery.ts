/**
 * API discovery: reads the groups and resource lists from the API server and asks the core which kinds
 * are mirrorable. A group version that fails to answer (an unavailable aggregated API) is skipped and logged.
 *
 * @example
 * ```ts
 * import { discoverKinds } from "./discovery.ts";
 * import type { KubeClient } from "./client.ts";
 * import { createLogger } from "../runtime/log.ts";
 * declare const client: KubeClient;
 * const { kinds, errors } = await discoverKinds(client, undefined, createLogger("info"));
 * ```
 * @module
 */
import {
  type ApiGroupInfo,
  type ApiResourceList,
  type MirrorableKind,
  mirrorableKinds,
  type ResourceType,
} from "../../core/mirrorable.ts";
import type { KubeClient } from "./client.ts";
import { errorMessage, type Logger } from "../runtime/log.ts";

/** `/apis` as the API server sends it: the fields discovery reads. */
interface ApiGroupList {
  groups?: {
    name: string;
    versions?: { version: string }[];
    preferredVersion?: { version: string };
  }[];
}

/** Reads discovery and returns the mirrorable kinds. */
export async function discoverKinds(
  api: KubeClient,
  resourceTypes: readonly ResourceType[] | undefined,
  log: Logger,
): Promise<{ kinds: MirrorableKind[]; errors: string[] }> {
  const groupList = await api.get<ApiGroupList>("/apis");
  const groups: ApiGroupInfo[] = (groupList.groups ?? []).map((g) => ({
    name: g.name,
    versions: (g.versions ?? []).map((v) => v.version),
    preferredVersion: g.preferredVersion?.version,
  }));
  const wanted = resourceTypes
    ? new Set(resourceTypes.map((t) => t.group ? `${t.group}/${t.version}` : t.version))
    : undefined;
  const paths: { gv: string; path: string }[] = [{ gv: "v1", path: "/api/v1" }];
  for (const g of groups) {
    for (const v of g.versions) {
      // Only the preferred version is needed, unless a --resource-types item names another.
      const gv = `${g.name}/${v}`;
      if (wanted ? wanted.has(gv) : v === (g.preferredVersion ?? g.versions[0])) {
        paths.push({ gv, path: `/apis/${gv}` });
      }
    }
  }
  const lists: ApiResourceList[] = [];
  const results = await Promise.allSettled(
    paths.map((p) => api.get<{ resources?: ApiResourceList["resources"] }>(p.path)),
  );
  results.forEach((r, i) => {
    if (r.status === "fulfilled") {
      lists.push({ groupVersion: paths[i].gv, resources: r.value.resources ?? [] });
    } else {log.warn("discovery: group version unavailable", {
        groupVersion: paths[i].gv,
        error: errorMessage(r.reason),
      });}
  });
  return mirrorableKinds(groups, lists, resourceTypes);
}

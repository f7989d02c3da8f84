/**
 * What `kubectl mirror` reads, with the user's own rights: namespaces, the controller's flags (from its
 * Deployment, when readable), and per mirrorable kind the sources, the mirrors, the objects at the
 * sources' names and the controller's Warning Events. Each read that is refused falls back to the
 * namespaces the user named, and says so: a viewer of one namespace gets what that allows, never a stack
 * trace. Reads only.
 *
 * @example
 * ```ts
 * import { readView } from "./cluster_view.ts";
 * import type { KubeClient } from "../kube/client.ts";
 * declare const client: KubeClient;
 * const view = await readView(client, { namespaces: ["team-a"], allNamespaces: false }, []);
 * for (const note of view.notes) console.error(`warning: ${note}`);
 * ```
 * @module
 */
import { groupKindKey, rbacResource } from "../../core/group_kind.ts";
import { LABEL_ENABLED, LABEL_MIRROR } from "../../core/markers.ts";
import { MIRROR_VERBS, type MirrorableKind } from "../../core/mirrorable.ts";
import { type KubeObject, type NamespaceInfo, namespaceInfo } from "../../core/types.ts";
import { parsePlanFlags, type PlanFlags } from "../config/flags.ts";
import { ApiError, type KubeClient, resourcePath } from "../kube/client.ts";
import { discoverKinds } from "../kube/discovery.ts";
import { slimMirror } from "../kube/object_store.ts";
import { createLogger } from "../runtime/log.ts";

/** Where to read: everywhere, or the namespaces the user named. */
export interface ViewScope {
  /** The namespaces asked about (`-n`, `--to`, `into`): read there when cluster-wide reads are refused. */
  namespaces: string[];
  allNamespaces: boolean;
}

/** What was read. */
export interface ClusterView {
  namespaces: NamespaceInfo[];
  objects: KubeObject[];
  /** The controller's Warning Events. */
  events: KubeObject[];
  kinds: MirrorableKind[];
  /** The controller's flags as its Deployment runs it (when readable), then the user's. */
  flags: PlanFlags;
  /** Where the flags came from, for the user. */
  flagsFrom: string;
  /** Per kind (`group/Kind`), the write verbs the controller's ServiceAccount lacks, when that could be asked. */
  missingVerbs: Map<string, string[]>;
  /** What could not be read, in a few lines. */
  notes: string[];
  /** Namespaces where some kind could not be read at all: what is there is not fully known. */
  unreadable: Set<string>;
}

/** The label the chart puts on the controller's Deployment. */
const CONTROLLER_SELECTOR = "app.kubernetes.io/name=kubemirror";

const refused = (e: unknown) => e instanceof ApiError && (e.status === 401 || e.status === 403);

/**
 * Reads the view. `userFlags` are controller flags given on the command line: they go after the
 * Deployment's, so they win.
 */
export async function readView(api: KubeClient, scope: ViewScope, userFlags: string[]): Promise<ClusterView> {
  const notes: string[] = [];
  /** What may not be listed across namespaces, and what not even in a scoped namespace. */
  const notEverywhere = new Set<string>();
  const notThere = new Map<string, Set<string>>();
  /**
   * A list across all namespaces, or, when that is refused, in each scoped namespace; mirrors kept as the
   * controller caches them, never whole.
   */
  const listAll = async (path: (ns?: string) => string, query: Record<string, string>, what: string) => {
    try {
      return (await api.list(path(), { query, keep: slimMirror })).items;
    } catch (e) {
      if (!refused(e)) throw e;
      notEverywhere.add(what);
      const out: KubeObject[] = [];
      for (const ns of scope.namespaces) {
        try {
          out.push(...(await api.list(path(ns), { query, keep: slimMirror })).items);
        } catch (e2) {
          if (!refused(e2)) throw e2;
          notThere.set(ns, (notThere.get(ns) ?? new Set()).add(what));
        }
      }
      return out;
    }
  };

  let namespaces: NamespaceInfo[];
  try {
    namespaces = (await api.list("/api/v1/namespaces")).items.map(namespaceInfo);
  } catch (e) {
    if (!refused(e)) throw e;
    notes.push(
      `you may not list namespaces: their labels (opt-in, opt-out, selectors) are unknown, and only ` +
        `${scope.namespaces.join(", ") || "the namespaces named"} are taken to exist`,
    );
    namespaces = scope.namespaces.map((name) => ({ name, labels: {}, phase: "Active" }));
  }

  const { flags, from, serviceAccount } = await controllerFlags(api, userFlags, notes);
  const { kinds, errors } = await discoverKinds(
    api,
    flags.resourceTypes,
    createLogger("error", {}, () => {}),
  );
  for (const e of errors) notes.push(e);
  const objects = new Map<string, KubeObject>();
  const add = (o: KubeObject) =>
    objects.set(`${o.apiVersion}|${o.kind}|${o.metadata?.namespace}|${o.metadata?.name}`, o);
  for (const kind of kinds) {
    const path = (ns?: string) => resourcePath(kind, ns);
    const what = rbacResource(kind);
    const sources = await listAll(path, { labelSelector: `${LABEL_ENABLED}=true` }, what);
    sources.forEach(add);
    (await listAll(path, { labelSelector: `${LABEL_MIRROR}=true` }, what)).forEach(add);
    for (const name of new Set(sources.map((s) => s.metadata?.name ?? ""))) {
      (await listAll(path, { fieldSelector: `metadata.name=${name}` }, what)).forEach(add);
    }
  }
  // Asked only for the kinds that have sources: the answers name what blocks them.
  const withSources = kinds.filter((k) =>
    [...objects.values()].some((o) => o.kind === k.kind && o.metadata?.labels?.[LABEL_ENABLED] === "true")
  );
  const missingVerbs = serviceAccount
    ? await controllerRights(api, serviceAccount, withSources, notes)
    : new Map<string, string[]>();
  const events = await listAll(
    (ns) => ns ? `/api/v1/namespaces/${ns}/events` : "/api/v1/events",
    { fieldSelector: "type=Warning,source=kubemirror" },
    "events",
  );
  if (notEverywhere.size > 0) {
    const where = scope.namespaces.length > 0 ? `read in ${scope.namespaces.join(", ")} only` : "not read";
    notes.push(`you may not list ${[...notEverywhere].sort().join(", ")} in all namespaces: ${where}`);
  }
  for (const [ns, what] of notThere) {
    notes.push(`you may not list ${[...what].sort().join(", ")} in ${ns}: what is there is unknown`);
  }
  return {
    namespaces,
    objects: [...objects.values()],
    events,
    kinds,
    flags,
    flagsFrom: from,
    missingVerbs,
    notes,
    unreadable: new Set(notThere.keys()),
  };
}

/** The controller's flags from its Deployment's container args when readable, then the user's. */
async function controllerFlags(
  api: KubeClient,
  userFlags: string[],
  notes: string[],
): Promise<{ flags: PlanFlags; from: string; serviceAccount?: string }> {
  let args: string[] = [];
  let from = "the controller's defaults";
  let serviceAccount: string | undefined;
  try {
    const deployments =
      (await api.list("/apis/apps/v1/deployments", { query: { labelSelector: CONTROLLER_SELECTOR } }))
        .items as {
          metadata?: { namespace?: string; name?: string };
          spec?: {
            template?: { spec?: { serviceAccountName?: string; containers?: { args?: string[] }[] } };
          };
        }[];
    if (deployments.length === 1) {
      args = deployments[0].spec?.template?.spec?.containers?.[0]?.args ?? [];
      from = `the Deployment ${deployments[0].metadata?.namespace}/${deployments[0].metadata?.name}`;
      const sa = deployments[0].spec?.template?.spec?.serviceAccountName ?? "default";
      serviceAccount = `system:serviceaccount:${deployments[0].metadata?.namespace}:${sa}`;
    } else if (deployments.length > 1) {
      notes.push(`${deployments.length} kubemirror Deployments found: the controller's defaults are used`);
    }
  } catch (e) {
    if (!refused(e)) throw e;
    notes.push("you may not read the controller's Deployment: its default flags are used");
  }
  const parsed = parsePlanFlags([
    ...args.filter((a) => !/^-(f|o)$|^--(filename|output)\b/.test(a)),
    ...userFlags,
  ]);
  if (!parsed.ok) throw new Error(parsed.error);
  if (userFlags.length > 0) from += " and the flags given";
  return { flags: parsed.flags, from, serviceAccount };
}

/**
 * What the controller's ServiceAccount may not do with each kind, asked of the API server
 * (SubjectAccessReview); an empty map, with a note, when the user may not ask.
 */
async function controllerRights(
  api: KubeClient,
  user: string,
  kinds: readonly MirrorableKind[],
  notes: string[],
): Promise<Map<string, string[]>> {
  const namespace = user.split(":")[2];
  const groups = ["system:serviceaccounts", `system:serviceaccounts:${namespace}`, "system:authenticated"];
  const may = async (kind: MirrorableKind, verb: string) => {
    const review = await api.request<{ status?: { allowed?: boolean } }>(
      "POST",
      "/apis/authorization.k8s.io/v1/subjectaccessreviews",
      {
        body: {
          apiVersion: "authorization.k8s.io/v1",
          kind: "SubjectAccessReview",
          spec: { user, groups, resourceAttributes: { group: kind.group, resource: kind.plural, verb } },
        },
      },
    );
    return review.status?.allowed === true;
  };
  const out = new Map<string, string[]>();
  try {
    for (const kind of kinds) {
      const answers = await Promise.all(MIRROR_VERBS.map((v) => may(kind, v)));
      const lacks = MIRROR_VERBS.filter((_, i) => !answers[i]);
      if (lacks.length > 0) out.set(groupKindKey(kind), lacks);
    }
  } catch (e) {
    if (!refused(e)) throw e;
    notes.push(
      "you may not ask what the controller's ServiceAccount may do: kinds it may not write are not shown",
    );
    return new Map();
  }
  return out;
}

/**
 * `kubemirror plan`: prints what the controller would do, writing nothing (docs/CONTRACT.md §7).
 * With `-f` it reads manifests and contacts no cluster; without, it reads the live cluster through the
 * reader it is given.
 *
 * @example
 * ```ts
 * import { runPlan } from "./plan_command.ts";
 * const code = await runPlan(["-f", "examples/", "-o", "table"], { write: (s) => console.log(s) });
 * ```
 * @module
 */
import { errorMessage } from "../../core/errors.ts";
import { KNOWN_CLUSTER_SCOPED, manifestKindPolicy } from "../../core/mirrorable.ts";
import { planAll, type PlanDocument } from "../../core/plan_all.ts";
import { rfc3339 } from "../../core/time.ts";
import { groupOf, type KubeObject, type NamespaceInfo, namespaceInfo } from "../../core/types.ts";
import { parsePlanFlags, type PlanFlags, wantsHelp } from "../config/flags.ts";
import type { ClusterState } from "./cluster_reader.ts";
import { loadManifests } from "./manifests.ts";
import { formatPlan } from "./plan_output.ts";

/** Where the command writes, and how it reads a live cluster when no `-f` is given. */
export interface PlanIo {
  write(text: string): void;
  writeError?(text: string): void;
  /** Reads the live cluster: namespaces, and every object of every mirrorable kind that could matter. */
  readCluster?(flags: PlanFlags): Promise<ClusterState>;
  /** Monotonic milliseconds, for the transform time limit. */
  clock?: () => number;
  /** Wall-clock time, RFC 3339. */
  now?: () => string;
}

/** Usage text for `kubemirror plan`. */
export const PLAN_USAGE = `Usage: kubemirror plan [-f PATH]... [-o json|yaml|table] [controller flags]

Prints what the controller would do, writing nothing.
  -f, --filename PATH   manifests to read (files or folders; YAML, JSON, kind: List); no cluster is contacted.
                        Without -f the live cluster is read through the kubeconfig.
  -o, --output FORMAT   json (default), yaml or table
Controller flags that shape the plan (--excluded-namespaces, --max-targets, --resource-types, ...) apply too.
Exit code: 0 when every source is valid, 1 when any source has an error, 2 on bad usage.
`;

/** Splits file objects into namespaces and the rest; every namespace an object lives in exists. */
export function namespacesFromObjects(objects: readonly KubeObject[]): {
  namespaces: NamespaceInfo[];
  objects: KubeObject[];
} {
  const namespaces = new Map<string, NamespaceInfo>();
  const rest: KubeObject[] = [];
  for (const o of objects) {
    if (o.kind === "Namespace" && o.apiVersion === "v1") {
      const info = namespaceInfo(o);
      namespaces.set(info.name, info);
    } else {
      const scoped = KNOWN_CLUSTER_SCOPED.has(`${groupOf(o.apiVersion ?? "")}/${o.kind}`);
      const copy = scoped || o.metadata?.namespace
        ? o
        : { ...o, metadata: { ...(o.metadata ?? {}), namespace: "default" } };
      rest.push(copy);
    }
  }
  for (const o of rest) {
    const ns = o.metadata?.namespace;
    if (ns && !namespaces.has(ns)) namespaces.set(ns, { name: ns, labels: {}, phase: "Active" });
  }
  return { namespaces: [...namespaces.values()], objects: rest };
}

/** Runs the command; returns the exit code. */
export async function runPlan(argv: readonly string[], io: PlanIo): Promise<number> {
  const err = io.writeError ?? io.write;
  if (wantsHelp(argv)) {
    io.write(PLAN_USAGE);
    return 0;
  }
  const parsed = parsePlanFlags(argv);
  if (!parsed.ok) {
    err(`kubemirror plan: ${parsed.error}\n\n${PLAN_USAGE}`);
    return 2;
  }
  const flags = parsed.flags;
  if (flags.positionals.length > 0) {
    err(`kubemirror plan: unexpected argument(s) ${flags.positionals.join(" ")}\n\n${PLAN_USAGE}`);
    return 2;
  }
  let objects: KubeObject[];
  let namespaces: NamespaceInfo[];
  let readErrors: string[];
  let links: ClusterState["links"];
  if (flags.files.length > 0) {
    try {
      const loaded = await loadManifests(flags.files);
      ({ namespaces, objects } = namespacesFromObjects(loaded.objects));
      readErrors = loaded.errors;
    } catch (e) {
      err(`kubemirror plan: ${errorMessage(e)}\n`);
      return 2;
    }
  } else if (io.readCluster) {
    try {
      ({ namespaces, objects, errors: readErrors, links } = await io.readCluster(flags));
    } catch (e) {
      err(`kubemirror plan: cannot read the cluster: ${errorMessage(e)}\n`);
      return 2;
    }
  } else {
    err(`kubemirror plan: no -f given and no cluster to read\n\n${PLAN_USAGE}`);
    return 2;
  }
  const doc: PlanDocument = planAll({
    objects,
    namespaces,
    config: flags.config,
    time: {
      now: io.now ? io.now() : rfc3339(Date.now()),
      clock: io.clock ?? (() => performance.now()),
    },
    kindPolicy: manifestKindPolicy(objects, flags.resourceTypes),
    ...(links ? { links } : {}),
  });
  io.write(formatPlan(doc, flags.output));
  for (const e of readErrors) err(`kubemirror plan: ${e}\n`);
  return doc.errors.length > 0 || readErrors.length > 0 ? 1 : 0;
}

/**
 * `kubectl mirror`: what is mirrored where, and why not, answered from the same plan the controller acts
 * on, read with the user's own kubeconfig and rights. Never writes.
 *
 * - `kubectl mirror status [-n NS | -A] [KIND/NAME]`: one row per source and pulling object.
 * - `kubectl mirror why KIND/NAME [-n NS] --to NAMESPACE`: one paragraph; exit 0 when mirrored, 1 when not.
 * - `kubectl mirror into NAMESPACE`: what that namespace receives, from which sources, and what it refused.
 * - `kubectl mirror plan ...`: `kubemirror plan`.
 *
 * @example
 * ```ts
 * import { runKubectlMirror } from "./kubectl_mirror.ts";
 * import assert from "node:assert/strict";
 * let out = "";
 * const code = await runKubectlMirror(["--help"], { write: (s) => (out += s), writeError: () => {} });
 * assert.equal(code, 0);
 * assert.match(out, /kubectl mirror why/);
 * ```
 * @module
 */
import { stringify as toYaml } from "yaml";
import { errorMessage } from "../../core/errors.ts";
import { explainTarget, summarize } from "../../core/explain.ts";
import { groupKindKey, kindLabel, rbacResource } from "../../core/group_kind.ts";
import { ANNOTATION_LAST_SYNC_TIME } from "../../core/markers.ts";
import { planAll } from "../../core/plan_all.ts";
import type { SourcePlan } from "../../core/plan.ts";
import { manifestKindPolicy } from "../../core/mirrorable.ts";
import { isPullingObject } from "../../core/pull.ts";
import { isEnabledSource } from "../../core/source_spec.ts";
import { rfc3339 } from "../../core/time.ts";
import type { KubeObject } from "../../core/types.ts";
import { FLAG_NAMES, isBooleanFlag } from "../config/flags.ts";
import type { KubeClient } from "../kube/client.ts";
import { type ClusterView, readView } from "./cluster_view.ts";
import { formatTable } from "./table.ts";

/** Where the command writes, and how it reaches the cluster. */
export interface KubectlMirrorIo {
  write(text: string): void;
  writeError(text: string): void;
  /** The client for `--kubeconfig`/`--context`, and the context's namespace. */
  connect?(options: { kubeconfig?: string; context?: string }): { client: KubeClient; namespace: string };
  /** Runs `kubemirror plan` with these arguments. */
  plan?(argv: string[]): Promise<number>;
  /** Colour only on a terminal, and never with NO_COLOR. */
  color?: boolean;
  /** Wall-clock milliseconds (ages). */
  now?: () => number;
}

const USAGE =
  `kubectl mirror: what KubeMirror mirrors where, and why not. Reads with your kubeconfig; never writes.

Usage:
  kubectl mirror status [-n NAMESPACE | -A] [KIND/NAME] [-o table|wide|json|yaml] [--no-headers]
  kubectl mirror why KIND/NAME [-n NAMESPACE] --to NAMESPACE [-o table|json|yaml]
  kubectl mirror into NAMESPACE [-o table|wide|json|yaml] [--no-headers]
  kubectl mirror plan [-f PATH]... [-o json|yaml|table]

Examples:
  # Every source and pulling object in all namespaces, and how its mirrors stand
  kubectl mirror status -A
  # Why is the Secret registry of platform not in team-b?
  kubectl mirror why secret/registry -n platform --to team-b
  # What team-b receives, and what it refused
  kubectl mirror into team-b

Options:
  -n, --namespace NAME   the namespace (default: the context's)
  -A, --all-namespaces   every namespace (status)
      --to NAME          the target namespace (why)
  -o, --output FORMAT    table (default), wide, json or yaml
      --no-headers       no header row in tables
      --context NAME     the kubeconfig context to use
      --kubeconfig PATH  the kubeconfig to use
  The controller's flags (${
    FLAG_NAMES.filter((f) => /namespaces|max-targets|resource-types|opt-in|strip|transform/.test(f)).map((
      f,
    ) => `--${f}`)
      .join(", ")
  }) are read from its Deployment when you may, and may be given here too.
Exit codes: 0 done (why: mirrored), 1 not mirrored or an error, 2 bad usage.
`;

/** The parsed command line. */
interface Command {
  verb: "status" | "why" | "into";
  target?: string;
  namespace?: string;
  all: boolean;
  to?: string;
  output: "table" | "wide" | "json" | "yaml";
  noHeaders: boolean;
  context?: string;
  kubeconfig?: string;
  controllerFlags: string[];
}

class UsageError extends Error {}

/** Runs `kubectl mirror`; returns the exit code. */
export async function runKubectlMirror(argv: readonly string[], io: KubectlMirrorIo): Promise<number> {
  const [verb, ...rest] = argv;
  if (verb === undefined || verb === "help" || verb === "-h" || verb === "--help") {
    io.write(USAGE);
    return verb === undefined ? 2 : 0;
  }
  if (rest.some((a) => a === "-h" || a === "--help")) {
    io.write(USAGE);
    return 0;
  }
  if (verb === "plan") return io.plan ? await io.plan(rest) : 2;
  let cmd: Command;
  try {
    cmd = parse(verb, rest);
  } catch (e) {
    io.writeError(`error: ${errorMessage(e)}\nSee 'kubectl mirror --help' for usage.\n`);
    return 2;
  }
  if (!io.connect) {
    io.writeError("error: no cluster to read\n");
    return 1;
  }
  try {
    const { client, namespace: contextNamespace } = io.connect({
      kubeconfig: cmd.kubeconfig,
      context: cmd.context,
    });
    const namespace = cmd.namespace ?? contextNamespace;
    const scope = [cmd.verb === "into" ? cmd.target! : namespace, ...(cmd.to ? [cmd.to] : [])];
    const view = await readView(client, { namespaces: scope, allNamespaces: cmd.all }, cmd.controllerFlags);
    for (const note of view.notes) io.writeError(`warning: ${note}\n`);
    const plans = planView(view, io.now ?? Date.now);
    if (cmd.verb === "why") return why(cmd, namespace, view, plans, io);
    if (cmd.verb === "into") return into(cmd, plans, io);
    return status(cmd, namespace, view, plans, io);
  } catch (e) {
    io.writeError(`error: ${errorMessage(e)}\n`);
    return 1;
  }
}

function parse(verb: string, args: string[]): Command {
  if (verb !== "status" && verb !== "why" && verb !== "into") {
    throw new UsageError(`unknown command "${verb}" for "kubectl mirror"`);
  }
  const cmd: Command = { verb, all: false, output: "table", noHeaders: false, controllerFlags: [] };
  const positionals: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const eq = arg.indexOf("=");
    const name = arg.startsWith("-") && eq > 0 ? arg.slice(0, eq) : arg;
    const value = () => {
      if (arg.startsWith("-") && eq > 0) return arg.slice(eq + 1);
      if (i + 1 >= args.length) throw new UsageError(`flag needs an argument: ${arg}`);
      return args[++i];
    };
    switch (name) {
      case "-n":
      case "--namespace":
        cmd.namespace = value();
        break;
      case "-A":
      case "--all-namespaces":
        cmd.all = true;
        break;
      case "--to":
        cmd.to = value();
        break;
      case "-o":
      case "--output": {
        const o = value();
        if (!["table", "wide", "json", "yaml"].includes(o)) {
          throw new UsageError(`unable to match a printer suitable for the output format "${o}"`);
        }
        cmd.output = o as Command["output"];
        break;
      }
      case "--no-headers":
        cmd.noHeaders = true;
        break;
      case "--context":
        cmd.context = value();
        break;
      case "--kubeconfig":
        cmd.kubeconfig = value();
        break;
      default:
        if (arg.startsWith("--") && FLAG_NAMES.includes(name.slice(2))) {
          cmd.controllerFlags.push(eq > 0 || isBooleanFlag(name.slice(2)) ? arg : `${arg}=${value()}`);
        } else if (arg.startsWith("-")) throw new UsageError(`unknown flag: ${arg}`);
        else positionals.push(arg);
    }
  }
  if (cmd.verb === "why") {
    if (positionals.length !== 1) throw new UsageError("why takes one KIND/NAME");
    if (!cmd.to) throw new UsageError("why needs --to NAMESPACE: the namespace to explain");
  }
  if (cmd.verb === "into" && positionals.length !== 1) throw new UsageError("into takes one NAMESPACE");
  if (cmd.verb === "status" && positionals.length > 1) {
    throw new UsageError("status takes at most one KIND/NAME");
  }
  if (cmd.all && cmd.namespace) throw new UsageError("-A and -n cannot be used together");
  cmd.target = positionals[0];
  return cmd;
}

/** Every key's plan in the view, with its source. */
interface KeyPlan {
  plan: SourcePlan;
  source?: KubeObject;
  lastSync?: string;
}

function planView(view: ClusterView, now: () => number): KeyPlan[] {
  const doc = planAll({
    objects: view.objects,
    namespaces: view.namespaces,
    config: view.flags.config,
    time: { now: rfc3339(now()) },
    kindPolicy: manifestKindPolicy(view.objects, view.flags.resourceTypes),
    missingRights: (gk) => {
      const verbs = view.missingVerbs.get(groupKindKey(gk));
      const kind = view.kinds.find((k) => k.group === gk.group && k.kind === gk.kind);
      return verbs && kind
        ? {
          verbs,
          resource: rbacResource(kind),
        }
        : undefined;
    },
  });
  // planAll flattens; regroup by key (the key's object is the source, or the pulling object).
  const byKey = new Map<string, KeyPlan>();
  const keyOf = (s: { kind: string; namespace: string; name: string }) =>
    `${s.kind}|${s.namespace}|${s.name}`;
  const keyObject = (k: string) =>
    view.objects.find((o) =>
      keyOf({ kind: o.kind ?? "", namespace: o.metadata?.namespace ?? "", name: o.metadata?.name ?? "" }) ===
        k
    );
  const entry = (ref: { apiVersion: string; kind: string; namespace: string; name: string }) => {
    const k = keyOf(ref);
    let e = byKey.get(k);
    if (!e) {
      const source = keyObject(k);
      e = { plan: { source: ref, actions: [], errors: [], warnings: [] }, source };
      byKey.set(k, e);
    }
    return e;
  };
  for (const a of doc.actions) {
    const e = entry(
      a.direction === "pull" ? { ...a.source, namespace: a.target.namespace, name: a.target.name } : a.source,
    );
    e.plan.actions.push(a);
    if (a.direction) e.plan.direction = "pull";
  }
  for (const err of doc.errors) entry(err.source).plan.errors.push(err);
  for (const w of doc.warnings) entry(w.source).plan.warnings.push(w);
  for (const o of view.objects) {
    if (isEnabledSource(o) || isPullingObject(o)) {
      entry({
        apiVersion: o.apiVersion ?? "",
        kind: o.kind ?? "",
        namespace: o.metadata?.namespace ?? "",
        name: o.metadata?.name ?? "",
      });
    }
  }
  for (const e of byKey.values()) {
    const stamps = view.objects
      .filter((o) =>
        e.plan.actions.some((a) =>
          a.target.namespace === o.metadata?.namespace && a.target.name === o.metadata?.name &&
          o.kind === e.plan.source.kind
        )
      )
      .map((o) => o.metadata?.annotations?.[ANNOTATION_LAST_SYNC_TIME])
      .filter((t): t is string => t !== undefined)
      .sort();
    e.lastSync = stamps.at(-1);
  }
  return [...byKey.values()].sort((a, b) =>
    `${a.plan.source.namespace}/${a.plan.source.name}/${a.plan.source.kind}` <
        `${b.plan.source.namespace}/${b.plan.source.name}/${b.plan.source.kind}`
      ? -1
      : 1
  );
}

const kindOf = (s: { apiVersion: string; kind: string }) =>
  kindLabel({ group: s.apiVersion.includes("/") ? s.apiVersion.split("/")[0] : "", kind: s.kind });

/** `secret/registry`, `Secret/registry`, `secrets/registry`, `middleware.traefik.io/x` against a key. */
function matches(target: string, plan: SourcePlan): boolean {
  const slash = target.indexOf("/");
  if (slash < 0) return false;
  const kind = target.slice(0, slash).toLowerCase();
  const name = target.slice(slash + 1);
  const label = kindOf(plan.source).toLowerCase();
  const bare = plan.source.kind.toLowerCase();
  return name === plan.source.name && [label, bare, `${bare}s`, `${bare}es`].includes(kind);
}

function lastWarning(view: ClusterView, k: KeyPlan): KubeObject | undefined {
  return view.events
    .filter((e) => {
      const o = e.involvedObject as { kind?: string; namespace?: string; name?: string } | undefined;
      return o?.kind === k.plan.source.kind && o?.namespace === k.plan.source.namespace &&
        o?.name === k.plan.source.name;
    })
    .sort((a, b) => String(a.lastTimestamp ?? "") < String(b.lastTimestamp ?? "") ? -1 : 1)
    .at(-1);
}

function age(stamp: string | undefined, now: number): string {
  if (!stamp) return "<none>";
  const s = Math.max(0, Math.round((now - Date.parse(stamp)) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.round(s / 60)}m`;
  if (s < 172800) return `${Math.round(s / 3600)}h`;
  return `${Math.round(s / 86400)}d`;
}

function print(
  io: KubectlMirrorIo,
  cmd: Command,
  rows: Record<string, unknown>[],
  columns: string[],
  wide: string[],
) {
  if (cmd.output === "json") return io.write(JSON.stringify({ items: rows }, null, 2) + "\n");
  if (cmd.output === "yaml") return io.write(toYaml({ items: rows }));
  const cols = cmd.output === "wide" ? [...columns, ...wide] : columns;
  io.write(
    formatTable(cols, rows.map((r) => cols.map((c) => String(r[c] ?? ""))), {
      noHeaders: cmd.noHeaders,
      color: io.color,
    }),
  );
}

function status(
  cmd: Command,
  namespace: string,
  view: ClusterView,
  plans: KeyPlan[],
  io: KubectlMirrorIo,
): number {
  const now = (io.now ?? Date.now)();
  const chosen = plans.filter((k) =>
    (k.source !== undefined) && (cmd.all || k.plan.source.namespace === namespace) &&
    (!cmd.target || matches(cmd.target, k.plan))
  );
  if (cmd.target && chosen.length === 0) {
    io.writeError(`error: no source or pulling object ${cmd.target} in namespace ${namespace}\n`);
    return 1;
  }
  const rows = chosen.map((k) => {
    const s = summarize(k.plan);
    const warning = lastWarning(view, k);
    return {
      KIND: kindOf(k.plan.source),
      NAMESPACE: k.plan.source.namespace,
      NAME: k.plan.source.name,
      DIRECTION: k.plan.direction ?? "push",
      TARGETS: s.targets,
      "IN-SYNC": s.inSync,
      CREATE: s.toCreate,
      UPDATE: s.toUpdate,
      CONFLICTS: s.conflicts,
      CUT: s.cut,
      ERRORS: s.errors,
      "LAST-ERROR": warning
        ? `${warning.reason}`
        : k.plan.errors[0]?.reason ?? (k.plan.errors.length > 0 ? "Error" : "<none>"),
      MESSAGE: warning ? String(warning.message) : k.plan.errors[0]?.message ?? "",
      "LAST-SYNC": age(k.lastSync, now),
    };
  });
  if (rows.length === 0 && cmd.output !== "json" && cmd.output !== "yaml") {
    io.writeError(cmd.all ? "No sources found.\n" : `No sources found in ${namespace} namespace.\n`);
    return 0;
  }
  const base = [
    "KIND",
    "NAME",
    "DIRECTION",
    "TARGETS",
    "IN-SYNC",
    "CREATE",
    "UPDATE",
    "CONFLICTS",
    "CUT",
    "LAST-ERROR",
    "LAST-SYNC",
  ];
  print(io, cmd, rows, cmd.all ? ["NAMESPACE", ...base] : base, ["ERRORS", "MESSAGE"]);
  return 0;
}

function why(
  cmd: Command,
  namespace: string,
  view: ClusterView,
  plans: KeyPlan[],
  io: KubectlMirrorIo,
): number {
  const k = plans.find((p) => p.plan.source.namespace === namespace && matches(cmd.target!, p.plan));
  if (!k || !k.source) {
    io.writeError(
      `error: ${cmd.target} in namespace ${namespace} is not a source KubeMirror can see (is it labelled kubemirror.raczylo.com/enabled=true, and may you read it?)\n`,
    );
    return 1;
  }
  const to = cmd.to!;
  const answer = k.plan.direction === "pull"
    ? explainTarget({ plan: { ...k.plan, errors: [] }, source: k.source, namespace: to })
    : explainTarget({ plan: k.plan, source: k.source, namespace: to });
  if (!view.namespaces.some((n) => n.name === to) && answer.state === "not-a-target") {
    answer.text += ` (namespace ${to} does not exist, or you may not see it.)`;
  }
  if (view.unreadable.has(to)) {
    answer.text += ` Note: you may not read everything in ${to}, so an object already there (a conflict) ` +
      `would not show here.`;
  }
  if (cmd.output === "json" || cmd.output === "yaml") {
    const doc = { source: k.plan.source, namespace: to, ...answer, controllerFlagsFrom: view.flagsFrom };
    io.write(cmd.output === "json" ? JSON.stringify(doc, null, 2) + "\n" : toYaml(doc));
  } else io.write(`${answer.text}\n`);
  return answer.mirrored ? 0 : 1;
}

function into(cmd: Command, plans: KeyPlan[], io: KubectlMirrorIo): number {
  const ns = cmd.target!;
  const rows: Record<string, unknown>[] = [];
  for (const k of plans) {
    for (const a of k.plan.actions) {
      if (a.target.namespace !== ns) continue;
      const answer = explainTarget({ plan: { ...k.plan, errors: [] }, source: k.source, namespace: ns });
      rows.push({
        KIND: kindOf(a.source),
        NAME: a.target.name,
        FROM: `${a.source.namespace}/${a.source.name}`,
        DIRECTION: a.direction ?? "push",
        STATE: answer.state,
        REASON: a.reason ?? "",
      });
    }
  }
  if (rows.length === 0 && cmd.output !== "json" && cmd.output !== "yaml") {
    io.writeError(`Nothing is mirrored into ${ns}, and no source names it.\n`);
    return 0;
  }
  print(io, cmd, rows, ["KIND", "NAME", "FROM", "DIRECTION", "STATE"], ["REASON"]);
  return 0;
}

/**
 * `kubectl mirror`'s answers, read off the plan of every key in the view: `status` rows, the `why`
 * paragraph, the `into` rows, printed as kubectl prints (tables, wide, JSON, YAML).
 *
 * @example
 * ```ts
 * import { planView } from "./answers.ts";
 * import type { ClusterView } from "./cluster_view.ts";
 * declare const view: ClusterView;
 * const keys = planView(view, Date.now); // one plan per source and pulling object
 * ```
 * @module
 */
import { stringify as toYaml } from "yaml";
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
import type { ClusterView } from "./cluster_view.ts";
import { formatTable } from "./table.ts";
import type { Command } from "./command_line.ts";

/** Where answers are written. */
export interface AnswerIo {
  write(text: string): void;
  writeError(text: string): void;
  /** Colour only on a terminal, and never with NO_COLOR. */
  color?: boolean;
  /** Wall-clock milliseconds (ages). */
  now?: () => number;
}

/** Every key's plan in the view, with its source. */
export interface KeyPlan {
  plan: SourcePlan;
  source?: KubeObject;
  lastSync?: string;
}

export function planView(view: ClusterView, now: () => number): KeyPlan[] {
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
  io: AnswerIo,
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

/** `kubectl mirror status`: one row per source and pulling object in the namespace (or all). */
export function status(
  cmd: Command,
  namespace: string,
  view: ClusterView,
  plans: KeyPlan[],
  io: AnswerIo,
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

/** `kubectl mirror why`: one paragraph; 0 when the namespace holds the copy to stay, 1 when not. */
export function why(
  cmd: Command,
  namespace: string,
  view: ClusterView,
  plans: KeyPlan[],
  io: AnswerIo,
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

/** `kubectl mirror into`: what a namespace receives, from which sources, and what it refused. */
export function into(cmd: Command, plans: KeyPlan[], io: AnswerIo): number {
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

/**
 * Names the shell shares: queue keys (`group/Kind/namespace/name`), how a kind is spelt in logs, RBAC and
 * metric labels, the mirror cache's indexes, and what to tell an operator about a kind it may not serve.
 *
 * @example
 * ```ts
 * import { parseKey, sourceKey } from "./names.ts";
 * parseKey(sourceKey("apps/Deployment", "default", "web")); // { gk: "apps/Deployment", namespace: "default", name: "web" }
 * ```
 * @module
 */
import type { MirrorableKind } from "../../core/mirrorable.ts";

/** Mirror cache indexes: by object name, by the source the markers name, by namespace. */
export const BY_NAME = "name";
export const BY_SOURCE = "source";
export const BY_NAMESPACE = "namespace";

/** A queue key: `group/Kind/namespace/name`. */
export function sourceKey(gk: string, namespace: string, name: string): string {
  return `${gk}/${namespace}/${name}`;
}

/** The parts of a queue key. */
export function parseKey(key: string): { gk: string; namespace: string; name: string } {
  const parts = key.split("/");
  const name = parts.pop()!;
  const namespace = parts.pop()!;
  return { gk: parts.join("/"), namespace, name };
}

/** `Kind.version[.group]`, as `--resource-types` spells it. */
export function kindLabel(k: MirrorableKind): string {
  return `${k.kind}.${k.version}${k.group ? "." + k.group : ""}`;
}

/** `plural[.group]`, as RBAC names a resource. */
export function resourceName(k: MirrorableKind): string {
  return k.group ? `${k.plural}.${k.group}` : k.plural;
}

/** The `controller` label of metrics: the kind, lower case. */
export function controllerLabel(k: MirrorableKind): string {
  return (k.group ? `${k.kind}.${k.group}` : k.kind).toLowerCase();
}

/** What to do about a kind the controller may not serve. */
export const RBAC_HINT =
  "grant the verbs get, list, watch, create, update, patch and delete on it in a ClusterRole " +
  'labelled kubemirror.raczylo.com/aggregate-to-controller: "true" (see examples/rbac-custom-kind.yaml); ' +
  "it is picked up at the next discovery";

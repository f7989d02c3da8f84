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
import { errorMessage } from "../../core/errors.ts";
import type { KubeClient } from "../kube/client.ts";
import { type AnswerIo, into, planView, status, why } from "./answers.ts";
import { readView } from "./cluster_view.ts";
import { type Command, parseCommand, USAGE } from "./command_line.ts";

/** Where the command writes, and how it reaches the cluster. */
export interface KubectlMirrorIo extends AnswerIo {
  /** The client for `--kubeconfig`/`--context`, and the context's namespace. */
  connect?(options: { kubeconfig?: string; context?: string }): { client: KubeClient; namespace: string };
  /** Runs `kubemirror plan` with these arguments. */
  plan?(argv: string[]): Promise<number>;
}

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
    cmd = parseCommand(verb, rest);
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

/**
 * `kubectl mirror`'s command line, as kubectl reads its own: the verb, `-n`, `-A`, `--to`, `-o`,
 * `--no-headers`, `--context`, `--kubeconfig`, and the controller's flags passed on to the plan.
 *
 * @example
 * ```ts
 * import { parseCommand } from "./command_line.ts";
 * import assert from "node:assert/strict";
 * const cmd = parseCommand("why", ["secret/registry", "-n", "platform", "--to", "team-b", "--require-namespace-opt-in"]);
 * assert.equal(cmd.to, "team-b");
 * assert.deepEqual(cmd.controllerFlags, ["--require-namespace-opt-in"]);
 * assert.throws(() => parseCommand("why", ["secret/registry"]), /--to NAMESPACE/);
 * ```
 * @module
 */
import { FLAG_NAMES, isBooleanFlag } from "../config/flags.ts";

/** Usage, with examples. */
export const USAGE =
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
export interface Command {
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

/** Bad usage: exit code 2. */
export class UsageError extends Error {}

/** Parses the arguments after the verb. */
export function parseCommand(verb: string, args: string[]): Command {
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

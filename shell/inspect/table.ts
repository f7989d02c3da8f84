/**
 * Tables as `kubectl get` prints them: upper-case headers, columns aligned with three spaces, no trailing
 * blanks; colour only when asked for (a terminal without NO_COLOR), on the state words alone.
 *
 * @example
 * ```ts
 * import { formatTable } from "./table.ts";
 * import assert from "node:assert/strict";
 * const text = formatTable(["NAME", "STATE"], [["registry", "in-sync"], ["tls", "conflict"]]);
 * assert.equal(text, "NAME       STATE\nregistry   in-sync\ntls        conflict\n");
 * ```
 * @module
 */

const COLORS: Record<string, string> = {
  "in-sync": "\x1b[32m",
  "to-create": "\x1b[33m",
  differs: "\x1b[33m",
  "to-delete": "\x1b[33m",
  conflict: "\x1b[31m",
  refused: "\x1b[31m",
  invalid: "\x1b[31m",
};
const RESET = "\x1b[0m";

/** Whether to colour: only on a terminal, and never when `NO_COLOR` is set to anything but empty. */
export function useColor(isTerminal: boolean, noColor: string | undefined): boolean {
  return isTerminal && (noColor === undefined || noColor === "");
}

/** Formats rows under headers; `noHeaders` drops the header row. */
export function formatTable(
  headers: readonly string[],
  rows: readonly (readonly string[])[],
  options: { noHeaders?: boolean; color?: boolean } = {},
): string {
  const all = options.noHeaders ? rows : [headers, ...rows];
  if (all.length === 0) return "";
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) =>
    r.map((cell, i) => {
      const padded = i === r.length - 1 ? cell : cell.padEnd(widths[i]);
      const color = options.color ? COLORS[cell] : undefined;
      return color ? padded.replace(cell, `${color}${cell}${RESET}`) : padded;
    }).join("   ").trimEnd()
  ).join("\n") + "\n";
}

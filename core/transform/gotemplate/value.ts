/**
 * Values as Go's `text/template` sees them, so that templates in the earlier implementation's Go
 * spelling print, compare and test truth exactly as Go does: `undefined` is Go's invalid value (a
 * missing map key, printed `<no value>`), `null` is nil, a JS number is an int, {@link GoFloat} a
 * float64, plain objects are `map[string]string`, and {@link GoStruct} is the template's data.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatValue, isTrue } from "./value.ts";
 * assert.deepEqual(formatValue({ b: "2", a: "1" }), "map[a:1 b:2]");
 * assert.equal(isTrue(""), false);
 * ```
 * @module
 */

/** A float64 (an int is a plain JS number). */
export class GoFloat {
  constructor(readonly value: number) {}
}

/** A Go struct: the template's data. Its fields print in declaration order. */
export class GoStruct {
  constructor(readonly typeName: string, readonly fields: Readonly<Record<string, GoValue>>) {}
}

/** Any value a template computes. */
export type GoValue =
  | string
  | number
  | boolean
  | GoFloat
  | GoStruct
  | null
  | undefined
  | GoValue[]
  | { [key: string]: GoValue };

/** Whether a value is a Go map (a plain object). */
export function isMap(v: GoValue): v is { [key: string]: GoValue } {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof GoFloat) &&
    !(v instanceof GoStruct);
}

/** The Go type name of a value, for error messages. */
export function goTypeName(v: GoValue): string {
  if (v === undefined) return "invalid value";
  if (v === null) return "nil";
  if (typeof v === "string") return "string";
  if (typeof v === "number") return "int";
  if (typeof v === "boolean") return "bool";
  if (v instanceof GoFloat) return "float64";
  if (v instanceof GoStruct) return v.typeName;
  if (Array.isArray(v)) return "[]interface {}";
  return "map[string]string";
}

/** Go's truth: false, 0, nil, no value and empty strings, maps and lists are false; structs are true. */
export function isTrue(v: GoValue): boolean {
  if (v === undefined || v === null) return false;
  if (typeof v === "boolean") return v;
  if (typeof v === "number") return v !== 0;
  if (typeof v === "string") return v.length > 0;
  if (v instanceof GoFloat) return v.value !== 0;
  if (v instanceof GoStruct) return true;
  if (Array.isArray(v)) return v.length > 0;
  return Object.keys(v).length > 0;
}

/** Map keys in Go's printing and ranging order (byte order for strings). */
export function sortedKeys(m: { [key: string]: GoValue }): string[] {
  return Object.keys(m).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Formats a float64 as Go's `%v` does: the shortest form, `%e` for exponents below -4 or from 6 up. */
export function formatFloat(f: number): string {
  if (Number.isNaN(f)) return "NaN";
  if (!Number.isFinite(f)) return f > 0 ? "+Inf" : "-Inf";
  if (f === 0) return Object.is(f, -0) ? "-0" : "0";
  const exp = Math.floor(Math.log10(Math.abs(f)));
  if (exp < -4 || exp >= 6) return goExponent(f.toExponential());
  return String(f);
}

/** JS `1e+6` → Go `1e+06`: Go writes at least two exponent digits. */
export function goExponent(text: string): string {
  return text.replace(/e([+-])(\d)$/, "e$10$2");
}

/** Formats a value as Go's `%v` (and a template's `{{…}}`) does. */
export function formatValue(v: GoValue, top = true): string {
  if (v === undefined) return top ? "<no value>" : "<nil>";
  if (v === null) return "<nil>";
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v instanceof GoFloat) return formatFloat(v.value);
  if (v instanceof GoStruct) {
    return `{${Object.values(v.fields).map((f) => formatValue(f, false)).join(" ")}}`;
  }
  if (Array.isArray(v)) return `[${v.map((e) => formatValue(e, false)).join(" ")}]`;
  return `map[${sortedKeys(v).map((k) => `${k}:${formatValue(v[k], false)}`).join(" ")}]`;
}

/** UTF-8 length, as Go's `len` counts a string. */
export function byteLength(s: string): number {
  return new TextEncoder().encode(s).length;
}

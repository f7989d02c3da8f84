/**
 * Reading manifests from files and folders: multi-document YAML, JSON, and `kind: List`.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseManifests } from "./manifests.ts";
 * const text = "a: 1\n---\nkind: List\nitems: [{apiVersion: v1, kind: ConfigMap}]\n";
 * const { objects, errors } = parseManifests(text, "x.yaml");
 * assert.deepEqual(objects, [{ apiVersion: "v1", kind: "ConfigMap" }]);
 * assert.equal(errors.length, 1); // the first document has no kind
 * ```
 * @module
 */
import { join } from "node:path";
import { parseAllDocuments } from "yaml";
import { errorMessage } from "../../core/errors.ts";
import type { KubeObject } from "../../core/types.ts";

/** Objects read, and what could not be read. */
export interface LoadedManifests {
  objects: KubeObject[];
  errors: string[];
}

function flatten(doc: unknown, where: string, out: LoadedManifests): void {
  if (doc === null || doc === undefined) return;
  if (typeof doc !== "object" || Array.isArray(doc)) {
    out.errors.push(`${where} is not a Kubernetes object`);
    return;
  }
  const obj = doc as KubeObject;
  if (typeof obj.kind === "string" && obj.kind.endsWith("List") && Array.isArray(obj.items)) {
    (obj.items as unknown[]).forEach((item, i) => flatten(item, `${where} item ${i + 1}`, out));
    return;
  }
  if (typeof obj.kind !== "string" || typeof obj.apiVersion !== "string") {
    out.errors.push(`${where} has no kind or apiVersion`);
    return;
  }
  out.objects.push(obj);
}

/** Parses the text of one file (YAML with several documents, or JSON). */
export function parseManifests(text: string, file: string): LoadedManifests {
  const out: LoadedManifests = { objects: [], errors: [] };
  const docs = parseAllDocuments(text, { logLevel: "error" });
  const list = Array.isArray(docs) ? docs : [docs];
  list.forEach((doc, i) => {
    const where = `${file}: document ${i + 1}`;
    if (doc.errors.length > 0) {
      out.errors.push(`${where}: ${doc.errors[0].message.split("\n")[0]}`);
      return;
    }
    flatten(doc.toJS({ maxAliasCount: 100 }), where, out);
  });
  return out;
}

const MANIFEST = /\.(ya?ml|json)$/i;

/** Reads files and folders (recursively: every .yaml, .yml and .json file, in name order). */
export async function loadManifests(paths: readonly string[]): Promise<LoadedManifests> {
  const out: LoadedManifests = { objects: [], errors: [] };
  const visit = async (path: string, explicit: boolean): Promise<void> => {
    let info: Deno.FileInfo;
    try {
      info = await Deno.stat(path);
    } catch (e) {
      throw new Error(`cannot read ${path}: ${errorMessage(e)}`);
    }
    if (info.isDirectory) {
      const names: string[] = [];
      for await (const entry of Deno.readDir(path)) names.push(entry.name);
      for (const name of names.sort()) {
        const child = join(path, name);
        const st = await Deno.stat(child);
        if (st.isDirectory || MANIFEST.test(name)) await visit(child, false);
      }
      return;
    }
    if (!explicit && !MANIFEST.test(path)) return;
    const text = await Deno.readTextFile(path);
    const loaded = parseManifests(text, path);
    out.objects.push(...loaded.objects);
    out.errors.push(...loaded.errors);
  };
  for (const p of paths) await visit(p, true);
  return out;
}

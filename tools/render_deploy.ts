/**
 * `deno task deploy:render`: writes deploy/ (plain manifests for `kubectl apply -k deploy/`) from the Helm
 * chart's default values, without Helm's own labels. A test renders again and compares, so the two never drift.
 * @module
 */
import { join } from "node:path";
import { parseAllDocuments, stringify } from "yaml";
import { ensureBinaries } from "./testcluster/build.ts";

const ROOT = join(import.meta.dirname!, "..");

const HEADER =
  "# Rendered from charts/kubemirror with its default values (release kubemirror, namespace kubemirror-system).\n" +
  "# A test checks these files against the chart; regenerate with: deno task deploy:render\n";

/** The deploy/ files the chart renders to, by file name. */
export async function renderDeploy(helm: string): Promise<Record<string, string>> {
  const out = await new Deno.Command(helm, {
    args: [
      "template",
      "kubemirror",
      join(ROOT, "charts/kubemirror"),
      "-n",
      "kubemirror-system",
      "--kube-version",
      "1.36.3",
    ],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) throw new Error(new TextDecoder().decode(out.stderr));
  const files: Record<string, unknown[]> = {
    "rbac.yaml": [],
    "deployment.yaml": [],
    "service.yaml": [],
    "admission-policy.yaml": [],
  };
  for (const doc of parseAllDocuments(new TextDecoder().decode(out.stdout))) {
    const obj = doc.toJS() as { kind: string; metadata: { labels?: Record<string, string> } } | null;
    if (!obj) continue;
    const strip = (labels?: Record<string, string>) => {
      if (!labels) return;
      delete labels["app.kubernetes.io/managed-by"];
      delete labels["helm.sh/chart"];
    };
    strip(obj.metadata.labels);
    const file = obj.kind === "Deployment"
      ? "deployment.yaml"
      : obj.kind === "Service"
      ? "service.yaml"
      : obj.kind.startsWith("ValidatingAdmissionPolicy")
      ? "admission-policy.yaml"
      : "rbac.yaml";
    files[file].push(obj);
  }
  return Object.fromEntries(
    Object.entries(files).map(([name, objs]) => [name, HEADER + objs.map((o) => stringify(o)).join("---\n")]),
  );
}

if (import.meta.main) {
  const { helm } = await ensureBinaries();
  for (const [name, text] of Object.entries(await renderDeploy(helm))) {
    await Deno.writeTextFile(join(ROOT, "deploy", name), text);
    console.log(`wrote deploy/${name}`);
  }
}

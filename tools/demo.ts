/**
 * `deno task demo`: starts a local control plane (building it on first use), starts the controller
 * beside it, applies examples/, and prints the mirrors it made. Ctrl-C stops everything.
 * @module
 */
import { join } from "node:path";
import { eventually, Harness, ROOT, sleep } from "../e2e/harness.ts";

const P = "kubemirror.raczylo.com/";

const h = await Harness.start();
let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  console.error("\nstopping the controller and the control plane …");
  for (const c of h.controllers) await c.stop("SIGTERM");
  await h.stop();
  Deno.exit(0);
};
Deno.addSignalListener("SIGINT", stop);
Deno.addSignalListener("SIGTERM", stop);

try {
  await h.applyFile(join(ROOT, "testdata/crds/traefik-middleware.yaml"));
  await h.applyFile(join(ROOT, "testdata/crds/external-secrets.yaml"));
  await h.waitServed("traefik.io/v1alpha1", "Middleware");
  const ctl = await h.startController(["--leader-elect=false"], { LOG_LEVEL: "info" });
  console.error(`controller running; its log: ${ctl.logFile}`);
  const files = [...Deno.readDirSync(join(ROOT, "examples"))].map((e) => e.name).filter((n) =>
    n.endsWith(".yaml")
  ).sort();
  await h.applyFile(join(ROOT, "examples", "namespaces.yaml"));
  for (const f of files) {
    await h.applyFile(join(ROOT, "examples", f));
    console.error(`applied examples/${f}`);
  }
  const kinds = [
    ["v1", "configmaps", "ConfigMap"],
    ["v1", "secrets", "Secret"],
    ["apps/v1", "deployments", "Deployment"],
    ["traefik.io/v1alpha1", "middlewares", "Middleware"],
  ];
  const list = async () => {
    const rows: string[][] = [];
    for (const [gv, plural, kind] of kinds) {
      const base = gv.includes("/") ? `/apis/${gv}` : `/api/${gv}`;
      const items =
        (await h.api.get<any>(`${base}/${plural}`, { query: { labelSelector: `${P}mirror=true` } })).items ??
          [];
      for (const m of items) {
        const a = m.metadata.annotations ?? {};
        rows.push([
          m.metadata.namespace,
          kind,
          m.metadata.name,
          `${a[`${P}source-namespace`]}/${a[`${P}source-name`]}`,
        ]);
      }
    }
    return rows.sort((x, y) => (x.join(" ") < y.join(" ") ? -1 : 1));
  };
  // Wait until the number of mirrors settles.
  let rows = await list();
  await eventually(
    async () => {
      await sleep(1000);
      const next = await list();
      const settled = next.length === rows.length && next.length > 0;
      rows = next;
      if (!settled) throw new Error("still converging");
    },
    60_000,
    0,
  );
  const table = [["NAMESPACE", "KIND", "NAME", "SOURCE"], ...rows];
  const widths = table[0].map((_, i) => Math.max(...table.map((r) => r[i].length)));
  console.log(table.map((r) => r.map((c, i) => c.padEnd(widths[i])).join("  ").trimEnd()).join("\n"));
  console.log(`\n${rows.length} mirrors. KUBECONFIG=${h.cluster.kubeconfigPath("admin")}`);
  console.log("Try: edit or delete a mirror and watch it come back. Ctrl-C stops everything.");
  await new Promise(() => {});
} catch (e) {
  console.error(e);
  await stop();
}

/**
 * Kubeconfigs as users have them: without CA data, for a server whose certificate is publicly trusted
 * (simulated with $SSL_CERT_FILE holding the plane's CA, read as the system bundle is) or with
 * `insecure-skip-tls-verify`. The controller runs under the production permission flags (tools/run.sh),
 * syncs and mirrors; a certificate nobody trusts is an error in the log, not a warning every 30 s.
 */
import assert from "node:assert/strict";
import { CM, eventually, Harness, source } from "./harness.ts";

const P = "kubemirror.raczylo.com/";

Deno.test({
  name: "kubeconfigs without CA data work under the production permission flags",
  ignore: Deno.env.get("KUBEMIRROR_TEST_KUBECONFIG") !== undefined,
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const h = await Harness.start();
    try {
      await h.createNamespace("app1");
      const admin = await Deno.readTextFile(h.cluster.kubeconfigPath("admin"));
      const ca = /certificate-authority-data: (\S+)/.exec(admin)![1];
      const dir = await Deno.makeTempDir();
      const write = async (name: string, text: string) => {
        await Deno.writeTextFile(`${dir}/${name}`, text);
        return `${dir}/${name}`;
      };
      const noCa = await write("no-ca.kubeconfig", admin.replace(/\s*certificate-authority-data: \S+/, ""));
      const insecure = await write(
        "insecure.kubeconfig",
        admin.replace(/certificate-authority-data: \S+/, "insecure-skip-tls-verify: true"),
      );
      const bundle = await write("bundle.pem", atob(ca));
      const cases: [string, string, Record<string, string>][] = [
        ["insecure-skip-tls-verify", insecure, {}],
        ["a trusted server certificate (system bundle)", noCa, { SSL_CERT_FILE: bundle }],
      ];
      let n = 0;
      for (const [label, kubeconfig, env] of cases) {
        await t.step(`${label}: the controller syncs and mirrors`, async () => {
          const name = `via-${n++}`;
          const ctl = await h.startController([`--kubeconfig=${kubeconfig}`, "--leader-elect=false"], env);
          await eventually(async () => assert.ok(await ctl.ready()), 30_000);
          await h.apply(
            CM("default"),
            source("ConfigMap", "default", name, { [`${P}target-namespaces`]: "app1" }, { data: { a: "1" } }),
          );
          await eventually(async () => assert.ok(await h.find(CM("app1", name))));
          assert.doesNotMatch(await ctl.logs(), /Requires sys access|watch failed/);
          await ctl.stop();
        });
      }
      await t.step(
        "a certificate nobody trusts: not ready, and an error in the log naming the cause",
        async () => {
          const ctl = await h.startController([`--kubeconfig=${noCa}`, "--leader-elect=false"], {}, {
            waitReady: false,
          });
          const line = await eventually(async () => {
            const l = (await ctl.logs()).split("\n").find((x) => x.includes("watch failed"));
            assert.ok(l);
            return JSON.parse(l);
          });
          assert.equal(line.level, "error");
          assert.match(line.error, /certificate/);
          assert.equal(await ctl.ready(), false);
          await ctl.stop();
        },
      );
      await Deno.remove(dir, { recursive: true });
    } finally {
      await h.stop();
    }
  },
});

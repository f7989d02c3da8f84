import assert from "node:assert/strict";
import { authHeaders, kubeConfigFromText } from "./kube_config.ts";

/** A kubeconfig for a server with this `user:` block (YAML, indented by 4). */
const withUser = (user: string) =>
  kubeConfigFromText(`apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://127.0.0.1:1"}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
users:
- name: u
  user:
${user}
`);

Deno.test("each request carries the credentials of the kubeconfig's user, as client-node's authenticators give them", async (t) => {
  await t.step("a token", async () => {
    assert.deepEqual(await authHeaders(withUser("    token: abc"))(), { Authorization: "Bearer abc" });
  });
  await t.step("a token file (in a Pod: the service-account token)", async () => {
    const file = await Deno.makeTempFile();
    await Deno.writeTextFile(file, "first");
    const kc = withUser(`    auth-provider: {name: tokenFile, config: {tokenFile: "${file}"}}`);
    assert.deepEqual(await authHeaders(kc)(), { Authorization: "Bearer first" });
    await Deno.remove(file);
  });
  await t.step("an exec plugin's credential", async () => {
    const credential = JSON.stringify({
      apiVersion: "client.authentication.k8s.io/v1",
      kind: "ExecCredential",
      status: { token: "from-exec" },
    });
    const kc = withUser(`    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: sh
      args: ${JSON.stringify(["-c", `echo '${credential}'`])}
      interactiveMode: Never`);
    assert.deepEqual(await authHeaders(kc)(), { Authorization: "Bearer from-exec" });
  });
  await t.step("a password and an impersonation: the headers client-node adds for them", async () => {
    const basic = await authHeaders(withUser("    username: me\n    password: pw"))();
    assert.equal(basic.authorization, `Basic ${btoa("me:pw")}`);
    const as = await authHeaders(withUser("    token: abc\n    as: someone"))();
    assert.equal(as["impersonate-user"], "someone");
    assert.equal(as.authorization, "Bearer abc");
  });
});

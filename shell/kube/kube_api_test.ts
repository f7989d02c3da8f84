import assert from "node:assert/strict";
import { authHeaders, kubeConfigFromText, retryAfterMs } from "./kube_api.ts";

Deno.test("Retry-After: seconds or an HTTP date, at most 30 s, 1 s when absent or unreadable", () => {
  assert.equal(retryAfterMs("3"), 3000);
  assert.equal(retryAfterMs("0"), 0);
  assert.equal(retryAfterMs("600"), 30_000, "capped: the request is asked again after 30 s");
  const now = Date.UTC(2026, 10, 30, 12, 0, 0);
  assert.equal(retryAfterMs("Mon, 30 Nov 2026 12:00:05 GMT", now), 5000);
  assert.equal(retryAfterMs("Mon, 30 Nov 2026 11:00:00 GMT", now), 0, "a date in the past: at once");
  assert.equal(retryAfterMs(null), 1000);
  assert.equal(retryAfterMs("soon"), 1000);
});

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

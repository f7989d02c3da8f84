import assert from "node:assert/strict";
import { join } from "node:path";
import { stringify } from "yaml";
import { runPlan } from "./plan_command.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

async function plan(args: string[]) {
  let out = "";
  let err = "";
  const code = await runPlan(args, { write: (s) => (out += s), writeError: (s) => (err += s) });
  return {
    code,
    out,
    err,
    doc: args.includes("-o") ? undefined : (code !== 2 ? JSON.parse(out) : undefined),
  };
}

type Action = {
  action: string;
  source: { namespace: string; name: string; kind: string };
  target: { namespace: string };
  reason?: string;
  object?: any;
};

Deno.test("plan -f examples/: the Deployment example only when its kind is named; the rest plan cleanly", async () => {
  const unnamed = await plan(["-f", join(ROOT, "examples")]);
  assert.equal(unnamed.code, 1, "a Deployment runs code in its targets: off unless named");
  assert.deepEqual(unnamed.doc.errors.map((e: any) => e.source.name), ["sample-app"]);
  assert.match(unnamed.doc.errors[0].message, /mirrored only when .*named in --resource-types/);
  assert.ok(
    !(unnamed.doc.actions as Action[]).some((a) => a.source.name === "sample-app" && a.action === "create"),
  );
  const { code, doc, err } = await plan([
    "-f",
    join(ROOT, "examples"),
    "--resource-types=Secret.v1,ConfigMap.v1,Middleware.v1alpha1.traefik.io,Deployment.v1.apps",
  ]);
  assert.equal(err, "");
  assert.equal(code, 0);
  assert.deepEqual(doc.errors, []);
  const actions = doc.actions as Action[];
  const keys = actions.map((a) =>
    [a.source.namespace, a.source.name, a.source.kind, a.target.namespace].join("|")
  );
  assert.deepEqual(
    keys,
    [...keys].sort((x, y) => {
      const [a, b] = [x.split("|"), y.split("|")];
      for (let i = 0; i < 4; i++) if (a[i] !== b[i]) return a[i] < b[i] ? -1 : 1;
      return 0;
    }),
  );
  const targets = (name: string) =>
    actions.filter((a) => a.source.name === name && a.action === "create").map((a) => a.target.namespace);
  assert.deepEqual(targets("database-credentials"), ["app1", "app2", "app3"]);
  assert.deepEqual(targets("common-config"), ["app-frontend", "prod-api"]);
  assert.deepEqual(targets("shared-tls-cert"), ["my-app-1", "my-app-2"]);
  assert.ok(!targets("global-config").includes("legacy"), "opted-out namespace left out of all");
  assert.deepEqual(targets("compression"), ["app-frontend"]);
  const prodConfig = actions.find((a) =>
    a.source.name === "app-config" && a.target.namespace === "prod-api"
  )!;
  assert.equal(prodConfig.object.data.LOG_LEVEL, "error");
  assert.equal(prodConfig.object.data.API_URL, "https://prod-api.api.example.com");
  assert.equal(prodConfig.object.data.DEBUG_MODE, undefined);
  const deploy = actions.find((a) => a.source.name === "sample-app" && a.target.namespace === "app2")!;
  assert.equal(deploy.object.spec.template.spec.containers[0].image, "registry.app2.example.com/app:v1");
  assert.equal(deploy.object.spec.template.metadata.labels["app.kubernetes.io/instance"], "APP2");
});

Deno.test("plan -f: conflicts, deletes of orphaned mirrors, selector targets; -o yaml and -o table say the same", async () => {
  const file = join(ROOT, "testdata/plan/cluster-state.yaml");
  const { code, doc } = await plan(["-f", file]);
  assert.equal(code, 1, "a conflict is an error on its source");
  const summary = (doc.actions as Action[]).map((a) =>
    `${a.action} ${a.source.kind} ${a.source.name} ${a.target.namespace}`
  );
  assert.deepEqual(summary, [
    "delete Secret old-secret team-a",
    "create ConfigMap settings team-a",
    "conflict ConfigMap settings team-b",
    "skip ConfigMap settings team-c",
  ]);
  assert.match((doc.actions as Action[])[3].reason!, /opted out/);
  assert.match(doc.errors[0].message, /conflict in team-b/);
  const yaml = await plan(["-f", file, "-o", "yaml"]);
  assert.equal(yaml.code, 1);
  assert.equal(
    yaml.out,
    stringify(JSON.parse((await plan(["-f", file])).out), { aliasDuplicateObjects: false }),
  );
  const table = await plan(["-f", file, "-o", "table"]);
  assert.match(table.out, /^ACTION\s+KIND\s+SOURCE\s+TARGET\s+REASON/);
  assert.match(
    table.out,
    /conflict\s+ConfigMap\s+shared\/settings\s+team-b\/settings\s+team-b\/settings exists and is not managed/,
  );
  assert.match(
    table.out,
    /delete\s+Secret\s+shared\/old-secret\s+team-a\/old-secret\s+the source was deleted or is no longer enabled/,
  );
});

Deno.test("plan -f: bad input gets a clear error in errors, never a crash or a hang", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const source = (
      name: string,
      annotations: Record<string, string>,
      extra: Record<string, unknown> = {},
    ) => ({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name,
        namespace: "default",
        labels: { "kubemirror.raczylo.com/enabled": "true" },
        annotations: {
          "kubemirror.raczylo.com/sync": "true",
          "kubemirror.raczylo.com/target-namespaces": "app1",
          ...annotations,
        },
      },
      ...extra,
    });
    const rule = (i: number) => `  - path: data.k${i}\n    value: "v"\n`;
    const slow = Array.from({ length: 400 }, () => "(replace ").join("") + "Annotations.pad" +
      Array.from({ length: 400 }, () => ' "a" "a")').join("");
    const generated = [
      source("fifty-one-rules", {
        "kubemirror.raczylo.com/transform": `rules:\n${
          Array.from({ length: 51 }, (_, i) => rule(i)).join("")
        }`,
      }),
      source("eleven-kib", {
        "kubemirror.raczylo.com/transform": `rules:\n  - path: data.a\n    value: "${
          "x".repeat(11 * 1024)
        }"\n`,
      }),
      source("runs-for-seconds", {
        "pad": "a".repeat(900 * 1024),
        "kubemirror.raczylo.com/transform":
          `rules:\n  - path: data.slow\n    template: '{{upper ${slow}}}'\n`,
      }),
    ];
    await Deno.writeTextFile(join(dir, "generated.yaml"), generated.map((g) => stringify(g)).join("---\n"));
    const started = performance.now();
    const { code, doc } = await plan(["-f", join(ROOT, "testdata/plan/bad-sources.yaml"), "-f", dir]);
    const seconds = (performance.now() - started) / 1000;
    assert.equal(code, 1);
    const messages = new Map<string, string>();
    for (const e of doc.errors) {
      messages.set(e.source.name, `${messages.get(e.source.name) ?? ""} ${e.message}`);
    }
    const expect: Record<string, RegExp> = {
      "malformed-yaml": /transform is not valid YAML/,
      "no-path": /rule 1: 'path' is required/,
      "two-actions": /has value and template; exactly one/,
      "bad-glob": /"app-\[0-9\]" is not a valid namespace glob.*"Prod" is not a valid namespace name/s,
      "bad-selector": /invalid label selector "env in \(prod"/,
      "bad-max-targets": /"lots" is not a positive whole number/,
      "template-syntax": /template syntax error/,
      "unknown-helper": /unknown helper "b64enc"/,
      "unknown-variable": /unknown variable "Cluster"/,
      "protected-path": /metadata.namespace is protected/,
      "index-out-of-range": /index 5 is out of range/,
      "renders-ten-mib": /over the limit of 1048576 bytes/,
      "runs-for-seconds": /time limit/,
      "fifty-one-rules": /51 rules, over the limit of 50/,
      "eleven-kib": /over the limit of 10240 bytes/,
    };
    for (const [name, re] of Object.entries(expect)) {
      assert.match(messages.get(name) ?? "(no error)", re, name);
    }
    // Strict template errors skip the mirror; the others never write a mirror built from a broken annotation.
    const actionsFor = (name: string) =>
      (doc.actions as Action[]).filter((a) => a.source.name === name).map((a) => a.action);
    assert.deepEqual(actionsFor("template-syntax"), ["skip"]);
    assert.deepEqual(actionsFor("malformed-yaml"), []);
    assert.deepEqual(actionsFor("renders-ten-mib"), ["skip"]);
    assert.deepEqual(actionsFor("runs-for-seconds"), ["skip"]);
    console.log(`planned every bad source in ${seconds.toFixed(2)}s`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("plan: usage errors exit 2 with a message", async () => {
  const cases: [string[], RegExp][] = [
    [["-f", "/no/such/path"], /cannot read \/no\/such\/path/],
    [["-o", "xml", "-f", "x"], /-o must be json, yaml or table/],
    [["--bogus"], /Unknown option/],
    [["-f", join(ROOT, "examples"), "extra"], /unexpected argument/],
    [[], /no -f given and no cluster to read/],
  ];
  for (const [args, re] of cases) {
    const r = await plan(args);
    assert.equal(r.code, 2, args.join(" "));
    assert.match(r.err, re);
    assert.match(r.err, /Usage: kubemirror plan|cannot read/);
  }
});

Deno.test("plan -f runs as a process with read-only permissions and contacts no cluster", async () => {
  const out = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-read",
      "--allow-env",
      join(ROOT, "mod.ts"),
      "plan",
      "-f",
      join(ROOT, "examples/namespaces.yaml"),
      "-f",
      join(ROOT, "examples/secret-specific-namespaces.yaml"),
      "-o",
      "table",
    ],
    env: { KUBECONFIG: "/nonexistent", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(out.stdout);
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
  assert.match(text, /create\s+Secret\s+default\/database-credentials\s+app1\/database-credentials/);
});

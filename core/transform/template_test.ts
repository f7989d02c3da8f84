import assert from "node:assert/strict";
import fc from "fast-check";
import { BudgetExceeded, sizeOnlyBudget } from "./budget.ts";
import { goTemplateToHandlebars } from "./go_to_handlebars.ts";
import { compileTemplate, type TemplateVars } from "./template.ts";

const vars: TemplateVars = {
  TargetNamespace: "prod-eu",
  SourceNamespace: "default",
  SourceName: "cfg",
  TargetName: "cfg",
  Labels: { tier: "web", "app.kubernetes.io/name": "shop" },
  Annotations: { owner: "team-a" },
};

function render(text: string, v: TemplateVars = vars): string {
  const t = compileTemplate(text);
  assert.ok(t.ok, `${text}: ${!t.ok && t.error}`);
  return t.template.render(v, sizeOnlyBudget(1 << 20));
}

Deno.test("templates: the Go-template spellings of the contract render unchanged", () => {
  assert.equal(render("{{.TargetNamespace}}"), "prod-eu");
  assert.equal(render("{{upper .TargetNamespace}}"), "PROD-EU");
  assert.equal(render('{{replace .TargetNamespace "-" "_"}}'), "prod_eu");
  assert.equal(render('{{default "x" .Labels.tier}}'), "web");
  assert.equal(render('{{default "x" .Labels.missing}}'), "x");
  assert.equal(render('{{index .Labels "app.kubernetes.io/name"}}'), "shop");
  assert.equal(render("{{ .TargetNamespace | upper }}"), "PROD-EU");
  assert.equal(render("https://{{.TargetNamespace}}.api.example.com"), "https://prod-eu.api.example.com");
  assert.equal(
    render("{{.TargetNamespace}}.postgres.svc.cluster.local"),
    "prod-eu.postgres.svc.cluster.local",
  );
  assert.equal(render("{{- .SourceName -}}"), "cfg");
});

Deno.test("templates: every helper", () => {
  assert.equal(render("{{lower (upper TargetNamespace)}}"), "prod-eu");
  assert.equal(render('{{trimPrefix TargetNamespace "prod-"}}'), "eu");
  assert.equal(render('{{trimSuffix TargetNamespace "-eu"}}'), "prod");
  assert.equal(render('{{hasPrefix TargetNamespace "prod"}}'), "true");
  assert.equal(render('{{hasSuffix TargetNamespace "prod"}}'), "false");
  assert.equal(render('{{default "none" Annotations.owner}}'), "team-a");
  assert.equal(render("{{SourceNamespace}}/{{SourceName}}->{{TargetName}}"), "default/cfg->cfg");
  assert.equal(render("{{TargetNamespace}} <&>"), "prod-eu <&>", "no HTML escaping");
});

/** Pairs of the same template in both spellings. */
const spellings: [string, string][] = [
  ["{{.TargetNamespace}}", "{{TargetNamespace}}"],
  ["{{upper .SourceName}}", "{{upper SourceName}}"],
  ['{{replace .TargetNamespace "-" "_"}}', '{{replace TargetNamespace "-" "_"}}'],
  ['{{default "x" .Labels.tier}}', '{{default "x" Labels.tier}}'],
  ['{{index .Labels "app.kubernetes.io/name"}}', '{{index Labels "app.kubernetes.io/name"}}'],
  ["{{ .TargetNamespace | upper }}", "{{upper TargetNamespace}}"],
  ['{{ .TargetNamespace | trimPrefix "prod-" | lower }}', '{{lower (trimPrefix "prod-" TargetNamespace)}}'],
];

Deno.test("both template spellings render the same, for any namespace and labels", () => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^[a-z0-9-]{1,20}$/),
      fc.dictionary(fc.constantFrom("tier", "app.kubernetes.io/name"), fc.string({ maxLength: 8 })),
      fc.constantFrom(...spellings),
      // A backslash before {{ is Handlebars' escape, which Go does not have.
      fc.string({ maxLength: 10 }).filter((s) => !/[{}\\]/.test(s)),
      (ns, labels, [go, hbs], text) => {
        const v = { ...vars, TargetNamespace: ns, Labels: labels };
        assert.equal(render(`${text}${go}${text}`, v), render(`${text}${hbs}${text}`, v));
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("goTemplateToHandlebars leaves Handlebars spelling and plain text alone", () => {
  fc.assert(fc.property(fc.string({ maxLength: 30 }).filter((s) => !s.includes("{{")), (text) => {
    assert.equal(goTemplateToHandlebars(text), text);
  }));
  assert.equal(goTemplateToHandlebars("{{upper TargetNamespace}}"), "{{upper TargetNamespace}}");
  assert.equal(goTemplateToHandlebars('{{ "a.b" }}'), '{{"a.b"}}', "dots inside strings stay");
});

Deno.test("templates: unknown variables and helpers, blocks and syntax errors fail to compile with a clear error", () => {
  const bad: [string, RegExp][] = [
    ["{{.Namespace}}", /unknown variable "Namespace"/],
    ["{{nope TargetNamespace}}", /unknown helper "nope"/],
    ["{{#repeat Labels}}{{this}}{{/repeat}}", /unknown block helper \{\{#repeat\}\}/],
    ["{{ .TargetNamespace.x }}", /goes deeper/],
    ["{{ if .Namespace }}x{{ end }}", /unknown variable "Namespace"/],
    ["{{ $.Labels.a.b }}", /goes deeper/],
    ["{{ $y }}", /undefined variable "\$y"/],
    ["{{ if .TargetNamespace }}x", /has no \{\{end\}\}/],
    ['{{ template "x" }}', /not supported/],
    ["{{ .TargetNamespace | nope }}", /function "nope" not defined/],
    ["{{> partial}}", /partials/],
    ["{{upper TargetNamespace", /syntax error/],
    ["{{@root.x}}", /unknown variable "x"/],
    ["{{@index}}", /not a template variable/],
    ["{{../x}}", /not a template variable/],
    ["{{Labels.a.b}}", /goes deeper/],
    ["{{upper x=1}}", /named arguments/],
  ];
  for (const [text, re] of bad) {
    const t = compileTemplate(text);
    assert.ok(!t.ok, text);
    assert.match(t.error, re, text);
  }
});

Deno.test("templates: strict at render time: a missing label printed directly and wrong argument counts fail", () => {
  const missing = compileTemplate("{{Labels.nope}}");
  assert.ok(missing.ok);
  assert.throws(() => missing.template.render(vars, sizeOnlyBudget(1000)), /nope/);
  const arity = compileTemplate("{{upper TargetNamespace SourceName}}");
  assert.ok(arity.ok);
  assert.throws(() => arity.template.render(vars, sizeOnlyBudget(1000)), /upper takes 1 argument, got 2/);
});

Deno.test("templates: a template that would render 10 MiB is stopped by the size limit", () => {
  let text = "{{TargetNamespace}}";
  for (let i = 0; i < 8; i++) {
    text = `{{replace ${
      text.slice(2, -2).includes(" ") ? `(${text.slice(2, -2)})` : text.slice(2, -2)
    } "" "0123456789"}}`;
  }
  const t = compileTemplate(text);
  assert.ok(t.ok, !t.ok ? t.error : "");
  assert.throws(() => t.template.render(vars, sizeOnlyBudget(1 << 20)), BudgetExceeded);
});

Deno.test("templates: a template that would run for seconds is stopped by the time limit", () => {
  // Every helper call reads the clock; a fake clock advancing 10 ms per read runs out after 10 calls.
  let now = 0;
  const budget = { now: () => (now += 10), deadline: 100, maxBytes: 1 << 20 };
  const text = Array.from({ length: 200 }, () => "{{upper TargetNamespace}}").join("");
  const t = compileTemplate(text);
  assert.ok(t.ok);
  assert.throws(() => t.template.render(vars, budget), /time limit/);
  assert.ok(now < 300, "stopped soon after the deadline, not after all 200 calls");
});

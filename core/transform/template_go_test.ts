import assert from "node:assert/strict";
import fc from "fast-check";
import { BudgetExceeded, sizeOnlyBudget } from "./budget.ts";
import { GO_FUNCTIONS, parseGoTemplate, sprintf } from "./gotemplate/mod.ts";
import { compileTemplate, templateSpelling, type TemplateVars } from "./template.ts";

const vars: TemplateVars = {
  TargetNamespace: "prod-eu",
  SourceNamespace: "default",
  SourceName: "cfg",
  TargetName: "cfg",
  Labels: { "app.kubernetes.io/name": "shop", tier: "web" },
  Annotations: { owner: "team-a" },
};

function render(text: string, v: Partial<TemplateVars> = {}): string {
  const t = compileTemplate(text);
  assert.ok(t.ok, `${text}: ${!t.ok && t.error}`);
  return t.template.render({ ...vars, ...v }, sizeOnlyBudget(1 << 20));
}

/** The environment-specific example from the earlier implementation's docs, as YAML's `|` gives it. */
const LOG_LEVEL = `{{- if hasPrefix .TargetNamespace "prod-" -}}
error
{{- else if hasPrefix .TargetNamespace "staging-" -}}
warn
{{- else -}}
debug
{{- end }}
`;

Deno.test("go templates: the earlier implementation's environment example renders per namespace", () => {
  assert.equal(templateSpelling(LOG_LEVEL), "go");
  assert.equal(render(LOG_LEVEL, { TargetNamespace: "prod-eu" }), "error\n");
  assert.equal(render(LOG_LEVEL, { TargetNamespace: "staging-1" }), "warn\n");
  assert.equal(render(LOG_LEVEL, { TargetNamespace: "dev-2" }), "debug\n");
});

Deno.test("go templates: every template of the earlier implementation's README and docs renders as Go renders it", () => {
  const readme: [string, string][] = [
    ["https://{{.TargetNamespace}}.api.example.com", "https://prod-eu.api.example.com"],
    ["{{.TargetNamespace}}-app", "prod-eu-app"],
    ['{{replace .TargetNamespace "-" "_"}}', "prod_eu"],
    ['{{default "fallback" .Labels.missing}}', "fallback"],
    ["registry.{{.TargetNamespace}}.example.com/app:v1", "registry.prod-eu.example.com/app:v1"],
    ["postgres://{{.TargetNamespace}}-db.svc:5432", "postgres://prod-eu-db.svc:5432"],
    ["{{.TargetNamespace}}-config", "prod-eu-config"],
    ["{{.TargetNamespace}}.postgres.svc.cluster.local", "prod-eu.postgres.svc.cluster.local"],
    // Its docs (docs/README of the transformer and examples).
    ["postgres.{{.TargetNamespace}}.svc.cluster.local", "postgres.prod-eu.svc.cluster.local"],
    ["redis.{{.TargetNamespace}}.svc.cluster.local", "redis.prod-eu.svc.cluster.local"],
    ['{{trimPrefix .TargetNamespace "namespace-"}}', "prod-eu"],
    ['{{trimPrefix .TargetNamespace "prod-"}}', "eu"],
    [
      "postgres://{{.TargetNamespace}}-db.svc.cluster.local:5432",
      "postgres://prod-eu-db.svc.cluster.local:5432",
    ],
    [
      "postgres://{{.TargetNamespace}}.db.preprod.example.com:5432",
      "postgres://prod-eu.db.preprod.example.com:5432",
    ],
    [
      "postgres://{{.TargetNamespace}}.db.prod.example.com:5432",
      "postgres://prod-eu.db.prod.example.com:5432",
    ],
    ["https://{{.TargetNamespace}}.api.preprod.com", "https://prod-eu.api.preprod.com"],
    ["{{ .TargetNamespace | upper }}", "PROD-EU"],
    // Go passes the piped value last: this is replace "-" "_" "prod-eu", which yields "-".
    ['{{ .TargetNamespace | replace "-" "_" }}', "-"],
  ];
  for (const [text, want] of readme) assert.equal(render(text), want, text);
});

Deno.test("go templates: control flow, variables and built-ins as Go's text/template renders them", () => {
  const cases: [string, string, Partial<TemplateVars>?][] = [
    ['{{if eq .TargetNamespace "prod-eu"}}yes{{end}}', "yes"],
    ['{{if ne .TargetNamespace "prod-eu"}}yes{{else}}no{{end}}', "no"],
    ["{{with $x := .Labels.tier}}{{$x}}{{end}}", "web"],
    ["{{with .Labels.missing}}{{.}}{{else}}none{{end}}", "none"],
    ["{{with .Labels.missing}}a{{else with .Labels.tier}}b{{.}}{{end}}", "bweb"],
    ["{{range $k, $v := .Labels}}{{$k}}:{{$v}},{{end}}", "app.kubernetes.io/name:shop,tier:web,"],
    ["{{range .Labels}}[{{.}}]{{end}}", "[shop][web]"],
    ['{{range $i, $v := .Labels}}{{if eq $v "shop"}}{{continue}}{{end}}{{$v}}{{end}}', "web"],
    ["{{range .Labels}}{{.}}{{break}}{{end}}", "shop"],
    ["{{range .Labels}}x{{else}}none{{end}}", "none", { Labels: {} }],
    ["{{range 3}}{{.}}{{end}}", "012"],
    ["{{len .TargetNamespace}} {{len .Labels}}", "7 2"],
    ['{{len "é"}}', "2"],
    ['{{printf "%s/%s" .SourceNamespace .SourceName}}', "default/cfg"],
    [
      '{{printf "%5s|%-5s|%05d|%x|%q|%v|%t" "a" "b" 42 255 "q" .Labels true}}',
      '    a|b    |00042|ff|"q"|map[app.kubernetes.io/name:shop tier:web]|true',
    ],
    ['{{printf "%.2f %d %s" 1.5 "x"}}', "1.50 %!d(string=x) %!s(MISSING)"],
    ['{{print "a" 1 2 "b"}}', "a1 2b"],
    ['{{and .Labels.tier .TargetNamespace}} {{or .Labels.missing "x"}} {{and 0 1}}', "prod-eu x 0"],
    ['{{not (eq 1 2)}} {{lt 1 2}} {{ge "b" "a"}} {{le 2 2}} {{gt 1 2}}', "true true true true false"],
    ['{{eq .TargetNamespace "a" "b" "prod-eu"}} {{eq .Labels.missing "x"}}', "true false"],
    ['{{$x := "a"}}{{if true}}{{$x = "b"}}{{end}}{{$x}}', "b"],
    ["{{$.SourceName}}{{with .Labels}}{{$.TargetName}}{{.tier}}{{end}}", "cfgcfgweb"],
    ["a  {{- 1 -}}  b", "a1b"],
    ["a{{/* a comment */}}b {{- /* trimmed */ -}} c", "abc"],
    ['{{ .TargetNamespace | printf "%s!" }}', "prod-eu!"],
    ['{{ index .Labels "app.kubernetes.io/name" }}{{ index .Labels "none" }}', "shop"],
    ["{{ .Labels.missing }}", "<no value>"],
    ["{{ 1.5 }} {{ 1e6 }} {{ 0x1F }} {{ 'a' }}", "1.5 1e+06 31 97"],
    ["{{ `raw \\n` }}", "raw \\n"],
    ['{{ (upper .SourceName) }}-{{ lower (upper "AbC") }}', "CFG-abc"],
    [
      '{{ if and (hasPrefix .TargetNamespace "prod") (hasSuffix .TargetNamespace "eu") }}both{{ end }}',
      "both",
    ],
  ];
  for (const [text, want, v] of cases) assert.equal(render(text, v), want, text);
});

Deno.test("go templates: run-time errors say what failed, as Go's do", () => {
  const failing: [string, RegExp][] = [
    ['{{ lt "a" 1 }}', /incompatible types for comparison/],
    ["{{ range .TargetNamespace }}x{{ end }}", /range can't iterate over prod-eu/],
    ["{{ upper 3 }}", /expected string; got int/],
    ["{{ upper .Labels.missing }}", /invalid value; expected string/],
    ["{{ .TargetNamespace 1 }}", /can't give argument to non-function/],
    ["{{ len 3 }}", /len of type int/],
    ["{{ index .TargetNamespace 1 }}", /can't index item of type string/],
  ];
  for (const [text, re] of failing) {
    const t = compileTemplate(text);
    assert.ok(t.ok, `${text}: ${!t.ok && t.error}`);
    assert.throws(() => t.template.render(vars, sizeOnlyBudget(1 << 20)), re, text);
  }
});

Deno.test("go templates: a loop that would run or grow past the limits is stopped and reported", () => {
  // 2 × 2 labels nested five deep, each step writing the namespace: stopped by the size limit.
  const nested = "{{range $.Labels}}".repeat(5) + "{{$.TargetNamespace}}" + "{{end}}".repeat(5);
  const grow = compileTemplate(nested);
  assert.ok(grow.ok);
  assert.throws(() => grow.template.render(vars, sizeOnlyBudget(100)), BudgetExceeded);
  // A range over a huge count writes nothing, but every step reads the clock: stopped by the time limit.
  let now = 0;
  const forever = compileTemplate("{{range 1000000000000}}{{end}}");
  assert.ok(forever.ok);
  assert.throws(
    () => forever.template.render(vars, { now: () => (now += 1), deadline: 100, maxBytes: 1 << 20 }),
    /time limit/,
  );
  assert.ok(now < 1000, "stopped right after the deadline");
  // Handlebars' blocks are charged too.
  const each = compileTemplate(
    "{{#each Labels}}{{#each ../Labels}}{{@root.TargetNamespace}}{{/each}}{{/each}}",
  );
  assert.ok(each.ok, !each.ok ? each.error : "");
  assert.throws(() => each.template.render(vars, sizeOnlyBudget(20)), BudgetExceeded);
});

Deno.test("go templates: a parse never throws, whatever the text", () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 40 }), fc.string({ maxLength: 20 }), (a, b) => {
      const r = parseGoTemplate(`${a}{{${b}}}${a}`, GO_FUNCTIONS);
      assert.equal(typeof r.ok, "boolean");
    }),
    { numRuns: 500 },
  );
});

Deno.test("sprintf: a string with no verbs comes back unchanged", () => {
  fc.assert(fc.property(fc.string().filter((s) => !s.includes("%")), (s) => assert.equal(sprintf(s, []), s)));
});

// ---- The common subset, written in both spellings ----

type Expr = { go: string; hbs: string };
const VAR_NAMES = ["TargetNamespace", "SourceNamespace", "SourceName", "TargetName"] as const;
const LABEL_KEYS = ["tier", "app", "env"] as const;

const text = fc.string({ maxLength: 6 }).filter((s) => !/[{}\\\n\r]/.test(s));
const word = fc.stringMatching(/^[a-z-]{0,4}$/);

const ref: fc.Arbitrary<Expr> = fc.oneof(
  fc.constantFrom(...VAR_NAMES).map((v) => ({ go: `.${v}`, hbs: v })),
  fc.constantFrom(...LABEL_KEYS).map((k) => ({ go: `index .Labels "${k}"`, hbs: `index Labels "${k}"` })),
);
// A bare string literal is a value only as an argument: Handlebars reads {{"x"}} as a lookup of "x".
const value: fc.Arbitrary<Expr> = fc.oneof(ref, word.map((w) => ({ go: `"${w}"`, hbs: `"${w}"` })));
const paren = (e: Expr): Expr => ({ go: `(${e.go})`, hbs: e.hbs.includes(" ") ? `(${e.hbs})` : e.hbs });
const stringExpr: fc.Arbitrary<Expr> = fc.oneof(
  ref,
  fc.tuple(fc.constantFrom("upper", "lower"), value).map(([f, a]) => ({
    go: `${f} ${paren(a).go}`,
    hbs: `${f} ${paren(a).hbs}`,
  })),
  fc.tuple(fc.constantFrom("replace", "trimPrefix", "trimSuffix"), value, word, word).map(([f, a, x, y]) => {
    const args = f === "replace" ? ` "${x}" "${y}"` : ` "${x}"`;
    return { go: `${f} ${paren(a).go}${args}`, hbs: `${f} ${paren(a).hbs}${args}` };
  }),
);
const condition: fc.Arbitrary<Expr> = fc.oneof(
  fc.tuple(fc.constantFrom("hasPrefix", "hasSuffix", "eq", "ne"), value, word).map(([f, a, w]) => ({
    go: `${f} ${paren(a).go} "${w}"`,
    hbs: `(${f} ${paren(a).hbs} "${w}")`,
  })),
  value.map((a) => ({ go: paren(a).go, hbs: paren(a).hbs })),
);

const segment: fc.Arbitrary<Expr> = fc.letrec<{ seg: Expr; body: Expr }>((tie) => ({
  seg: fc.oneof(
    { depthSize: "small" },
    text.map((t) => ({ go: t, hbs: t })),
    stringExpr.map((e) => ({ go: `{{${e.go}}}`, hbs: `{{${e.hbs}}}` })),
    fc.tuple(condition, tie("body"), tie("body")).map(([c, a, b]) => ({
      go: `{{if ${c.go}}}${a.go}{{else}}${b.go}{{end}}`,
      hbs: `{{#if ${c.hbs}}}${a.hbs}{{else}}${b.hbs}{{/if}}`,
    })),
    fc.tuple(fc.constantFrom(...LABEL_KEYS), text, text).map(([k, a, b]) => ({
      go: `{{with index .Labels "${k}"}}${a}[{{.}}]{{else}}${b}{{end}}`,
      hbs: `{{#with (index Labels "${k}")}}${a}[{{this}}]{{else}}${b}{{/with}}`,
    })),
    text.map((t) => ({
      go: `{{range $k, $v := .Labels}}{{$k}}=${t}{{$v}};{{end}}`,
      hbs: `{{#each Labels}}{{@key}}=${t}{{this}};{{/each}}`,
    })),
  ),
  body: fc.array(tie("seg"), { maxLength: 3 }).map((parts) => ({
    go: parts.map((p) => p.go).join(""),
    hbs: parts.map((p) => p.hbs).join(""),
  })),
})).seg;

Deno.test("property: in the common subset the Go spelling and the Handlebars spelling render the same", () => {
  const labels = fc.dictionary(fc.constantFrom(...LABEL_KEYS), fc.stringMatching(/^[a-z-]{0,4}$/))
    // Handlebars walks a map in insertion order, Go in key order: give them the same order.
    .map((d) => Object.fromEntries(Object.entries(d).sort(([a], [b]) => (a < b ? -1 : 1))));
  fc.assert(
    fc.property(
      fc.array(segment, { minLength: 1, maxLength: 4 }),
      fc.stringMatching(/^[a-z-]{1,10}$/),
      labels,
      (segs, ns, l) => {
        const go = segs.map((s) => s.go).join("");
        const hbs = segs.map((s) => s.hbs).join("");
        const g = compileTemplate(go);
        const h = compileTemplate(hbs);
        assert.ok(g.ok, `${go}: ${!g.ok && g.error}`);
        assert.ok(h.ok, `${hbs}: ${!h.ok && h.error}`);
        if (go.includes("{{")) assert.equal(g.template.spelling, "go", go);
        const v = { ...vars, TargetNamespace: ns, Labels: l };
        assert.equal(
          g.template.render(v, sizeOnlyBudget(1 << 20)),
          h.template.render(v, sizeOnlyBudget(1 << 20)),
          `${go}\n${hbs}`,
        );
      },
    ),
    { numRuns: 400 },
  );
});

import assert from "node:assert/strict";
import { formatTable, useColor } from "./table.ts";

Deno.test("tables: aligned as kubectl aligns, headers optional, colour on the state words only when asked", () => {
  const rows = [["registry", "in-sync"], ["shared", "conflict"]];
  assert.equal(
    formatTable(["NAME", "STATE"], rows, { noHeaders: true }),
    "registry   in-sync\nshared     conflict\n",
  );
  const colored = formatTable(["NAME", "STATE"], rows, { color: true });
  assert.ok(colored.includes("\x1b[32min-sync\x1b[0m"));
  assert.ok(colored.includes("\x1b[31mconflict\x1b[0m"));
  assert.ok(!colored.split("\n")[0].includes("\x1b["), "headers stay plain");
  assert.ok(!formatTable(["NAME", "STATE"], rows).includes("\x1b["));
});

Deno.test("colour only on a terminal, never with NO_COLOR", () => {
  assert.equal(useColor(true, undefined), true);
  assert.equal(useColor(true, ""), true);
  assert.equal(useColor(true, "1"), false);
  assert.equal(useColor(false, undefined), false);
});

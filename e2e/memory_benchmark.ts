/**
 * `deno task bench:memory`: the controller's memory under a hostile author (e2e/hostile_workload.ts), on
 * the local plane and under the production entry point (tools/run.sh), without a heap cap and with the
 * chart's `DENO_V8_FLAGS` for its default 512Mi limit. The chart's memory request and limit are derived
 * from these figures (README, "Memory").
 *
 * ```sh
 * deno task bench:memory            # 60 s each
 * deno task bench:memory 120        # longer
 * ```
 * @module
 */
import { Harness } from "./harness.ts";
import { CHART_V8_FLAGS, hostileWorkload } from "./hostile_workload.ts";

const seconds = Number(Deno.args[0] ?? 60);
const h = await Harness.start();
try {
  for (
    const [label, env] of [
      ["no heap cap", {}],
      [`the chart's DENO_V8_FLAGS (${CHART_V8_FLAGS})`, { DENO_V8_FLAGS: CHART_V8_FLAGS }],
    ] as const
  ) {
    const f = await hostileWorkload(h, seconds, env);
    console.log(
      `memory under a hostile author, ${label} (${seconds} s, ${f.rounds} rounds of edits, tools/run.sh):`,
    );
    console.log(`  idle before: RSS ${f.idle.rss} MiB, heap ${f.idle.heap} MiB`);
    console.log(`  RSS  max ${f.rss.max} MiB, mean ${f.rss.mean} MiB`);
    console.log(`  heap max ${f.heap.max} MiB, mean ${f.heap.mean} MiB`);
  }
} finally {
  await h.stop();
}

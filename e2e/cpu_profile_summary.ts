/**
 * What a V8 `.cpuprofile` says of where a process's main thread went: its busy time split into the
 * collector, the profiler's "(program)", our own code (a frame under the project's root), the runtime and
 * libraries called from our code, and the runtime with no frame of ours on the stack (continuations of
 * awaited requests, the watch's stream); and, per frame of ours, the time spent in it or below it with no
 * other frame of ours in between. Frames the inspector itself causes (Deno reports every `fetch` to an
 * attached inspector) are counted apart and left out of the busy time.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { summarizeProfile } from "./cpu_profile_summary.ts";
 * const frame = (functionName: string, url = "") => ({ functionName, url, lineNumber: 0 });
 * const summary = summarizeProfile({
 *   nodes: [
 *     { id: 1, callFrame: frame("(root)"), children: [2, 3] },
 *     { id: 2, callFrame: frame("plan", "file:///app/core/plan.ts"), children: [4] },
 *     { id: 3, callFrame: frame("(garbage collector)") },
 *     { id: 4, callFrame: frame("fetch", "ext:deno_fetch/26_fetch.js") },
 *   ],
 *   samples: [2, 4, 4, 3],
 *   timeDeltas: [100, 100, 100, 100],
 * }, "file:///app/");
 * assert.deepEqual(summary.busy, { ours: 100, underOurs: 200, runtime: 0, gc: 100, program: 0 });
 * assert.deepEqual(summary.byOwnFrame, [["plan core/plan.ts", 300]]);
 * ```
 * @module
 */

/** A V8 CPU profile, as `Profiler.stop` answers it (times in microseconds). */
export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    children?: number[];
  }[];
  samples: number[];
  timeDeltas: number[];
}

/** Microseconds of the main thread, by what it was doing. */
export interface ProfileSummary {
  busy: { ours: number; underOurs: number; runtime: number; gc: number; program: number };
  idle: number;
  inspector: number;
  /** `function path` of each frame of ours, and the microseconds spent in it or below it, most first. */
  byOwnFrame: [string, number][];
}

/** Sums a profile; `root` is the URL prefix of our own code (`file:///…/` of the project). */
export function summarizeProfile(profile: CpuProfile, root: string): ProfileSummary {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const selfTime = new Map<number, number>();
  profile.samples.forEach((id, i) =>
    selfTime.set(id, (selfTime.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0))
  );
  const busy = { ours: 0, underOurs: 0, runtime: 0, gc: 0, program: 0 };
  let idle = 0;
  let inspector = 0;
  const byOwnFrame = new Map<string, number>();
  for (const [id, t] of selfTime) {
    const stack: CpuProfile["nodes"][number]["callFrame"][] = [];
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      stack.push(nodes.get(cur)!.callFrame);
    }
    const top = stack[0];
    if (stack.some((f) => /inspector/i.test(f.functionName + f.url))) inspector += t;
    else if (top.functionName === "(idle)") idle += t;
    else if (top.functionName === "(garbage collector)") busy.gc += t;
    else if (top.functionName === "(program)") busy.program += t;
    else {
      const own = stack.find((f) => f.url.startsWith(root));
      if (own === top) busy.ours += t;
      else if (own) busy.underOurs += t;
      else busy.runtime += t;
      if (own) {
        const k = `${own.functionName || "(anonymous)"} ${own.url.slice(root.length)}`;
        byOwnFrame.set(k, (byOwnFrame.get(k) ?? 0) + t);
      }
    }
  }
  return { busy, idle, inspector, byOwnFrame: [...byOwnFrame].sort((a, b) => b[1] - a[1]) };
}

import assert from "node:assert/strict";
import type { KubeObject } from "../../core/types.ts";
import { Informer, type ListWatchClient } from "./informer.ts";
import { InformerGroup } from "./informer_group.ts";
import { FakeClock } from "../runtime/fake_clock.ts";
import { createLogger } from "../runtime/log.ts";

/** An API server that refuses connections while `down`, and answers lists and watches otherwise. */
function server(clock: FakeClock) {
  const state = { down: true, tries: new Map<string, number[]>() };
  const api: ListWatchClient = {
    list: <T extends KubeObject>(path: string) => {
      state.tries.set(path, [...state.tries.get(path) ?? [], clock.now()]);
      return state.down
        ? Promise.reject(new Error("connect ECONNREFUSED 127.0.0.1:6443"))
        : Promise.resolve({ items: [] as T[], resourceVersion: "1" });
    },
    watch: (_path, _options, _onEvent, onDone) => {
      if (state.down) onDone(new Error("connect ECONNREFUSED 127.0.0.1:6443"));
      return Promise.resolve(() => onDone(new DOMException("aborted", "AbortError")));
    },
  };
  return { api, state };
}

for (const grouped of [true, false]) {
  Deno.test(
    `informer group: ${
      grouped
        ? "one informer answered again wakes the others out of their backoff"
        : "without a group, each waits out its own backoff"
    }`,
    async () => {
      const clock = new FakeClock();
      const { api, state } = server(clock);
      const group = new InformerGroup();
      const start = (path: string) => {
        const inf: Informer = new Informer(
          api,
          { path, name: path },
          {
            onChange: () => {},
            onHealth: grouped ? (up) => group.health(inf, up) : undefined,
          },
          createLogger("error", {}, () => {}),
          undefined,
          clock,
        );
        inf.start();
        return inf;
      };
      const a = start("/a");
      await clock.advance(900);
      const b = start("/b");
      // Both fail and back off 1, 2, 4, 8 s: /a tries at 0, 1, 3, 7 s, /b at 0.9, 1.9, 3.9, 7.9 s. Failures
      // wake nobody.
      await clock.advance(7_100);
      assert.deepEqual(state.tries.get("/a"), [0, 1_000, 3_000, 7_000]);
      assert.deepEqual(state.tries.get("/b"), [900, 1_900, 3_900, 7_900]);
      state.down = false;
      // /a tries again at 15 s and is answered; /b's own backoff would end at 15.9 s.
      await clock.advance(7_000);
      assert.equal(a.hasSynced, true);
      assert.equal(b.hasSynced, grouped, grouped ? "woken by /a's answer" : "still waiting");
      assert.equal(state.tries.get("/b")!.at(-1), grouped ? 15_000 : 7_900);
      await clock.advance(900);
      assert.equal(b.hasSynced, true);
      a.stop();
      b.stop();
    },
  );
}

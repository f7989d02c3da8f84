/**
 * The informers of one API server, woken together after an outage: when one of them is answered again (a
 * list, or a watch that started), the others still waiting out their backoff (up to 30 s) ask again at
 * once. Only an answer wakes them: failures waking each other would loop against a server that is down.
 *
 * @example
 * ```ts
 * import { Informer } from "./informer.ts";
 * import { InformerGroup } from "./informer_group.ts";
 * import type { KubeClient } from "./client.ts";
 * import { createLogger } from "../runtime/log.ts";
 * declare const api: KubeClient;
 * const group = new InformerGroup();
 * const namespaces: Informer = new Informer(api, { path: "/api/v1/namespaces", name: "namespaces" }, {
 *   onChange: () => {},
 *   onHealth: (up) => group.health(namespaces, up),
 * }, createLogger("info"));
 * ```
 * @module
 */
import type { Informer } from "./informer.ts";

/** Informers that share an API server, and those of them failing now. */
export class InformerGroup {
  readonly #failing = new Set<Pick<Informer, "retryNow">>();

  /** Says how `informer` fared (its `onHealth`); an answer wakes every other informer of the group that is failing. */
  health(informer: Pick<Informer, "retryNow">, up: boolean): void {
    if (!up) {
      this.#failing.add(informer);
      return;
    }
    this.#failing.delete(informer);
    for (const other of [...this.#failing]) other.retryNow();
  }

  /** Leaves `informer` out from now on (stopped). */
  forget(informer: Pick<Informer, "retryNow">): void {
    this.#failing.delete(informer);
  }
}

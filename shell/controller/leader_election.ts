/**
 * Leader election on a coordination.k8s.io Lease: the core decides (acquire, renew, release, wait); this
 * loop reads the Lease, writes the decision with the Lease's resourceVersion, and sleeps. Another
 * holder's lease expires by our own clock, counted from when we first saw its current record. A leader
 * that cannot renew within the renew deadline stops leading at the deadline, even while a renewal hangs
 * (every Lease request is bounded by the renew deadline).
 *
 * @example
 * ```ts
 * import { LeaderElector } from "./leader_election.ts";
 * import type { KubeClient } from "../kube/client.ts";
 * import { createLogger } from "../runtime/log.ts";
 * declare const api: KubeClient;
 * const log = createLogger("info");
 * const elector = new LeaderElector(api, { namespace: "kubemirror-system", name: "kubemirror-controller-leader",
 *   identity: "pod-a" }, { onStartedLeading: () => {}, onStoppedLeading: () => {} }, log);
 * elector.run();
 * ```
 * @module
 */
import {
  actsAsLeader,
  decideLeadership,
  DEFAULT_LEADER_TIMINGS,
  type LeaderTimings,
  type LeaseState,
} from "../../core/leader.ts";
import { ignoreNotFound, isStatus, type KubeClient } from "../kube/client.ts";
import { type Clock, systemClock } from "../runtime/clock.ts";
import { errorMessage, type Logger } from "../runtime/log.ts";
import type { KubeObject } from "../../core/types.ts";

/** Which Lease, and who we are. */
export interface LeaseRef {
  namespace: string;
  name: string;
  identity: string;
}

/** Called when leadership starts and when it ends. */
export interface LeaderCallbacks {
  onStartedLeading(): void;
  onStoppedLeading(): void;
}

function toMicroTime(ms: number | undefined): string | undefined {
  return ms === undefined ? undefined : new Date(ms).toISOString().replace("Z", "000Z");
}

function fromMicroTime(s: string | undefined): number | undefined {
  return s ? Date.parse(s) : undefined;
}

/** A coordination.k8s.io/v1 Lease: the fields the election reads and writes. */
interface Lease extends KubeObject {
  spec?: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

/** The Lease spec as the core sees it. */
export function leaseState(lease: Lease | undefined): LeaseState {
  const spec = lease?.spec ?? {};
  return {
    holderIdentity: spec.holderIdentity,
    leaseDurationSeconds: spec.leaseDurationSeconds,
    acquireTime: fromMicroTime(spec.acquireTime),
    renewTime: fromMicroTime(spec.renewTime),
    leaseTransitions: spec.leaseTransitions,
  };
}

/** Runs the election loop until stopped. */
export class LeaderElector {
  #stopped = false;
  #leading = false;
  #lease?: Lease;
  /** Aborted by stop: ends the wait between two tries at once. */
  readonly #stop = new AbortController();
  #loop?: Promise<void>;
  /** The lease record as last read, and our local time when we first saw it. */
  #observed?: { record: string; at: number };
  /** Cancels the timer that fires at the renew deadline after our last renewal. */
  #cancelDeadline?: () => void;

  constructor(
    readonly api: KubeClient,
    readonly ref: LeaseRef,
    readonly callbacks: LeaderCallbacks,
    readonly log: Logger,
    readonly timings: LeaderTimings = DEFAULT_LEADER_TIMINGS,
    readonly clock: Clock = systemClock,
  ) {}

  #path(name?: string): string {
    const base = `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(this.ref.namespace)}/leases`;
    return name ? `${base}/${encodeURIComponent(name)}` : base;
  }

  /** Starts the loop in the background. */
  run(): void {
    this.#loop = this.#run();
  }

  /** One try: read the Lease, let the core decide, write the decision. Bounded by the renew deadline. */
  async #step(shuttingDown: boolean): Promise<number> {
    const bound = new AbortController();
    const cancel = this.clock.after(
      this.timings.renewDeadlineMs,
      () => bound.abort(new Error("the Lease request took longer than the renew deadline")),
    );
    // The loop's tries end at stop too; the release after it has only the deadline.
    const signal = shuttingDown ? bound.signal : AbortSignal.any([bound.signal, this.#stop.signal]);
    try {
      return await this.#try(shuttingDown, signal);
    } finally {
      cancel();
    }
  }

  async #try(shuttingDown: boolean, signal: AbortSignal): Promise<number> {
    const lease = await ignoreNotFound(this.api.get<Lease>(this.#path(this.ref.name), { signal }));
    const now = this.clock.now();
    const record = lease ? `${lease.spec?.holderIdentity}|${lease.spec?.renewTime}` : "";
    if (this.#observed?.record !== record) this.#observed = { record, at: now };
    const decision = decideLeadership({
      lease: lease ? leaseState(lease) : undefined,
      identity: this.ref.identity,
      now,
      timings: this.timings,
      observedAt: this.#observed.at,
      shuttingDown,
    });
    if (decision.action === "wait") return decision.retryInMs;
    const spec = {
      holderIdentity: decision.lease.holderIdentity,
      leaseDurationSeconds: decision.lease.leaseDurationSeconds,
      acquireTime: toMicroTime(decision.lease.acquireTime),
      renewTime: toMicroTime(decision.lease.renewTime),
      leaseTransitions: decision.lease.leaseTransitions,
    };
    if (!lease) {
      this.#lease = await this.api.request<Lease>("POST", this.#path(), {
        body: {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { name: this.ref.name, namespace: this.ref.namespace },
          spec,
        },
        signal,
      });
    } else {
      this.#lease = await this.api.request<Lease>("PUT", this.#path(this.ref.name), {
        body: { ...lease, spec },
        signal,
      });
    }
    this.#observed = { record: `${spec.holderIdentity}|${spec.renewTime}`, at: now };
    if (decision.action === "acquire" || decision.action === "renew") this.#armDeadline(now);
    if (decision.action === "acquire" && !this.#leading) {
      this.#leading = true;
      this.log.info("became the leader", {
        lease: `${this.ref.namespace}/${this.ref.name}`,
        identity: this.ref.identity,
      });
      this.callbacks.onStartedLeading();
    }
    if (decision.action === "release") {
      this.log.info("released the lease", { lease: `${this.ref.namespace}/${this.ref.name}` });
    }
    return this.timings.retryPeriodMs;
  }

  /** Leadership ends at the renew deadline after this renewal, unless a later one gets through first. */
  #armDeadline(renewedAt: number): void {
    this.#cancelDeadline?.();
    const left = renewedAt + this.timings.renewDeadlineMs - this.clock.now();
    this.#cancelDeadline = this.clock.after(Math.max(0, left), () => this.#lose());
  }

  #lose(): void {
    this.#cancelDeadline?.();
    if (!this.#leading) return;
    this.#leading = false;
    this.log.error("lost the lease: could not renew it within the renew deadline");
    this.callbacks.onStoppedLeading();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let wait = this.timings.retryPeriodMs;
      try {
        wait = await this.#step(false);
      } catch (e) {
        if (!isStatus(e, 409)) {
          this.log.warn("leader election: lease update failed", { error: errorMessage(e) });
        }
      }
      if (
        this.#leading &&
        !actsAsLeader(leaseState(this.#lease), this.ref.identity, this.clock.now(), this.timings)
      ) {
        this.#lose();
      }
      if (this.#stopped) break;
      await this.clock.sleep(wait, this.#stop.signal);
    }
  }

  /** Stops the loop; releases the Lease if held, so a standby takes over at once. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#cancelDeadline?.();
    this.#stop.abort();
    await this.#loop;
    if (this.#leading) {
      try {
        await this.#step(true);
      } catch (e) {
        this.log.warn("could not release the lease", { error: errorMessage(e) });
      }
      this.#leading = false;
    }
  }
}

import { type CoordinationV1Api, type V1Lease, type V1LeaseSpec, V1MicroTime } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type Clock, sleep, systemClock } from "./clock.js";
import { apiStatus, errorReason } from "./errors.js";

export type LeaseApi = Pick<CoordinationV1Api, "readNamespacedLease" | "createNamespacedLease" | "replaceNamespacedLease">;

/** Told when this candidate starts campaigning (false), starts leading (true) and stops (false). */
export interface LeaderElectionMetrics {
  leaderStatus(lease: string, leading: boolean): void;
}

export interface LeaderElectorOptions {
  api: LeaseApi;
  namespace: string;
  name: string;
  /** Unique per candidate, usually the pod name. */
  identity: string;
  logger: Logger;
  /** How long others wait, after they last saw the lease change, before taking it (default 15 s). */
  leaseDurationMs?: number;
  /** How long the leader keeps trying to renew before it steps down (default 10 s). */
  renewDeadlineMs?: number;
  /** Pause between attempts to acquire or renew (default 2 s). */
  retryPeriodMs?: number;
  clock?: Clock;
  /** E.g. ControllerMetrics, for controller-runtime's leader_election_master_status{name}. */
  metrics?: LeaderElectionMetrics;
}

export interface LeadershipCallbacks {
  /** Leadership was acquired; `signal` aborts the moment it ends. */
  onStartedLeading: (signal: AbortSignal) => void;
  /**
   * Leadership ended, lost or given up. On a clean stop the lease is released only after this
   * settles, so finish in-flight work here before a successor starts.
   */
  onStoppedLeading: () => void | Promise<void>;
}

type Ending = "lost" | "stopped";

const CONFLICT = 409;
const NOT_FOUND = 404;

// Lease times are MicroTime. The client leaves their strings as they are when reading, and
// writes them with microseconds only when given a V1MicroTime.
function microTime(value: Date | string | number): V1MicroTime {
  return new V1MicroTime(value);
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it. Every write carries
 * the resourceVersion last read, so of two candidates racing, the API server lets one win and
 * answers the other 409; nothing is ever locked. A lease held by someone else is taken only
 * after it has gone unchanged for its duration, measured on this process's own clock from when
 * the change was seen, so clock skew between candidates cannot shorten it.
 */
export class LeaderElector {
  private readonly api: LeaseApi;
  private readonly namespace: string;
  private readonly name: string;
  private readonly identity: string;
  private readonly logger: Logger;
  private readonly leaseDurationMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly clock: Clock;
  private readonly metrics: LeaderElectionMetrics | undefined;
  private readonly stopping = new AbortController();
  private running: Promise<void> | undefined;
  /** The lease as this candidate last wrote it. */
  private held: V1Lease | undefined;
  private observed: { version: string; at: number } | undefined;

  constructor(options: LeaderElectorOptions) {
    this.api = options.api;
    this.namespace = options.namespace;
    this.name = options.name;
    this.identity = options.identity;
    this.logger = options.logger.child({ kind: "Lease", namespace: options.namespace, name: options.name });
    this.leaseDurationMs = options.leaseDurationMs ?? 15_000;
    this.renewDeadlineMs = options.renewDeadlineMs ?? 10_000;
    this.retryPeriodMs = options.retryPeriodMs ?? 2_000;
    this.clock = options.clock ?? systemClock;
    this.metrics = options.metrics;
    // The leader must give up before anyone else may take over, and must get several tries.
    if (!(this.leaseDurationMs > this.renewDeadlineMs && this.renewDeadlineMs > this.retryPeriodMs && this.retryPeriodMs > 0)) {
      throw new RangeError("leader election needs leaseDurationMs > renewDeadlineMs > retryPeriodMs > 0");
    }
  }

  /**
   * Campaigns until leading, leads until stopped or until renewal fails, then resolves. Once
   * leadership is lost this elector is done: the process should exit (or build a new elector)
   * rather than carry on with state from its term.
   */
  run(callbacks: LeadershipCallbacks): Promise<void> {
    if (this.running !== undefined) throw new Error("a LeaderElector runs once");
    this.running = this.campaign(callbacks);
    return this.running;
  }

  /** Stops campaigning or leading; resolves once onStoppedLeading has settled and the lease is released. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.running;
  }

  private async campaign(callbacks: LeadershipCallbacks): Promise<void> {
    // A candidate reports 0 while it waits, so a standby shows up as one.
    this.metrics?.leaderStatus(this.name, false);
    if (!(await this.acquire())) return;
    if (this.stopping.signal.aborted) {
      await this.release();
      return;
    }
    const term = new AbortController();
    this.logger.info({ identity: this.identity }, "started leading");
    this.metrics?.leaderStatus(this.name, true);
    this.guard("onStartedLeading", () => callbacks.onStartedLeading(term.signal));
    const ending = await this.renew();
    term.abort();
    this.metrics?.leaderStatus(this.name, false);
    this.logger.info({ identity: this.identity, ending }, ending === "lost" ? "lost leadership" : "stepping down");
    await Promise.resolve()
      .then(callbacks.onStoppedLeading)
      .catch((error: unknown) => this.logger.error({ error: errorReason(error) }, "onStoppedLeading failed"));
    if (ending === "stopped") await this.release();
  }

  private guard(what: string, callback: () => void): void {
    try {
      callback();
    } catch (error) {
      this.logger.error({ error: errorReason(error) }, `${what} threw`);
    }
  }

  private async acquire(): Promise<boolean> {
    while (!this.stopping.signal.aborted) {
      if (await this.tryAcquireOrRenew()) return true;
      await sleep(this.clock, this.retryPeriodMs, this.stopping.signal);
    }
    return false;
  }

  private async renew(): Promise<Ending> {
    let renewedAt = this.clock.now();
    for (;;) {
      await sleep(this.clock, this.retryPeriodMs, this.stopping.signal);
      if (this.stopping.signal.aborted) return "stopped";
      const deadline = renewedAt + this.renewDeadlineMs;
      const startedAt = this.clock.now();
      if (await this.beforeDeadline(this.tryAcquireOrRenew(), deadline)) renewedAt = startedAt;
      else if (this.clock.now() >= deadline) return "lost";
    }
  }

  /** The attempt's outcome, or false if the deadline comes first (a hung request is no renewal). */
  private beforeDeadline(attempt: Promise<boolean>, deadline: number): Promise<boolean> {
    return new Promise((resolve) => {
      const cancel = this.clock.after(Math.max(0, deadline - this.clock.now()), () => resolve(false));
      attempt.then(
        (ok) => {
          cancel();
          resolve(ok);
        },
        () => resolve(false),
      );
    });
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    try {
      const current = await this.read();
      const written = current === undefined ? await this.create(now) : await this.take(current, now);
      if (written === undefined) return false;
      this.held = written;
      return true;
    } catch (error) {
      if (apiStatus(error) === CONFLICT) {
        this.logger.debug({ identity: this.identity }, "another candidate wrote the lease first");
      } else {
        this.logger.warn({ identity: this.identity, code: apiStatus(error), error: errorReason(error) }, "lease attempt failed");
      }
      return false;
    }
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.api.readNamespacedLease({ namespace: this.namespace, name: this.name });
    } catch (error) {
      if (apiStatus(error) === NOT_FOUND) return undefined;
      throw error;
    }
  }

  private create(now: number): Promise<V1Lease> {
    const body: V1Lease = {
      apiVersion: "coordination.k8s.io/v1",
      kind: "Lease",
      metadata: { namespace: this.namespace, name: this.name },
      spec: this.spec(undefined, now),
    };
    return this.api.createNamespacedLease({ namespace: this.namespace, body });
  }

  private async take(current: V1Lease, now: number): Promise<V1Lease | undefined> {
    this.observe(current, now);
    if (!this.mayTake(current.spec, now)) return undefined;
    // `current` carries the resourceVersion just read: a write by anyone since then is a 409.
    const body: V1Lease = { ...current, spec: this.spec(current.spec, now) };
    return this.api.replaceNamespacedLease({ namespace: this.namespace, name: this.name, body });
  }

  // Any write changes the resourceVersion, so a new one means the holder is alive (or changed).
  private observe(current: V1Lease, now: number): void {
    const version = current.metadata?.resourceVersion ?? "";
    if (this.observed?.version !== version) this.observed = { version, at: now };
  }

  private mayTake(spec: V1LeaseSpec | undefined, now: number): boolean {
    const holder = spec?.holderIdentity ?? "";
    if (holder === "" || holder === this.identity) return true;
    const durationMs = spec?.leaseDurationSeconds === undefined ? this.leaseDurationMs : spec.leaseDurationSeconds * 1000;
    return (this.observed?.at ?? now) + durationMs <= now;
  }

  private spec(previous: V1LeaseSpec | undefined, now: number): V1LeaseSpec {
    const renewing = previous?.holderIdentity === this.identity;
    const transitions = previous?.leaseTransitions ?? 0;
    return {
      holderIdentity: this.identity,
      leaseDurationSeconds: Math.ceil(this.leaseDurationMs / 1000),
      acquireTime: renewing && previous.acquireTime !== undefined ? microTime(previous.acquireTime) : microTime(now),
      renewTime: microTime(now),
      leaseTransitions: renewing || previous === undefined ? transitions : transitions + 1,
    };
  }

  /** Hands the lease over at once: no holder, and a duration that has already run out. */
  private async release(): Promise<void> {
    if (this.held === undefined) return;
    const now = microTime(this.clock.now());
    const spec: V1LeaseSpec = { ...this.held.spec, holderIdentity: undefined, leaseDurationSeconds: 1, acquireTime: now, renewTime: now };
    try {
      await this.api.replaceNamespacedLease({
        namespace: this.namespace,
        name: this.name,
        body: { ...this.held, spec },
      });
      this.held = undefined;
      this.logger.info({ identity: this.identity }, "released the lease");
    } catch (error) {
      // A 409 means someone wrote the lease after our last renewal: it is not ours to clear.
      this.logger.warn({ identity: this.identity, code: apiStatus(error), error: errorReason(error) }, "could not release the lease");
    }
  }
}

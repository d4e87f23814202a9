import cluster, { type Worker } from "node:cluster";
import { readFileSync } from "node:fs";
import { availableParallelism } from "node:os";
import type { Logger } from "pino";
import { AggregatorRegistry, Counter, Gauge, Registry } from "prom-client";
import { type Clock, systemClock } from "../runtime/clock.js";
import { errorReason } from "../runtime/errors.js";
import { openReplayStore, type ReplayStoreSpec } from "../replay/config.js";
import type { ReplayClaim, ReplayStore } from "../replay/store.js";
import type { AccessKeyRef } from "./key-table.js";
import { type Flush, type LastUsed, LastUsedBatcher } from "./last-used.js";
import type { ShownLastUse } from "./last-used-patch.js";
import { isKeygateMessage, type MetricsJson, processChannel, type ToPrimary, type ToWorker, WorkerLink } from "./worker-link.js";

/**
 * Workers for a CPU limit, given as quota and period (cgroup v2 `cpu.max`: "<quota> <period>", or
 * "max <period>" for none): rounded up, never more than the CPUs this process may run on, at
 * least 1. No limit found means one worker: a node's CPU count is no limit on memory, and every
 * worker holds the whole key index, so more must be asked for.
 */
export function workersFor(cpuMax: string | undefined, parallelism: number): number {
  const [quota, period] = (cpuMax ?? "").trim().split(/\s+/).map(Number);
  const cpus = Math.max(1, Math.floor(parallelism));
  if (quota === undefined || period === undefined || !(quota > 0) || !(period > 0)) return 1;
  return Math.max(1, Math.min(cpus, Math.ceil(quota / period)));
}

function readFirst(paths: readonly string[]): string | undefined {
  for (const path of paths) {
    try {
      return readFileSync(path, "utf8");
    } catch {
      continue;
    }
  }
  return undefined;
}

// cgroup v2 first; cgroup v1 keeps quota (-1 for none) and period in two files.
function readCpuMax(): string | undefined {
  const v2 = readFirst(["/sys/fs/cgroup/cpu.max"]);
  if (v2 !== undefined) return v2;
  const quota = readFirst(["/sys/fs/cgroup/cpu/cpu.cfs_quota_us", "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us"]);
  const period = readFirst(["/sys/fs/cgroup/cpu/cpu.cfs_period_us", "/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us"]);
  return quota === undefined || period === undefined ? undefined : `${quota.trim()} ${period.trim()}`;
}

/** The container's CPU limit (cgroup v2 or v1), or one worker when it has none. */
export function defaultWorkers(): number {
  return workersFor(readCpuMax(), availableParallelism());
}

export interface PodOptions {
  readonly workers: number;
  /** memory: held by the primary, the workers claim through it; redis: each worker connects itself. */
  readonly replayStore: ReplayStoreSpec;
  readonly lastUsedFlushMs: number;
  /** Writes a last use to the cluster (statusFlush), given what the workers' indexes show. */
  readonly writeLastUse: (shown: ShownLastUse) => Flush;
  /** How long a worker may take to drain and stop before it is killed. */
  readonly stopTimeoutMs: number;
  readonly log: Logger;
  readonly clock?: Clock;
  /** What each worker runs (default: this program again, with the same arguments). */
  readonly exec?: { readonly file: string; readonly args: readonly string[]; readonly execArgv?: readonly string[] };
  /**
   * Called, instead of another restart, when a worker keeps dying soon after its start: the Pod
   * should then exit, so that Kubernetes sees the crash loop (and backs off) instead of it hiding here.
   */
  readonly onCrashLoop?: (message: string) => void;
}

export interface RunningPod {
  /** Every worker has synced its index, and the Pod is not stopping. */
  isReady(): boolean;
  /** Process ids of the live workers. */
  workerPids(): number[];
  /** Drains every worker (each for its --shutdown-delay), then writes the pending last uses. */
  stop(): Promise<void>;
}

interface Slot {
  worker: Worker | undefined;
  ready: boolean;
  startedAtMs: number;
  /** Deaths in a row, each soon after its start: the restart waits longer each time. */
  quickDeaths: number;
  restart: (() => void) | undefined;
}

// A worker that dies within this of its start counts as a crash loop, and waits before the next.
const QUICK_DEATH_MS = 10_000;
const MAX_RESTART_DELAY_MS = 30_000;
// Deaths in a row, each soon after its start, before the Pod gives up (about 8 s of restarts).
const MAX_QUICK_DEATHS = 5;
const METRICS_TIMEOUT_MS = 3_000;
// Uses not written for this long are forgotten by the primary's ordering guard.
const LATEST_USE_RETENTION_MS = 60 * 60_000;

function restartDelayMs(quickDeaths: number): number {
  return quickDeaths === 0 ? 0 : Math.min(MAX_RESTART_DELAY_MS, 500 * 2 ** (quickDeaths - 1));
}

function send(worker: Worker, message: ToWorker): void {
  if (!worker.isConnected()) return;
  // A worker that is going away cannot take it; nothing else is to be done about that.
  worker.send(message, undefined, () => undefined);
}

/**
 * Last uses from every worker, in time order per key: a use older than one already taken is
 * dropped, so that the one batcher never writes a key's status backwards. What the workers'
 * indexes show (other replicas' writes) is kept too, for the batcher's "already later" check.
 */
class LatestUses implements ShownLastUse {
  private readonly byUid = new Map<string, { takenMs: number; shownMs: number | undefined; seenAtMs: number }>();

  constructor(private readonly now: () => number) {}

  /** Whether this use is newer than every one taken before for its key. */
  take(uid: string, usage: LastUsed, shownMs: number | undefined): boolean {
    const usedMs = Date.parse(usage.time);
    const entry = this.byUid.get(uid);
    const shown = Math.max(shownMs ?? Number.NEGATIVE_INFINITY, entry?.shownMs ?? Number.NEGATIVE_INFINITY);
    const nowMs = this.now();
    if (entry !== undefined && usedMs <= entry.takenMs) {
      this.byUid.set(uid, { ...entry, shownMs: Number.isFinite(shown) ? shown : undefined, seenAtMs: nowMs });
      return false;
    }
    this.byUid.set(uid, { takenMs: usedMs, shownMs: Number.isFinite(shown) ? shown : undefined, seenAtMs: nowMs });
    return true;
  }

  lastUsedMs(uid: string): number | undefined {
    return this.byUid.get(uid)?.shownMs;
  }

  prune(): void {
    const oldest = this.now() - LATEST_USE_RETENTION_MS;
    for (const [uid, entry] of this.byUid) if (entry.seenAtMs < oldest) this.byUid.delete(uid);
  }
}

class PodMetrics {
  readonly registry = new Registry();
  readonly restarts: Counter;

  constructor(live: () => number, ready: () => number) {
    const registers = [this.registry];
    new Gauge({ name: "keygate_verifier_workers", help: "Live worker processes of this Pod (--workers).", registers, collect() { this.set(live()); } });
    new Gauge({ name: "keygate_verifier_workers_ready", help: "Workers of this Pod whose key index has synced.", registers, collect() { this.set(ready()); } });
    this.restarts = new Counter({ name: "keygate_verifier_worker_restarts_total", help: "Workers restarted after they died.", registers });
  }
}

/**
 * The primary of `keygate verifier --workers N`: N worker processes share the listening port
 * (Node's cluster module hands each new connection to the next worker). The primary serves no
 * request; it holds what must be one per Pod: the in-memory replay store, the last-used writer,
 * the Pod's readiness and its metrics; and it restarts a worker that dies.
 */
class VerifierPod implements RunningPod {
  private readonly slots: Slot[];
  private readonly replay: ReplayStore | undefined;
  private readonly latest: LatestUses;
  private readonly lastUsed: LastUsedBatcher;
  private readonly metrics: PodMetrics;
  private readonly metricsAnswers = new Map<number, (metrics: MetricsJson | undefined) => void>();
  private readonly pruner: NodeJS.Timeout;
  private nextMetricsId = 0;
  private stopping = false;
  private announced = false;

  constructor(private readonly options: PodOptions) {
    const clock = options.clock ?? systemClock;
    this.slots = Array.from({ length: options.workers }, () => ({ worker: undefined, ready: false, startedAtMs: 0, quickDeaths: 0, restart: undefined }));
    this.replay = options.replayStore.kind === "memory" ? openReplayStore(options.replayStore, () => clock.now(), options.log) : undefined;
    this.latest = new LatestUses(() => clock.now());
    this.lastUsed = new LastUsedBatcher({ intervalMs: options.lastUsedFlushMs, clock, flush: options.writeLastUse(this.latest), log: options.log });
    this.metrics = new PodMetrics(
      () => this.slots.filter((slot) => slot.worker !== undefined).length,
      () => this.slots.filter((slot) => slot.ready).length,
    );
    this.pruner = setInterval(() => this.latest.prune(), LATEST_USE_RETENTION_MS / 4).unref();
    if (options.exec) cluster.setupPrimary({ exec: options.exec.file, args: [...options.exec.args], execArgv: options.exec.execArgv ? [...options.exec.execArgv] : undefined });
    for (const slot of this.slots) this.fork(slot);
  }

  isReady(): boolean {
    return !this.stopping && this.slots.every((slot) => slot.worker !== undefined && slot.ready);
  }

  workerPids(): number[] {
    return this.slots.flatMap((slot) => (slot.worker?.process.pid === undefined ? [] : [slot.worker.process.pid]));
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.pruner);
    this.announceReadiness();
    const exits = this.slots.map((slot) => this.stopWorker(slot));
    await Promise.all(exits);
    await this.lastUsed.stop();
    await this.replay?.close();
  }

  private stopWorker(slot: Slot): Promise<void> {
    slot.restart?.();
    slot.restart = undefined;
    const worker = slot.worker;
    if (worker === undefined) return Promise.resolve();
    return new Promise((resolve) => {
      const kill = setTimeout(() => worker.process.kill("SIGKILL"), this.options.stopTimeoutMs);
      worker.once("exit", () => {
        clearTimeout(kill);
        resolve();
      });
      send(worker, { kg: "stop" });
    });
  }

  private fork(slot: Slot): void {
    slot.restart = undefined;
    const worker = cluster.fork();
    slot.worker = worker;
    slot.ready = false;
    slot.startedAtMs = Date.now();
    worker.on("message", (message: unknown) => {
      if (isKeygateMessage(message)) this.receive(slot, worker, message as ToPrimary);
    });
    worker.on("error", (error: Error) => this.options.log.warn({ worker: worker.process.pid, error: errorReason(error) }, "verifier worker channel error"));
    worker.once("exit", (code: number | null, signal: string | null) => this.exited(slot, worker, { code, signal }));
    this.options.log.info({ worker: worker.process.pid }, "verifier worker started");
  }

  private exited(slot: Slot, worker: Worker, how: { code: number | null; signal: string | null }): void {
    if (slot.worker !== worker) return;
    slot.worker = undefined;
    slot.ready = false;
    this.announceReadiness();
    if (this.stopping) return;
    slot.quickDeaths = Date.now() - slot.startedAtMs < QUICK_DEATH_MS ? slot.quickDeaths + 1 : 0;
    if (slot.quickDeaths >= MAX_QUICK_DEATHS && this.options.onCrashLoop) {
      return this.options.onCrashLoop(`verifier workers died ${slot.quickDeaths} times in a row within ${QUICK_DEATH_MS / 1000} s of their start`);
    }
    const delayMs = restartDelayMs(slot.quickDeaths);
    this.options.log.warn({ worker: worker.process.pid, ...how, restartInMs: delayMs }, "verifier worker died; starting another");
    this.metrics.restarts.inc();
    const timer = setTimeout(() => this.fork(slot), delayMs);
    slot.restart = () => clearTimeout(timer);
  }

  private receive(slot: Slot, worker: Worker, message: ToPrimary): void {
    switch (message.kg) {
      case "claim":
        return this.claim(worker, message.id, message.claim);
      case "last-used":
        return this.recordUse(message.target, message.usage, message.shownMs);
      case "ready":
        slot.ready = slot.worker === worker;
        return this.announceReadiness();
      case "pod-metrics":
        return this.answerPodMetrics(worker, message.id);
      case "metrics-json":
        return this.metricsAnswers.get(message.id)?.(message.metrics);
      case "bye":
        return;
    }
  }

  private claim(worker: Worker, id: number, claim: ReplayClaim): void {
    const store = this.replay;
    if (store === undefined) return send(worker, { kg: "claim", id, verdict: "unavailable" });
    store.claim(claim).then(
      (verdict) => send(worker, { kg: "claim", id, verdict }),
      () => send(worker, { kg: "claim", id, verdict: "unavailable" }),
    );
  }

  private recordUse(target: AccessKeyRef, usage: LastUsed, shownMs: number | undefined): void {
    if (this.latest.take(target.uid, usage, shownMs)) this.lastUsed.record(target, usage);
  }

  /** Tells every worker whether the Pod is ready, when that changed (and a new worker, always). */
  private announceReadiness(): void {
    const ready = this.isReady();
    if (ready !== this.announced) this.options.log.info({ ready, workers: this.workerPids().length }, ready ? "verifier pod ready" : "verifier pod not ready");
    this.announced = ready;
    for (const slot of this.slots) if (slot.worker) send(slot.worker, { kg: "pod-ready", ready });
  }

  private answerPodMetrics(worker: Worker, id: number): void {
    this.podMetricsText().then(
      (text) => send(worker, { kg: "pod-metrics", id, text }),
      (error: unknown) => {
        this.options.log.warn({ error: errorReason(error) }, "the Pod's metrics could not be gathered; the worker answers with its own");
        send(worker, { kg: "pod-metrics", id, text: "" });
      },
    );
  }

  private async podMetricsText(): Promise<string> {
    const live = this.slots.flatMap((slot) => (slot.worker ? [slot.worker] : []));
    const answers = await Promise.all(live.map((worker) => this.workerMetrics(worker)));
    const lists = answers.flatMap((metrics) => (metrics === undefined ? [] : [this.withPodValues(metrics)]));
    const workers = await AggregatorRegistry.aggregate(lists).metrics();
    return `${workers}${await this.metrics.registry.metrics()}`;
  }

  private workerMetrics(worker: Worker): Promise<MetricsJson | undefined> {
    const id = this.nextMetricsId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => settle(undefined), METRICS_TIMEOUT_MS);
      const settle = (metrics: MetricsJson | undefined): void => {
        clearTimeout(timer);
        this.metricsAnswers.delete(id);
        resolve(metrics);
      };
      this.metricsAnswers.set(id, settle);
      send(worker, { kg: "metrics-json", id });
    });
  }

  /** The replay store's size is the primary's to tell (a worker holds none). */
  private withPodValues(metrics: MetricsJson): MetricsJson {
    const size = this.replay?.size() ?? 0;
    return metrics.map((metric) =>
      metric.name === "keygate_verifier_replay_cache_entries" ? { ...metric, aggregator: "max", values: [{ value: size, labels: {} }] } : metric,
    );
  }
}

/** Starts the primary: forks the workers and returns at once (each worker becomes ready by itself). */
export function startVerifierPod(options: PodOptions): RunningPod {
  if (!cluster.isPrimary) throw new Error("a verifier Pod's primary cannot be started in a cluster worker");
  return new VerifierPod(options);
}

/** What a worker runs: a verifier started with the link to its primary. */
export interface WorkerVerifier {
  stop(): Promise<void>;
}

/**
 * The worker's side: starts the verifier with the link, and stops it (draining, as on SIGTERM)
 * when the primary asks, or on this process's own SIGTERM or SIGINT; exits once stopped. A
 * primary that went away takes its workers with it.
 */
export async function serveAsWorker(start: (link: WorkerLink) => Promise<WorkerVerifier>, log: Logger): Promise<void> {
  const link = new WorkerLink(processChannel());
  process.once("disconnect", () => {
    log.warn("the verifier primary went away; this worker exits");
    process.exit(1);
  });
  const state: { verifier?: WorkerVerifier; stopping?: Promise<void> } = {};
  const stop = (): void => {
    const verifier = state.verifier;
    // Still starting: nothing is served or held yet.
    if (verifier === undefined) return process.exit(0);
    state.stopping ??= verifier.stop().then(
      () => link.flush().then(() => process.exit(0)),
      (error: unknown) => {
        log.error({ error: errorReason(error) }, "verifier worker stop failed");
        process.exit(1);
      },
    );
  };
  link.onStop(stop);
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);
  // A worker that cannot start exits (its IPC channel would keep it alive), and the primary starts another.
  state.verifier = await start(link).catch((error: unknown) => {
    log.error({ error: errorReason(error) }, "verifier worker could not start");
    return process.exit(1);
  });
}

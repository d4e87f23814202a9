import type { Logger } from "pino";
import { type BackoffOptions, backoffDelay } from "./backoff.js";
import { type Clock, systemClock } from "./clock.js";

export interface ReconcileResult {
  /** Run the key again after this delay (e.g. at a credential's expiry) instead of polling. */
  requeueAfterMs?: number;
}

/** Where an added key waits: behind nothing, or behind every key of the other lane. */
export type Lane = "events" | "background";

/** Reconciles one key; throwing or rejecting means "try again later, with backoff". */
export type KeyHandler = (key: string) => Promise<ReconcileResult | void>;

/** Told about every failed attempt; `attempt` counts consecutive failures of the key, from 1. */
export type ErrorReporter = (key: string, error: unknown, attempt: number) => void;

/** How a run of the handler ended, in controller-runtime's words (its `result` label). */
export type ReconcileOutcome = "success" | "error" | "requeue" | "requeue_after";

/**
 * What a work queue tells its metrics, at the points where client-go's work queue and
 * controller-runtime's controller tell theirs. Every hook is synchronous and must not throw.
 */
export interface WorkQueueMetrics {
  /** The queue runs at most this many keys at once (told once, on construction). */
  workers(concurrency: number): void;
  /** The key became due. A key already due is not added again, so neither is it counted. */
  added(key: string): void;
  /** Keys due and not yet taken by a worker (those waiting for their own run to end included). */
  depth(due: number): void;
  /** A worker took the key. */
  started(key: string): void;
  finished(key: string, outcome: ReconcileOutcome): void;
  /** The key was scheduled to come back after a delay: a backoff or a requeue-after. */
  retried(key: string): void;
}

export interface WorkQueueOptions {
  handler: KeyHandler;
  onError: ErrorReporter;
  logger: Logger;
  /** How many keys are handled at once (default 1). One key never runs twice at once. */
  concurrency?: number;
  /** Per-key retry delays after failures (default 500 ms doubling up to 5 min). */
  backoff?: Partial<BackoffOptions>;
  clock?: Clock;
  /** Told of adds, runs and retries, e.g. by ControllerMetrics.controller(name); none by default. */
  metrics?: WorkQueueMetrics;
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 500, capMs: 5 * 60_000 };

type Outcome = { ok: true; result: ReconcileResult | void } | { ok: false; error: unknown };

function outcomeOf(outcome: Outcome): ReconcileOutcome {
  if (!outcome.ok) return "error";
  const requeueAfterMs = outcome.result ? outcome.result.requeueAfterMs : undefined;
  if (requeueAfterMs === undefined) return "success";
  return requeueAfterMs > 0 ? "requeue_after" : "requeue";
}

interface Delayed {
  at: number;
  cancel: () => void;
}

/**
 * A work queue of `namespace/name` keys, as controllers use between informers and reconcilers:
 * a key added many times runs once; a key added while it runs is marked dirty and runs again
 * right after, never concurrently; failures retry with per-key exponential backoff.
 */
export class WorkQueue {
  private readonly handler: KeyHandler;
  private readonly onError: ErrorReporter;
  private readonly logger: Logger;
  private readonly concurrency: number;
  private readonly backoff: BackoffOptions;
  private readonly clock: Clock;
  private readonly metrics: WorkQueueMetrics | undefined;
  /** Keys waiting for a worker, oldest first: those an event or a retry asked for. */
  private readonly ready: string[] = [];
  /** Keys of a sweep (a new leader looking at everything), taken only when `ready` is empty. */
  private readonly backlog: string[] = [];
  /** Which list a waiting key is to be taken from; a key in both (promoted) is taken once. */
  private readonly lanes = new Map<string, Lane>();
  /** Keys that must run (again): those in `ready` and those added while processing. */
  private readonly dirty = new Set<string>();
  private readonly processing = new Map<string, Promise<void>>();
  private readonly delayed = new Map<string, Delayed>();
  private readonly failures = new Map<string, number>();
  private drained: Promise<void> | undefined;

  constructor(options: WorkQueueOptions) {
    const concurrency = options.concurrency ?? 1;
    if (!Number.isInteger(concurrency) || concurrency < 1) {
      throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
    }
    this.handler = options.handler;
    this.onError = options.onError;
    this.logger = options.logger;
    this.concurrency = concurrency;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.clock = options.clock ?? systemClock;
    this.metrics = options.metrics;
    this.metrics?.workers(concurrency);
  }

  /**
   * Asks for the key to run. A key of the background lane waits until no other key does, so that
   * a sweep of thousands of keys never delays a change someone just made; an event for a key
   * waiting in the background moves it ahead.
   */
  add(key: string, lane: Lane = "events"): void {
    if (this.drained !== undefined) return;
    if (this.dirty.has(key)) {
      if (lane === "events" && this.lanes.get(key) === "background") this.enqueue(key, "events");
      return;
    }
    this.dirty.add(key);
    this.metrics?.added(key);
    this.metrics?.depth(this.dirty.size);
    // A key being processed is picked up again when its run ends (see settle).
    if (this.processing.has(key)) return;
    this.enqueue(key, lane);
  }

  private enqueue(key: string, lane: Lane): void {
    this.lanes.set(key, lane);
    (lane === "events" ? this.ready : this.backlog).push(key);
    this.pump();
  }

  private next(): string | undefined {
    for (const [list, lane] of [[this.ready, "events"], [this.backlog, "background"]] as const) {
      for (let key = list.shift(); key !== undefined; key = list.shift()) {
        if (this.lanes.get(key) !== lane) continue;
        this.lanes.delete(key);
        return key;
      }
    }
    return undefined;
  }

  /** Adds the key after a delay; when several delays are pending for one key, the earliest wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.drained !== undefined) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    this.metrics?.retried(key);
    const at = this.clock.now() + delayMs;
    const pending = this.delayed.get(key);
    if (pending !== undefined && pending.at <= at) return;
    pending?.cancel();
    const cancel = this.clock.after(delayMs, () => {
      this.delayed.delete(key);
      this.add(key);
    });
    this.delayed.set(key, { at, cancel });
  }

  /** Resets the key's backoff, as a success does. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  /** Keys waiting for a worker. */
  depth(): number {
    return this.lanes.size;
  }

  /** Keys being handled right now. */
  inFlight(): number {
    return this.processing.size;
  }

  /** Drops pending and delayed keys, refuses new ones, and resolves once in-flight keys are done. */
  shutdown(): Promise<void> {
    this.drained ??= this.drain();
    return this.drained;
  }

  private async drain(): Promise<void> {
    for (const { cancel } of this.delayed.values()) cancel();
    this.delayed.clear();
    this.ready.length = 0;
    this.backlog.length = 0;
    this.lanes.clear();
    this.dirty.clear();
    this.metrics?.depth(0);
    await Promise.all(this.processing.values());
  }

  private pump(): void {
    while (this.drained === undefined && this.processing.size < this.concurrency) {
      const key = this.next();
      if (key === undefined) return;
      this.dirty.delete(key);
      this.metrics?.depth(this.dirty.size);
      this.metrics?.started(key);
      this.processing.set(key, this.process(key));
    }
  }

  private async process(key: string): Promise<void> {
    // The handler starts on a later tick, once pump() has recorded the key as processing, so a
    // handler that re-adds its own key marks it dirty instead of starting a second run.
    const outcome = await Promise.resolve(key)
      .then(this.handler)
      .then(
        (result): Outcome => ({ ok: true, result }),
        (error: unknown): Outcome => ({ ok: false, error }),
      );
    this.settle(key, outcome);
  }

  private settle(key: string, outcome: Outcome): void {
    this.metrics?.finished(key, outcomeOf(outcome));
    if (outcome.ok) {
      this.failures.delete(key);
      const requeueAfterMs = outcome.result ? outcome.result.requeueAfterMs : undefined;
      if (requeueAfterMs !== undefined) this.addAfter(key, requeueAfterMs);
    } else {
      this.retry(key, outcome.error);
    }
    this.processing.delete(key);
    if (this.dirty.has(key)) this.enqueue(key, "events");
    else this.pump();
  }

  private retry(key: string, error: unknown): void {
    const attempt = (this.failures.get(key) ?? 0) + 1;
    this.failures.set(key, attempt);
    try {
      this.onError(key, error, attempt);
    } catch (reporterError) {
      // The reporter is the caller's; its failure must neither stop the queue nor hide the
      // handler's error, so both are logged.
      const handlerError = error instanceof Error ? error.message : String(error);
      this.logger.error({ key, attempt, handlerError, err: reporterError }, "work queue error reporter threw");
    }
    this.addAfter(key, backoffDelay(this.backoff, attempt));
  }
}

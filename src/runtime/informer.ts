import {
  ADD,
  DELETE,
  ERROR,
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  UPDATE,
  Watch,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type BackoffOptions, backoffDelay } from "./backoff.js";
import { type Clock, systemClock } from "./clock.js";
import { apiStatus, errorReason } from "./errors.js";
import type { ResourceSource } from "./sources.js";

export type InformerEvent = typeof ADD | typeof UPDATE | typeof DELETE;

/** Told about a change; callers only enqueue the object's key here, they reconcile elsewhere. */
export type ObjectHandler<T> = (object: T) => void;

export interface InformerOptions<T extends KubernetesObject> {
  kubeConfig: KubeConfig;
  source: ResourceSource<T>;
  /** Only objects matching this label selector, e.g. `app.kubernetes.io/managed-by=keygate`. */
  labelSelector?: string;
  logger: Logger;
  /** Delays between restarts after errors (default 1 s doubling up to 30 s). */
  backoff?: Partial<BackoffOptions>;
  clock?: Clock;
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, capMs: 30_000 };

/**
 * ListWatch re-watches from the Watch's done callback and leaves that promise unhandled, so a
 * watch that throws before connecting (e.g. credentials failing to load) would become an
 * unhandled rejection. Reporting it through `done` turns it into an error event instead.
 */
class ReportingWatch extends Watch {
  override async watch(...args: Parameters<Watch["watch"]>): ReturnType<Watch["watch"]> {
    try {
      return await super.watch(...args);
    } catch (error) {
      args[3](error);
      return new AbortController();
    }
  }
}

interface Attempt {
  failed: boolean;
}

/** A read-only view of an informer's objects: what reconcilers and admission rules read. */
export interface ObjectCache<T extends KubernetesObject = KubernetesObject> {
  get(namespace: string, name: string): T | undefined;
  list(namespace?: string): readonly T[];
}

/**
 * An informer that heals itself: client-node's ListWatch relists on 410 Gone but stops for
 * good on any other error; this one restarts it with exponential backoff, resuming the watch
 * from the last resourceVersion it saw (or relisting when that is gone), so nothing is missed.
 */
export class Informer<T extends KubernetesObject> implements ObjectCache<T> {
  private readonly listWatch: ListWatch<T>;
  private readonly kind: string;
  private readonly logger: Logger;
  private readonly backoff: BackoffOptions;
  private readonly clock: Clock;
  private readonly syncedPromise: Promise<void>;
  private resolveSynced: () => void = () => undefined;
  private rejectSynced: (error: Error) => void = () => undefined;
  private listed = false;
  private started = false;
  private stopped = false;
  private failures = 0;
  private attempt: Attempt = { failed: false };
  private cancelRestart: (() => void) | undefined;

  constructor(options: InformerOptions<T>) {
    const { source, labelSelector } = options;
    this.kind = source.kind;
    this.logger = options.logger;
    this.backoff = { ...DEFAULT_BACKOFF, ...options.backoff };
    this.clock = options.clock ?? systemClock;
    this.syncedPromise = new Promise<void>((resolve, reject) => {
      this.resolveSynced = resolve;
      this.rejectSynced = reject;
    });
    // Nobody may be waiting when stop() rejects it; that must not count as an unhandled rejection.
    this.syncedPromise.catch(() => undefined);
    const list = (): Promise<KubernetesListObject<T>> => this.listAndNote(source, labelSelector);
    this.listWatch = new ListWatch(source.path, new ReportingWatch(options.kubeConfig), list, false, labelSelector);
    this.listWatch.on(ERROR, (error: unknown) => this.fail(error));
  }

  on(event: InformerEvent, handler: ObjectHandler<T>): void {
    this.listWatch.on(event, (object: T) => this.deliver(event, handler, object));
  }

  start(): void {
    if (this.started) throw new Error(`the ${this.kind} informer was already started`);
    this.started = true;
    this.connect();
  }

  /** Resolves once the first list has filled the cache; rejects if stopped before that. */
  synced(): Promise<void> {
    return this.syncedPromise;
  }

  /** Cached objects, of one namespace or of all. */
  list(namespace?: string): readonly T[] {
    return this.listWatch.list(namespace);
  }

  get(namespace: string, name: string): T | undefined {
    return this.listWatch.get(name, namespace);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.cancelRestart?.();
    this.rejectSynced(new Error(`the ${this.kind} informer stopped before its first list`));
    await this.listWatch.stop();
  }

  private async listAndNote(source: ResourceSource<T>, labelSelector: string | undefined): Promise<KubernetesListObject<T>> {
    const result = await source.list(labelSelector);
    // ListWatch fills its cache from this result before it reports anything else, so by the
    // time start() settles or an error arrives, the cache holds the list.
    this.listed = true;
    return result;
  }

  private connect(): void {
    const attempt: Attempt = { failed: false };
    this.attempt = attempt;
    this.listWatch.start().then(
      () => this.connected(attempt),
      (error: unknown) => this.fail(error),
    );
  }

  private connected(attempt: Attempt): void {
    if (this.stopped || attempt.failed) return;
    this.failures = 0;
    this.markSyncedIfListed();
    this.logger.debug({ kind: this.kind }, "informer watching");
  }

  private fail(error: unknown): void {
    // Stopping aborts the watch, which ListWatch reports as an error.
    if (this.stopped) return;
    this.attempt.failed = true;
    this.markSyncedIfListed();
    if (this.cancelRestart !== undefined) return;
    this.failures += 1;
    const retryInMs = backoffDelay(this.backoff, this.failures);
    this.logger.warn(
      { kind: this.kind, code: apiStatus(error), error: errorReason(error), failures: this.failures, retryInMs },
      "informer failed; restarting",
    );
    this.cancelRestart = this.clock.after(retryInMs, () => {
      this.cancelRestart = undefined;
      this.connect();
    });
  }

  private markSyncedIfListed(): void {
    if (this.listed) this.resolveSynced();
  }

  private deliver(event: InformerEvent, handler: ObjectHandler<T>, object: T): void {
    try {
      handler(object);
    } catch (error) {
      // A throw here would escape into the watch stream's line parser, which drops it silently.
      const { namespace, name } = object.metadata ?? {};
      this.logger.error({ kind: this.kind, namespace, name, event, error: errorReason(error) }, "informer handler threw");
    }
  }
}

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
  /**
   * What the cache keeps of each object; by default the whole object, as sent. Handlers are
   * still given the whole object as it arrived; only the cache (`get`, `list`) and a delete that
   * a relist finds (the object went while the watch was down) see what this returns. For a
   * consumer that keeps a table of its own, `objectIdentity` keeps nothing but the identity; a
   * reconciler that reads the cache may keep all but what it never reads (`managedFields`,
   * say). Unlike client-go's SetTransform, handlers are not affected.
   *
   * It must keep `metadata.name`, `metadata.namespace` (the cache's key) and
   * `metadata.resourceVersion` (how a relist tells an unchanged object from a changed one), plus
   * whatever delete handlers read; it must not throw, and must not change its argument.
   */
  retain?: (object: T) => T;
}

/**
 * The smallest thing an informer can cache of an object: its name, namespace and
 * resourceVersion, and its uid unless `uid` is false (when no delete handler reads it).
 * Namespace strings are shared between the objects it returned.
 */
export function objectIdentity<T extends KubernetesObject>({ uid: keepUid = true } = {}): (object: T) => T {
  const namespaces = new Map<string, string>();
  const shared = (namespace: string | undefined): string | undefined => {
    if (namespace === undefined) return undefined;
    const known = namespaces.get(namespace);
    if (known !== undefined) return known;
    namespaces.set(namespace, namespace);
    return namespace;
  };
  return (object) => {
    const { name, namespace, uid, resourceVersion } = object.metadata ?? {};
    // Plain literals: a spread copy costs three times the memory here.
    const metadata = keepUid
      ? { name, namespace: shared(namespace), uid, resourceVersion }
      : { name, namespace: shared(namespace), resourceVersion };
    return { metadata } as T;
  };
}

const DEFAULT_BACKOFF: BackoffOptions = { baseMs: 1000, capMs: 30_000 };

/**
 * Objects as they arrived, by what the cache keeps of them (`retain`), from the moment they are
 * handed to ListWatch until its handlers have run: ListWatch caches and reports one and the same
 * object, and this is how the handlers get the whole one while the cache keeps the rest.
 */
class Arrivals<T extends KubernetesObject> {
  private readonly whole = new Map<T, T>();

  constructor(private readonly retain: ((object: T) => T) | undefined) {}

  /** What ListWatch is given in place of `object`. */
  enter(object: T): T {
    if (this.retain === undefined) return object;
    const kept = this.retain(object);
    if (kept !== object) this.whole.set(kept, object);
    return kept;
  }

  /** The whole object for what ListWatch reports (itself when it did not just arrive). */
  take(kept: T): T {
    const whole = this.whole.get(kept);
    if (whole === undefined) return kept;
    this.whole.delete(kept);
    return whole;
  }

  /** Listed objects that were not reported (unchanged since the last list) are not kept. */
  clear(): void {
    this.whole.clear();
  }
}

const OBJECT_EVENTS = new Set(["ADDED", "MODIFIED", "DELETED"]);

/**
 * ListWatch re-watches from the Watch's done callback and leaves that promise unhandled, so a
 * watch that throws before connecting (e.g. credentials failing to load) would become an
 * unhandled rejection. Reporting it through `done` turns it into an error event instead.
 * It also hands ListWatch what the cache keeps of each object that arrives (see Arrivals).
 */
class ReportingWatch<T extends KubernetesObject> extends Watch {
  constructor(
    kubeConfig: KubeConfig,
    private readonly arrivals: Arrivals<T>,
  ) {
    super(kubeConfig);
  }

  override async watch(...args: Parameters<Watch["watch"]>): ReturnType<Watch["watch"]> {
    // ListWatch watches right after it has reported a list, so what that list left is done with.
    this.arrivals.clear();
    const [path, query, callback, done] = args;
    const arrivals = this.arrivals;
    const keeping = (phase: string, object: unknown, event: unknown): void => {
      if (!OBJECT_EVENTS.has(phase)) {
        callback(phase, object, event);
        return;
      }
      // ListWatch reports the object before the call returns; whatever it did not report goes.
      const kept = arrivals.enter(object as T);
      try {
        callback(phase, kept, event);
      } finally {
        arrivals.take(kept);
      }
    };
    try {
      return await super.watch(path, query, keeping, done);
    } catch (error) {
      done(error);
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
  private readonly arrivals: Arrivals<T>;
  private readonly handlers: Record<InformerEvent, ObjectHandler<T>[]> = { [ADD]: [], [UPDATE]: [], [DELETE]: [] };
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
    this.arrivals = new Arrivals(options.retain);
    const list = (): Promise<KubernetesListObject<T>> => this.listAndNote(source, labelSelector);
    this.listWatch = new ListWatch(source.path, new ReportingWatch(options.kubeConfig, this.arrivals), list, false, labelSelector);
    this.listWatch.on(ERROR, (error: unknown) => this.fail(error));
    for (const event of [ADD, UPDATE, DELETE] as const) {
      this.listWatch.on(event, (object: T) => this.dispatch(event, object));
    }
  }

  on(event: InformerEvent, handler: ObjectHandler<T>): void {
    this.handlers[event].push(handler);
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
    this.arrivals.clear();
  }

  private async listAndNote(source: ResourceSource<T>, labelSelector: string | undefined): Promise<KubernetesListObject<T>> {
    const result = await source.list(labelSelector);
    // ListWatch fills its cache from this result before it reports anything else, so by the
    // time start() settles or an error arrives, the cache holds the list.
    this.listed = true;
    return { ...result, items: result.items.map((object) => this.arrivals.enter(object)) };
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

  private dispatch(event: InformerEvent, reported: T): void {
    const object = this.arrivals.take(reported);
    for (const handler of this.handlers[event]) this.deliver(event, handler, object);
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

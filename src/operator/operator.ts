import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { API_VERSION, GROUP, VERSION } from "../api/group.js";
import { loadOrCreateKek } from "../keystore/kek.js";
import { DEFAULT_USER_MAPPING, type UserMapping } from "../runtime/user-mapping.js";
import type { ControllerContext, Controller as KindController, KindCaches, KindModule, OperatorSettings } from "../kinds/kind.js";
import { kinds } from "../kinds/registry.js";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../labels.js";
import { type Clock, systemClock } from "../runtime/clock.js";
import { apiStatus, errorReason } from "../runtime/errors.js";
import { EventRecorder, type EventSink, eventSink } from "../runtime/events.js";
import { ControllerMetrics } from "../runtime/controller-metrics.js";
import { Informer, type ObjectCache } from "../runtime/informer.js";
import { type Inventory, registerInventoryMetrics } from "../runtime/inventory-metrics.js";
import { MetricsServer } from "../runtime/metrics-server.js";
import { keyOf, splitKey } from "../runtime/keys.js";
import { LeaderElector } from "../runtime/leader.js";
import { type Lane, WorkQueue, type WorkQueueMetrics } from "../runtime/queue.js";
import { builtinSource, customResourceSource } from "../runtime/sources.js";
import { AdmissionWebhook, type WebhookOptions } from "./webhook.js";
import { DEFAULT_RELYING_PARTY, type RelyingParty } from "../webauthn/relying-party.js";

export interface OperatorOptions {
  kc: k8s.KubeConfig;
  /** The operator's own namespace: KEK, keystore records, webhook certificate, leader Lease. */
  namespace: string;
  /** This replica's name (the pod name in a cluster). */
  identity: string;
  webhook: WebhookOptions;
  recycleRetentionMs: number;
  /** Ceiling on a TemporaryCredential's durationSeconds; at most 129600 (default 86400). */
  maxSessionSeconds?: number;
  /** How long an expired TemporaryCredential stays before it is deleted (default 1 h). */
  sessionRetentionMs?: number;
  leaderElection: boolean;
  /** Where /metrics is served; unset: no metrics server (tests that do not read it). */
  metrics?: { host: string; port: number };
  log: Logger;
  clock?: Clock;
  /** Test-only fault injection point, right after a keystore record is written. */
  afterRecordWrite?: (namespace: string) => void;
  /** How Kubernetes usernames map to keygate users (default: no prefix removed). */
  userMapping?: UserMapping;
  /** Who keygate is to security keys (default: localhost, any port). */
  relyingParty?: RelyingParty;
}

export interface RunningOperator {
  webhookPort: number;
  /** The port /metrics listens on, when a metrics address was given. */
  metricsPort?: number;
  registerWebhook(): Promise<void>;
  unregisterWebhook(): Promise<void>;
  /** Shutdown has begun: the webhook keeps answering but hands its connections back. */
  drain(): void;
  stop(): Promise<void>;
}

export const LEASE_NAME = "keygate-operator";

/**
 * Campaigns for the Lease for as long as the operator runs. An elector is done once its
 * leadership ends (the API server unreachable past the renew deadline, say); a replica then
 * campaigns again with a fresh one rather than stay up as a follower forever.
 */
class Campaign {
  private elector?: LeaderElector;
  private stopping = false;
  private readonly running: Promise<void>;

  constructor(
    private readonly options: OperatorOptions,
    private readonly clock: Clock,
    private readonly callbacks: { lead: () => void; follow: () => Promise<void> },
    private readonly metrics: ControllerMetrics,
  ) {
    this.running = this.loop();
  }

  private async loop(): Promise<void> {
    const { kc, namespace, identity, log } = this.options;
    while (!this.stopping) {
      this.elector = new LeaderElector({
        api: kc.makeApiClient(k8s.CoordinationV1Api),
        namespace,
        name: LEASE_NAME,
        identity,
        logger: log,
        clock: this.clock,
        metrics: this.metrics,
      });
      await this.elector.run({ onStartedLeading: this.callbacks.lead, onStoppedLeading: this.callbacks.follow });
      if (!this.stopping) log.warn({ identity }, "leadership ended; campaigning again");
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.elector?.stop();
    await this.running;
  }
}

export const MAX_SESSION_SECONDS_LIMIT = 129_600;
const DEFAULT_MAX_SESSION_SECONDS = 86_400;
const DEFAULT_SESSION_RETENTION_MS = 60 * 60 * 1000;

function maxSessionSeconds(options: OperatorOptions): number {
  const value = options.maxSessionSeconds ?? DEFAULT_MAX_SESSION_SECONDS;
  if (!Number.isInteger(value) || value < 900 || value > MAX_SESSION_SECONDS_LIMIT) {
    throw new Error(`maximum session duration must be 900 to ${MAX_SESSION_SECONDS_LIMIT} seconds, not ${value}`);
  }
  return value;
}

/** One kind at run time: its module, its cache of objects, its controller, and its queue while leading. */
interface RunningKind {
  module: KindModule;
  informer: Informer<k8s.KubernetesObject>;
  controller?: KindController;
  queue?: WorkQueue;
  /** One set of series per controller for the process's life, whichever queue feeds it. */
  queueMetrics?: WorkQueueMetrics;
}

function kindCaches(running: readonly RunningKind[]): KindCaches {
  const byPlural = new Map(running.map((entry) => [entry.module.definition.plural, entry.informer]));
  return {
    of(plural) {
      const cache = byPlural.get(plural);
      if (!cache) throw new Error(`no keygate kind has the plural ${plural}`);
      return cache;
    },
  };
}

// Every kind adds its counts; a standby replica's caches are as full as the leader's.
function inventoryOf(running: readonly RunningKind[], now: Date): Inventory {
  const empty: Inventory = { accessKeys: {}, activeAccessKeyAgesSeconds: [], staleAccessKeys: 0, temporaryCredentialsLive: 0, mfaDevicesBound: 0 };
  return running.reduce<Inventory>((total, entry) => ({ ...total, ...entry.module.inventory?.(entry.informer.list(), now) }), empty);
}

async function serveMetrics(options: OperatorOptions, metrics: ControllerMetrics): Promise<{ server: MetricsServer; port: number } | undefined> {
  if (!options.metrics) return undefined;
  const server = new MetricsServer(metrics.registry, options.log);
  return { server, port: await server.listen(options.metrics.host, options.metrics.port) };
}

function kindInformer(options: OperatorOptions, module: KindModule): Informer<k8s.KubernetesObject> {
  const { kc, log } = options;
  const { plural, kind } = module.definition;
  return new Informer<k8s.KubernetesObject>({
    kubeConfig: kc,
    source: customResourceSource(kc, { group: GROUP, version: VERSION, plural, kind }),
    logger: log,
  });
}

function enqueueObject(running: RunningKind, namespace: string | undefined, name: string | undefined, lane?: Lane): void {
  if (name) running.queue?.add(keyOf({ namespace, name }), lane);
}

/**
 * A new leader looks again at every object its caches do not show settled, behind any change
 * made meanwhile: with thousands of keys, a key created right after a failover is issued at once.
 */
function sweep(entry: RunningKind, issuedSecrets: ObjectCache<k8s.V1Secret>, caches: KindCaches): { queued: number; upToDate: number } {
  let upToDate = 0;
  for (const object of entry.informer.list()) {
    if (entry.module.upToDate?.(object, issuedSecrets, caches)) upToDate += 1;
    else enqueueObject(entry, object.metadata?.namespace, object.metadata?.name, "background");
  }
  return { queued: entry.informer.list().length - upToDate, upToDate };
}

// Another kind's change wakes the objects of this one it bears on, as the watch names them.
function wireWatches(entry: RunningKind, running: readonly RunningKind[], caches: KindCaches): void {
  for (const watch of entry.module.watches ?? []) {
    const source = running.find((candidate) => candidate.module.definition.plural === watch.plural);
    if (!source) throw new Error(`${entry.module.definition.kind} watches ${watch.plural}, which no keygate kind is`);
    for (const event of ["add", "update", "delete"] as const) {
      source.informer.on(event, (object) => {
        for (const key of watch.keysFor(event, object, caches)) enqueueObject(entry, key.namespace, key.name);
      });
    }
  }
}

// Events only enqueue keys; an issued Secret maps back to its owner, so deleting or editing it
// is noticed at once.
function wire(running: readonly RunningKind[], issuedSecrets: Informer<k8s.V1Secret>, caches: KindCaches): void {
  for (const entry of running) {
    wireWatches(entry, running, caches);
    const onObject = (object: k8s.KubernetesObject): void => enqueueObject(entry, object.metadata?.namespace, object.metadata?.name);
    for (const event of ["add", "update", "delete"] as const) entry.informer.on(event, onObject);
    const { module, informer } = entry;
    for (const event of ["update", "delete"] as const) {
      informer.on(event, (object) => {
        for (const peer of module.wakePeers?.(event, object, informer) ?? []) enqueueObject(entry, peer.namespace, peer.name);
      });
    }
  }
  const onSecret = (secret: k8s.V1Secret): void => {
    for (const entry of running) {
      const label = entry.module.secretLabel;
      if (label) enqueueObject(entry, secret.metadata?.namespace, secret.metadata?.labels?.[label]);
    }
  };
  for (const event of ["add", "update", "delete"] as const) issuedSecrets.on(event, onSecret);
}

// Reconciles are mostly waiting on the API server; measured in bench/scale/issuance.ts.
const RECONCILE_CONCURRENCY = 16;

interface QueueDeps {
  options: OperatorOptions;
  clock: Clock;
  metrics: ControllerMetrics;
}

function newQueue(entry: RunningKind, controller: KindController, { options, clock, metrics }: QueueDeps): WorkQueue {
  const { log } = options;
  const kind = entry.module.definition.kind;
  return new WorkQueue({
    handler: (key) => {
      const { namespace = "", name } = splitKey(key);
      return controller.reconcile(namespace, name);
    },
    onError: (key, error, attempt) => {
      // A conflict only means someone wrote first; the retry decides again from fresh state.
      const level = apiStatus(error) === 409 ? "debug" : "warn";
      log[level]({ kind, key, attempt, reason: errorReason(error) }, "reconcile failed; retrying");
    },
    logger: log,
    concurrency: RECONCILE_CONCURRENCY,
    clock,
    metrics: entry.queueMetrics ??= metrics.controller(kind.toLowerCase()),
  });
}

function settingsOf(options: OperatorOptions): OperatorSettings {
  return {
    namespace: options.namespace,
    recycleRetentionMs: options.recycleRetentionMs,
    maxSessionSeconds: maxSessionSeconds(options),
    sessionRetentionMs: options.sessionRetentionMs ?? DEFAULT_SESSION_RETENTION_MS,
    relyingParty: options.relyingParty ?? DEFAULT_RELYING_PARTY,
    afterRecordWrite: options.afterRecordWrite,
  };
}

/**
 * Runs keygate's operator: every replica serves the admission webhook from its caches; only the
 * leader reconciles (and does each kind's leader-only work, such as purging the recycle bin).
 */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const { kc, log, namespace } = options;
  const settings = settingsOf(options);
  const clock = options.clock ?? systemClock;
  const now = (): Date => new Date(clock.now());
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const keks = await loadOrCreateKek(core, namespace);
  const events: EventSink = eventSink(new EventRecorder({ api: kc.makeApiClient(k8s.EventsV1Api), identity: options.identity, logger: log, clock }), API_VERSION);
  const running: RunningKind[] = kinds.map((module) => ({ module, informer: kindInformer(options, module) }));
  const issuedSecrets = new Informer<k8s.V1Secret>({
    kubeConfig: kc,
    source: builtinSource<k8s.V1Secret>(kc, { apiVersion: "v1", plural: "secrets", kind: "Secret" }),
    labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}`,
    logger: log,
  });
  const caches = kindCaches(running);
  wire(running, issuedSecrets, caches);
  const informers = [...running.map((entry) => entry.informer), issuedSecrets];
  for (const informer of informers) informer.start();
  for (const entry of running) {
    const context: ControllerContext = { core, custom, keks, cache: entry.informer, caches, events, clock: now, log, settings };
    entry.controller = entry.module.controller(context);
  }

  const metrics = new ControllerMetrics({ processMetrics: true });
  registerInventoryMetrics(metrics.registry, () => inventoryOf(running, now()));
  await Promise.all(informers.map((informer) => informer.synced()));
  const metricsServer = await serveMetrics(options, metrics);
  const webhook = new AdmissionWebhook(kc, namespace, options.webhook, log);
  const webhookPort = await webhook.start(
    running.flatMap((entry) => (entry.module.admission ? [{ plural: entry.module.definition.plural, cache: entry.informer, ...entry.module.admission }] : [])),
    { caches, userMapping: options.userMapping ?? DEFAULT_USER_MAPPING, keks },
    now,
  );
  log.info({ identity: options.identity, webhookPort }, "caches synced; serving the admission webhook");

  const lead = (): void => {
    for (const entry of running) {
      if (!entry.controller) continue;
      entry.queue = newQueue(entry, entry.controller, { options, clock, metrics });
      const swept = sweep(entry, issuedSecrets, caches);
      log.info({ kind: entry.module.definition.kind, ...swept }, "leading: looking again at what is not settled");
      entry.controller.startLeading?.();
    }
    log.info({ identity: options.identity }, "leading: reconciling");
  };
  const follow = async (): Promise<void> => {
    for (const entry of running) entry.controller?.stopLeading?.();
    await Promise.all(running.map((entry) => entry.queue?.shutdown() ?? Promise.resolve()));
    for (const entry of running) entry.queue = undefined;
  };

  const campaign = options.leaderElection ? new Campaign(options, clock, { lead, follow }, metrics) : undefined;
  if (!campaign) lead();

  return {
    webhookPort,
    metricsPort: metricsServer?.port,
    registerWebhook: () => webhook.register(),
    unregisterWebhook: () => webhook.unregister(),
    drain: () => webhook.drain(),
    stop: async () => {
      await (campaign ? campaign.stop() : follow());
      await webhook.stop();
      await metricsServer?.server.close();
      await Promise.all(informers.map((informer) => informer.stop()));
    },
  };
}

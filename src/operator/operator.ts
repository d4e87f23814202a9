import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ACCESS_KEY_KIND } from "../api/accesskey.js";
import { API_VERSION, GROUP, VERSION } from "../api/group.js";
import { ACCESS_KEY_PLURAL, AccessKeyReconciler, type EventSink } from "../kinds/accesskey/reconciler.js";
import { RecordStore } from "../keystore/access-key-store.js";
import { MFA_DEVICE_KIND } from "../api/mfadevice.js";
import { MFA_DEVICE_LABEL } from "../kinds/mfadevice/issued-secret.js";
import { MFA_DEVICE_PLURAL, MfaReconciler } from "../kinds/mfadevice/reconciler.js";
import { MfaRecordStore } from "../keystore/mfa-store.js";
import { MfaChecker } from "../otp/checker.js";
import { TEMPORARY_CREDENTIAL_KIND } from "../api/temporarycredential.js";
import { TEMPORARY_CREDENTIAL_LABEL } from "../kinds/temporarycredential/issued-secret.js";
import { TEMPORARY_CREDENTIAL_PLURAL, TemporaryCredentialReconciler } from "../kinds/temporarycredential/reconciler.js";
import { loadOrCreateKek } from "../keystore/kek.js";
import { ACCESS_KEY_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from "../labels.js";
import { type Clock, systemClock } from "../runtime/clock.js";
import { apiStatus, errorReason } from "../runtime/errors.js";
import { EventRecorder } from "../runtime/events.js";
import { Informer } from "../runtime/informer.js";
import { keyOf, splitKey } from "../runtime/keys.js";
import { LeaderElector } from "../runtime/leader.js";
import { type ReconcileResult, WorkQueue } from "../runtime/queue.js";
import { builtinSource, customResourceSource } from "../runtime/sources.js";
import { RecyclePurger } from "../kinds/accesskey/purger.js";
import { AdmissionWebhook, type WebhookOptions } from "./webhook.js";

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
  log: Logger;
  clock?: Clock;
  /** Test-only fault injection point, right after a keystore record is written. */
  afterRecordWrite?: () => void;
}

export interface RunningOperator {
  webhookPort: number;
  registerWebhook(): Promise<void>;
  unregisterWebhook(): Promise<void>;
  stop(): Promise<void>;
}

export const LEASE_NAME = "keygate-operator";

function eventSink(recorder: EventRecorder): EventSink {
  return {
    emit: (object, type, reason, message) =>
      recorder.record({
        regarding: {
          apiVersion: object.apiVersion ?? API_VERSION,
          kind: object.kind ?? ACCESS_KEY_KIND,
          namespace: object.metadata?.namespace,
          name: object.metadata?.name ?? "",
          uid: object.metadata?.uid,
        },
        type,
        reason,
        note: message,
      }),
  };
}

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

type Reconcile = (namespace: string, name: string) => Promise<ReconcileResult | void>;

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

/** One kind's controller: its cache of objects, and the label its issued Secrets carry. */
interface Controller {
  kind: string;
  informer: Informer<k8s.KubernetesObject>;
  secretLabel: string;
  queue?: WorkQueue;
}

function kindInformer(options: OperatorOptions, plural: string, kind: string): Informer<k8s.KubernetesObject> {
  const { kc, log } = options;
  return new Informer<k8s.KubernetesObject>({
    kubeConfig: kc,
    source: customResourceSource(kc, { group: GROUP, version: VERSION, plural, kind }),
    logger: log,
  });
}

function enqueueObject(controller: Controller, namespace: string | undefined, name: string | undefined): void {
  if (name) controller.queue?.add(keyOf({ namespace, name }));
}

// Events only enqueue keys; an issued Secret maps back to its owner, so deleting or editing it
// is noticed at once.
function wire(controllers: readonly Controller[], issuedSecrets: Informer<k8s.V1Secret>): void {
  for (const controller of controllers) {
    const onObject = (object: k8s.KubernetesObject): void =>
      enqueueObject(controller, object.metadata?.namespace, object.metadata?.name);
    for (const event of ["add", "update", "delete"] as const) controller.informer.on(event, onObject);
  }
  const onSecret = (secret: k8s.V1Secret): void => {
    for (const controller of controllers) {
      enqueueObject(controller, secret.metadata?.namespace, secret.metadata?.labels?.[controller.secretLabel]);
    }
  };
  for (const event of ["add", "update", "delete"] as const) issuedSecrets.on(event, onSecret);
}

function newQueue(controller: Controller, reconcile: Reconcile, options: OperatorOptions, clock: Clock): WorkQueue {
  const { log } = options;
  return new WorkQueue({
    handler: (key) => {
      const { namespace = "", name } = splitKey(key);
      return reconcile(namespace, name);
    },
    onError: (key, error, attempt) => {
      // A conflict only means someone wrote first; the retry decides again from fresh state.
      const level = apiStatus(error) === 409 ? "debug" : "warn";
      log[level]({ kind: controller.kind, key, attempt, reason: errorReason(error) }, "reconcile failed; retrying");
    },
    logger: log,
    concurrency: 4,
    clock,
  });
}

/**
 * Runs keygate's operator: every replica serves the admission webhook from its caches; only the
 * leader reconciles and purges the recycle bin.
 */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const { kc, log, namespace } = options;
  const sessionCeiling = maxSessionSeconds(options);
  const clock = options.clock ?? systemClock;
  const now = (): Date => new Date(clock.now());
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const keks = await loadOrCreateKek(core, namespace);
  const events = eventSink(new EventRecorder({ api: kc.makeApiClient(k8s.EventsV1Api), identity: options.identity, logger: log, clock }));
  const keys: Controller = { kind: ACCESS_KEY_KIND, informer: kindInformer(options, ACCESS_KEY_PLURAL, ACCESS_KEY_KIND), secretLabel: ACCESS_KEY_LABEL };
  const devices: Controller = { kind: MFA_DEVICE_KIND, informer: kindInformer(options, MFA_DEVICE_PLURAL, MFA_DEVICE_KIND), secretLabel: MFA_DEVICE_LABEL };
  const sessions: Controller = {
    kind: TEMPORARY_CREDENTIAL_KIND,
    informer: kindInformer(options, TEMPORARY_CREDENTIAL_PLURAL, TEMPORARY_CREDENTIAL_KIND),
    secretLabel: TEMPORARY_CREDENTIAL_LABEL,
  };
  const controllers = [keys, devices, sessions];
  const issuedSecrets = new Informer<k8s.V1Secret>({
    kubeConfig: kc,
    source: builtinSource<k8s.V1Secret>(kc, { apiVersion: "v1", plural: "secrets", kind: "Secret" }),
    labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY}`,
    logger: log,
  });
  wire(controllers, issuedSecrets);
  const informers = [...controllers.map((controller) => controller.informer), issuedSecrets];
  for (const informer of informers) informer.start();

  const records = new RecordStore(core, namespace);
  const accessKeys = new AccessKeyReconciler({
    core,
    custom,
    records,
    keks,
    cache: keys.informer,
    events,
    clock: now,
    recycleRetentionMs: options.recycleRetentionMs,
    log,
    afterRecordWrite: options.afterRecordWrite,
  });
  const mfaRecords = new MfaRecordStore(core, namespace);
  const mfaDevices = new MfaReconciler({
    core,
    custom,
    records: mfaRecords,
    keks,
    cache: devices.informer,
    events,
    clock: now,
    log,
  });
  const temporaryCredentials = new TemporaryCredentialReconciler({
    core,
    custom,
    keks,
    mfa: new MfaChecker({ records: mfaRecords, keks: () => keks, now, log }),
    events,
    clock: now,
    maxSessionSeconds: sessionCeiling,
    retentionMs: options.sessionRetentionMs ?? DEFAULT_SESSION_RETENTION_MS,
    log,
  });
  const reconcilers = new Map<Controller, Reconcile>([
    [keys, (ns, name) => accessKeys.reconcile(ns, name)],
    [devices, (ns, name) => mfaDevices.reconcile(ns, name)],
    [sessions, (ns, name) => temporaryCredentials.reconcile(ns, name)],
  ]);
  const purger = new RecyclePurger({ records, retentionMs: options.recycleRetentionMs, now, log });

  await Promise.all(informers.map((informer) => informer.synced()));
  const webhook = new AdmissionWebhook(kc, namespace, options.webhook, log);
  const webhookPort = await webhook.start({ keys: keys.informer, devices: devices.informer }, now);

  const lead = (): void => {
    for (const [controller, reconcile] of reconcilers) {
      controller.queue = newQueue(controller, reconcile, options, clock);
      for (const object of controller.informer.list()) enqueueObject(controller, object.metadata?.namespace, object.metadata?.name);
    }
    purger.start();
    log.info({ identity: options.identity }, "leading: reconciling");
  };
  const follow = async (): Promise<void> => {
    purger.stop();
    await Promise.all(controllers.map((controller) => controller.queue?.shutdown() ?? Promise.resolve()));
    for (const controller of controllers) controller.queue = undefined;
  };

  const campaign = options.leaderElection ? new Campaign(options, clock, { lead, follow }) : undefined;
  if (!campaign) lead();

  return {
    webhookPort,
    registerWebhook: () => webhook.register(),
    unregisterWebhook: () => webhook.unregister(),
    stop: async () => {
      await (campaign ? campaign.stop() : follow());
      await webhook.stop();
      await Promise.all(informers.map((informer) => informer.stop()));
    },
  };
}

import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ACCESS_KEY_KIND } from "../api/accesskey.js";
import { API_VERSION, GROUP, VERSION } from "../api/group.js";
import { ACCESS_KEY_PLURAL, AccessKeyReconciler, type EventSink } from "../accesskey/reconciler.js";
import { RecordStore } from "../accesskey/store.js";
import { loadOrCreateKek } from "../keystore/kek.js";
import { ACCESS_KEY_LABEL, MANAGED_BY, MANAGED_BY_LABEL } from "../labels.js";
import { type Clock, systemClock } from "../runtime/clock.js";
import { apiStatus, errorReason } from "../runtime/errors.js";
import { EventRecorder } from "../runtime/events.js";
import { Informer } from "../runtime/informer.js";
import { keyOf, splitKey } from "../runtime/keys.js";
import { LeaderElector } from "../runtime/leader.js";
import { WorkQueue } from "../runtime/queue.js";
import { builtinSource, customResourceSource } from "../runtime/sources.js";
import { RecyclePurger } from "./purger.js";
import { AdmissionWebhook, type WebhookOptions } from "./webhook.js";

export interface OperatorOptions {
  kc: k8s.KubeConfig;
  /** The operator's own namespace: KEK, keystore records, webhook certificate, leader Lease. */
  namespace: string;
  /** This replica's name (the pod name in a cluster). */
  identity: string;
  webhook: WebhookOptions;
  recycleRetentionMs: number;
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

interface Controllers {
  keys: Informer<k8s.KubernetesObject>;
  issuedSecrets: Informer<k8s.V1Secret>;
}

function startInformers(options: OperatorOptions, enqueue: (key: string) => void): Controllers {
  const { kc, log } = options;
  const keys = new Informer<k8s.KubernetesObject>({
    kubeConfig: kc,
    source: customResourceSource(kc, { group: GROUP, version: VERSION, plural: ACCESS_KEY_PLURAL, kind: ACCESS_KEY_KIND }),
    logger: log,
  });
  const onKey = (object: k8s.KubernetesObject): void => {
    if (object.metadata?.name) enqueue(keyOf({ namespace: object.metadata.namespace, name: object.metadata.name }));
  };
  for (const event of ["add", "update", "delete"] as const) keys.on(event, onKey);
  // An issued Secret maps back to its AccessKey, so deleting or editing it is noticed at once.
  const issuedSecrets = new Informer<k8s.V1Secret>({
    kubeConfig: kc,
    source: builtinSource<k8s.V1Secret>(kc, { apiVersion: "v1", plural: "secrets", kind: "Secret" }),
    labelSelector: `${MANAGED_BY_LABEL}=${MANAGED_BY},${ACCESS_KEY_LABEL}`,
    logger: log,
  });
  const onSecret = (secret: k8s.V1Secret): void => {
    const owner = secret.metadata?.labels?.[ACCESS_KEY_LABEL];
    if (owner) enqueue(keyOf({ namespace: secret.metadata?.namespace, name: owner }));
  };
  for (const event of ["add", "update", "delete"] as const) issuedSecrets.on(event, onSecret);
  keys.start();
  issuedSecrets.start();
  return { keys, issuedSecrets };
}

/**
 * Runs keygate's operator: every replica serves the admission webhook from its caches; only the
 * leader reconciles and purges the recycle bin.
 */
export async function startOperator(options: OperatorOptions): Promise<RunningOperator> {
  const { kc, log, namespace } = options;
  const clock = options.clock ?? systemClock;
  const now = (): Date => new Date(clock.now());
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const keks = await loadOrCreateKek(core, namespace);
  let queue: WorkQueue | undefined;
  const controllers = startInformers(options, (key) => queue?.add(key));
  const webhook = new AdmissionWebhook(kc, namespace, options.webhook, log);
  const records = new RecordStore(core, namespace);
  const reconciler = new AccessKeyReconciler({
    core,
    custom: kc.makeApiClient(k8s.CustomObjectsApi),
    records,
    keks,
    cache: controllers.keys,
    events: eventSink(new EventRecorder({ api: kc.makeApiClient(k8s.EventsV1Api), identity: options.identity, logger: log, clock })),
    clock: now,
    recycleRetentionMs: options.recycleRetentionMs,
    log,
    afterRecordWrite: options.afterRecordWrite,
  });
  const purger = new RecyclePurger({ records, retentionMs: options.recycleRetentionMs, now, log });

  await Promise.all([controllers.keys.synced(), controllers.issuedSecrets.synced()]);
  const webhookPort = await webhook.start(controllers.keys, now);

  const lead = (): void => {
    queue = new WorkQueue({
      handler: async (key) => {
        const { namespace: keyNamespace = "", name } = splitKey(key);
        await reconciler.reconcile(keyNamespace, name);
      },
      onError: (key, error, attempt) => {
        // A conflict only means someone wrote first; the retry decides again from fresh state.
        const level = apiStatus(error) === 409 ? "debug" : "warn";
        log[level]({ kind: ACCESS_KEY_KIND, key, attempt, reason: errorReason(error) }, "reconcile failed; retrying");
      },
      logger: log,
      concurrency: 4,
      clock,
    });
    for (const object of controllers.keys.list()) {
      if (object.metadata?.name) queue.add(keyOf({ namespace: object.metadata.namespace, name: object.metadata.name }));
    }
    purger.start();
    log.info({ identity: options.identity }, "leading: reconciling");
  };
  const follow = async (): Promise<void> => {
    purger.stop();
    await queue?.shutdown();
    queue = undefined;
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
      await Promise.all([controllers.keys.stop(), controllers.issuedSecrets.stop()]);
    },
  };
}

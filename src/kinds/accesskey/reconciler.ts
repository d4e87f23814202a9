import { isDeepStrictEqual } from "node:util";
import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ACCESS_KEY_KIND, type AccessKey, parseAccessKey } from "../../api/accesskey.js";
import { API_VERSION } from "../../api/group.js";
import { generateAccessKeyId, generateSecretAccessKey } from "../../credentials/generate.js";
import type { KekSet } from "../../keystore/kek.js";
import { type KeyRecord, openSecret, sealSecret } from "../../keystore/record.js";
import { FINALIZER } from "../../labels.js";
import { controllerReference, createOwnedSecret, KindClient, observeSecret } from "../../runtime/kube.js";
import { type AccessKeyObservation, decide, secretNameOf, type Step } from "./decide.js";
import { buildIssuedSecret } from "./issued-secret.js";
import { Reason } from "./reasons.js";
import { desiredStatus, transitionEvents } from "./status.js";
import type { RecordStore } from "../../keystore/access-key-store.js";

export const ACCESS_KEY_PLURAL = "accesskeys";

export interface ObjectCache {
  get(namespace: string, name: string): k8s.KubernetesObject | undefined;
  list(): readonly k8s.KubernetesObject[];
}

export interface EventSink {
  emit(object: k8s.KubernetesObject, type: "Normal" | "Warning", reason: string, message: string): Promise<void>;
}

export interface AccessKeyReconcilerDeps {
  core: k8s.CoreV1Api;
  custom: k8s.CustomObjectsApi;
  records: RecordStore;
  keks: KekSet;
  cache: ObjectCache;
  events: EventSink;
  clock: () => Date;
  recycleRetentionMs: number;
  log: Logger;
  /** Test-only fault injection: called right after a new record is written, before its Secret. */
  afterRecordWrite?: () => void;
}

// Each step changes one thing; a reconcile applies steps until nothing is left or this bound is
// hit (then it is simply queued again).
const MAX_STEPS = 8;

function peersOf(cache: ObjectCache, key: AccessKey): AccessKey[] {
  return cache
    .list()
    .map((object) => parseAccessKey(object))
    .flatMap((result) => (result.ok ? [result.value] : []))
    .filter((peer) => peer.metadata.namespace === key.metadata.namespace && peer.spec.user === key.spec.user);
}

export class AccessKeyReconciler {
  private readonly kind: KindClient;

  constructor(private readonly deps: AccessKeyReconcilerDeps) {
    this.kind = new KindClient(deps.custom, ACCESS_KEY_PLURAL);
  }

  /** Reconciles one AccessKey by `namespace/name` from the state of the world, whatever event fired. */
  async reconcile(namespace: string, name: string): Promise<void> {
    for (let steps = 0; steps < MAX_STEPS; steps++) {
      const raw = await this.kind.read(namespace, name);
      if (!raw) return;
      const parsed = parseAccessKey(raw);
      if (!parsed.ok) {
        this.deps.log.warn({ kind: ACCESS_KEY_KIND, namespace, name, issues: parsed.error.issues }, "invalid AccessKey ignored");
        return;
      }
      const observation = await this.gather(parsed.value);
      const step = decide(observation);
      this.deps.log.debug({ kind: ACCESS_KEY_KIND, namespace, name, step: step.kind }, "reconcile step");
      if (step.kind === "none") {
        await this.writeStatus(raw, observation, step);
        return;
      }
      await this.act(parsed.value, raw, step);
    }
  }

  private async gather(key: AccessKey): Promise<AccessKeyObservation> {
    const uid = key.metadata.uid ?? "";
    const record = await this.deps.records.findByOwner(uid);
    const restoreFrom = key.spec.restoreFrom;
    const restoreCandidate = !record && restoreFrom ? await this.deps.records.get(restoreFrom) : undefined;
    return {
      key,
      peers: peersOf(this.deps.cache, key),
      record,
      restoreCandidate,
      secret: await observeSecret(this.deps.core, key.metadata.namespace ?? "", secretNameOf(key), uid),
      now: this.deps.clock(),
      recycleRetentionMs: this.deps.recycleRetentionMs,
    };
  }

  private act(key: AccessKey, raw: k8s.KubernetesObject, step: Exclude<Step, { kind: "none" }>): Promise<void> {
    switch (step.kind) {
      case "addFinalizer":
        return this.kind.setFinalizers(raw, [...(key.metadata.finalizers ?? []), FINALIZER]);
      case "removeFinalizer":
        return this.kind.setFinalizers(raw, (key.metadata.finalizers ?? []).filter((f) => f !== FINALIZER));
      case "generateRecord":
        return this.generateRecord(key);
      case "claimRecord":
        return this.claimRecord(key, raw, step.record);
      case "writeSecret":
        return this.writeSecret(key, raw, step.record, step.secretName);
      case "recycle":
        return this.recycle(raw, step.record);
      default:
        return this.updateRecord(step);
    }
  }

  private async updateRecord(step: Extract<Step, { kind: "setRecordState" | "markIssued" }>): Promise<void> {
    const record =
      step.kind === "setRecordState" ? { ...step.record, state: step.state } : { ...step.record, issuedSecret: step.secretName };
    await this.deps.records.update(record);
  }

  // The record is written before the Secret: a crash in between leaves a record that the next
  // reconcile finds by uid and re-uses, so a second secret is never generated.
  private async generateRecord(key: AccessKey): Promise<void> {
    const namespace = key.metadata.namespace ?? "";
    const accessKeyId = generateAccessKeyId("long-term");
    const record: KeyRecord = {
      accessKeyId,
      namespace,
      user: key.spec.user,
      ownerUid: key.metadata.uid ?? "",
      state: key.spec.state,
      createdAt: this.deps.clock().toISOString(),
      sealed: sealSecret(this.deps.keks, namespace, accessKeyId, generateSecretAccessKey()),
    };
    await this.deps.records.create(record);
    this.deps.log.info({ kind: ACCESS_KEY_KIND, namespace, name: key.metadata.name, accessKeyId }, "keystore record written");
    this.deps.afterRecordWrite?.();
  }

  private async claimRecord(key: AccessKey, raw: k8s.KubernetesObject, record: KeyRecord): Promise<void> {
    const claimed: KeyRecord = {
      ...record,
      ownerUid: key.metadata.uid ?? "",
      state: key.spec.state,
      recycledAt: undefined,
      issuedSecret: undefined,
    };
    await this.deps.records.update(claimed);
    await this.deps.events.emit(raw, "Normal", Reason.Restored, `access key ${record.accessKeyId} restored from the recycle bin`);
  }

  private async writeSecret(key: AccessKey, raw: k8s.KubernetesObject, record: KeyRecord, secretName: string): Promise<void> {
    const namespace = key.metadata.namespace ?? "";
    const owner = controllerReference(API_VERSION, ACCESS_KEY_KIND, raw);
    const pair = { accessKeyId: record.accessKeyId, secretAccessKey: openSecret(this.deps.keks, record) };
    if (!(await createOwnedSecret(this.deps.core, buildIssuedSecret({ namespace, secretName, owner }, pair)))) return;
    await this.deps.events.emit(raw, "Normal", Reason.Issued, `access key ${record.accessKeyId} issued into Secret ${secretName}`);
  }

  private async recycle(raw: k8s.KubernetesObject, record: KeyRecord): Promise<void> {
    await this.deps.records.update({ ...record, state: "Recycled", recycledAt: this.deps.clock().toISOString() });
    await this.deps.events.emit(raw, "Normal", Reason.Recycled, `access key ${record.accessKeyId} moved to the recycle bin`);
  }

  private async writeStatus(raw: k8s.KubernetesObject, observation: AccessKeyObservation, step: Extract<Step, { kind: "none" }>): Promise<void> {
    if (observation.key.metadata.deletionTimestamp) return;
    const status = desiredStatus({ key: observation.key, record: observation.record, outcome: step.outcome, now: observation.now });
    const previous = observation.key.status;
    // Written only when it changed, so resyncs and re-applies cost no write and no event.
    if (isDeepStrictEqual(previous ?? {}, status)) return;
    await this.kind.writeStatus(raw, previous, status, ["lastUsed"]);
    for (const event of transitionEvents(previous, status, step.outcome)) {
      await this.deps.events.emit(raw, event.type, event.reason, event.message);
    }
  }
}

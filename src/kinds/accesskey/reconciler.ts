import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ACCESS_KEY_KIND, type AccessKey, type AccessKeyStatus, parseAccessKey } from "../../api/accesskey.js";
import { API_VERSION } from "../../api/group.js";
import { peersOf } from "../../api/peers.js";
import { generateAccessKeyId, generateSecretAccessKey } from "../../credentials/generate.js";
import type { KekSet } from "../../keystore/kek.js";
import { type KeyRecord, openSecret, sealSecret } from "../../keystore/record.js";
import { FINALIZER } from "../../labels.js";
import type { EventSink } from "../../runtime/events.js";
import type { ObjectCache } from "../../runtime/informer.js";
import { controllerReference, createOwnedSecret, type KindClient, observeSecret } from "../../runtime/kube.js";
import type { KindLogic } from "../../runtime/reconcile.js";
import { type AccessKeyObservation, decide, type Outcome, type Step } from "./decide.js";
import { issuedSecretName } from "../../api/secret-name.js";
import { buildIssuedSecret } from "./issued-secret.js";
import { Reason } from "./reasons.js";
import { desiredStatus, transitionEvents } from "./status.js";
import type { RecordStore } from "../../keystore/access-key-store.js";
import type { UserSlots, UserSlotStore } from "../../keystore/user-slots.js";

export interface AccessKeyReconcilerDeps {
  core: k8s.CoreV1Api;
  client: KindClient;
  records: RecordStore;
  slots: UserSlotStore;
  keks: KekSet;
  cache: ObjectCache;
  events: EventSink;
  clock: () => Date;
  recycleRetentionMs: number;
  log: Logger;
  /** Test-only fault injection: called right after a new record is written, before its Secret. */
  afterRecordWrite?: () => void;
}

type Action = Exclude<Step, { kind: "none" }>;

/** The AccessKey's part of the reconcile skeleton: gather, decide and act; status from status.ts. */
export class AccessKeyLogic implements KindLogic<AccessKey, AccessKeyObservation, Action, Outcome> {
  readonly kind = ACCESS_KEY_KIND;
  readonly parse = parseAccessKey;
  readonly transitionEvents = transitionEvents;
  readonly decide = decide;
  // The verifier moves lastUsed on; an older copy read here must never overwrite it.
  readonly othersOwn = ["lastUsed"];

  constructor(private readonly deps: AccessKeyReconcilerDeps) {}

  async gather(key: AccessKey): Promise<AccessKeyObservation> {
    const uid = key.metadata.uid ?? "";
    const namespace = key.metadata.namespace ?? "";
    const record = await this.deps.records.findByOwner(uid);
    const restoreFrom = key.spec.restoreFrom;
    const restoreCandidate = !record && restoreFrom ? await this.deps.records.get(restoreFrom) : undefined;
    const peers = peersOf(this.deps.cache.list(namespace), parseAccessKey, namespace, key.spec.user);
    // Only a key without a record, or one leaving, can take or give back a slot.
    const slots = !record || key.metadata.deletionTimestamp ? await this.deps.slots.read(namespace, key.spec.user) : undefined;
    return {
      key,
      peers,
      record,
      restoreCandidate,
      secret: await observeSecret(this.deps.core, namespace, issuedSecretName(key), uid),
      slots,
      staleHolders: slots && !record ? await this.staleHolders(slots, peers) : undefined,
      now: this.deps.clock(),
      recycleRetentionMs: this.deps.recycleRetentionMs,
    };
  }

  // A holder missing from the cache may only be younger than the cache: it is stale only if the
  // API server does not have it either.
  private async staleHolders(slots: UserSlots, peers: readonly AccessKey[]): Promise<string[]> {
    const known = new Set(peers.map((peer) => peer.metadata.uid));
    const unknown = slots.holders.filter((holder) => !known.has(holder.uid));
    const live = await Promise.all(unknown.map((holder) => this.deps.client.read(slots.namespace, holder.name)));
    return unknown.filter((holder, i) => live[i]?.metadata?.uid !== holder.uid).map((holder) => holder.uid);
  }

  desiredStatus(observation: AccessKeyObservation, outcome: Outcome): AccessKeyStatus {
    return desiredStatus({ key: observation.key, record: observation.record, outcome, now: observation.now });
  }


  act(key: AccessKey, raw: k8s.KubernetesObject, step: Action): Promise<void> {
    switch (step.kind) {
      case "addFinalizer":
        return this.deps.client.addFinalizer(raw, FINALIZER);
      case "removeFinalizer":
        return this.deps.client.removeFinalizer(raw, FINALIZER);
      case "generateRecord":
        return this.generateRecord(key);
      case "claimRecord":
        return this.claimRecord(key, raw, step.record);
      case "writeSecret":
        return this.writeSecret(key, raw, step.record, step.secretName);
      case "recycle":
        return this.recycle(raw, step.record);
      case "claimSlot":
      case "releaseSlot":
        return this.deps.slots.write(step.slots);
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
}

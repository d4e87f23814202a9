import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ACCESS_KEY_KIND, type AccessKey, type AccessKeyStatus, parseAccessKey } from "../../api/accesskey.js";
import { API_VERSION } from "../../api/group.js";
import { peersOf } from "../../api/peers.js";
import { generateAccessKeyId, generateSecretAccessKey } from "../../credentials/generate.js";
import type { KekSet } from "../../keystore/kek.js";
import { type KeyRecord, openSecret, sealSecret } from "../../keystore/record.js";
import { parseRecycledAccessKey, recycledAccessKeyName, recycledAccessKeyObject } from "../../api/recycledaccesskey.js";
import { FINALIZER, PURGE_FINALIZER } from "../../labels.js";
import type { EventSink } from "../../runtime/events.js";
import type { ObjectCache } from "../../runtime/informer.js";
import { controllerReference, createOwnedSecret, type KindClient, namespaceTerminating, observeSecret } from "../../runtime/kube.js";
import { type KindLogic, StepFailure } from "../../runtime/reconcile.js";
import { type AccessKeyObservation, decide, type Outcome, type Step } from "./decide.js";
import { issuedSecretName } from "../../api/secret-name.js";
import { buildIssuedSecret } from "./issued-secret.js";
import { Reason } from "./reasons.js";
import { binEntry } from "./recycle-bin.js";
import { desiredStatus, transitionEvents } from "./status.js";
import type { RecordStore } from "../../keystore/access-key-store.js";
import { type UserSlots, type UserSlotStore, withClaimantId } from "../../keystore/user-slots.js";

export interface AccessKeyReconcilerDeps {
  core: k8s.CoreV1Api;
  client: KindClient;
  /** RecycledAccessKeys: the recycle bin as users see it. */
  bin: KindClient;
  records: RecordStore;
  slots: UserSlotStore;
  keks: KekSet;
  cache: ObjectCache;
  events: EventSink;
  clock: () => Date;
  recycleRetentionMs: number;
  log: Logger;
  /** Test-only fault injection: called right after a new record is written, before its Secret. */
  afterRecordWrite?: (namespace: string) => void;
}

type Action = Exclude<Step, { kind: "none" }>;
type BinStep = Extract<Step, { kind: "recycle" | "createBinObject" | "dropStaleBinObject" }>;

const BIN_STEPS: ReadonlySet<string> = new Set<BinStep["kind"]>(["recycle", "createBinObject", "dropStaleBinObject"]);

function isBinStep(step: Action): step is BinStep {
  return BIN_STEPS.has(step.kind);
}

// A key not yet issued, or leaving, may take or give back a slot; its slot holds its id.
function slotsNeeded(key: AccessKey): boolean {
  return key.status?.accessKeyId === undefined || key.metadata.deletionTimestamp !== undefined;
}

/** The id the key's status shows once issued (copied from its record), or else the one its slot holds. */
function idOf(key: AccessKey, slots: UserSlots | undefined): string | undefined {
  return key.status?.accessKeyId ?? slots?.holders.find((holder) => holder.uid === key.metadata.uid)?.accessKeyId;
}


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
    // The finalizer goes on first, whatever the rest of the world looks like: nothing to read.
    if (!key.metadata.deletionTimestamp && !(key.metadata.finalizers ?? []).includes(FINALIZER)) {
      return { key, peers: [], secret: "absent", now: this.deps.clock(), recycleRetentionMs: this.deps.recycleRetentionMs };
    }
    const { slots, record, restoreCandidate } = await this.keystoreOf(key);
    const peers = peersOf(this.deps.cache.list(namespace), parseAccessKey, namespace, key.spec.user);
    return {
      key,
      peers,
      record,
      restoreCandidate,
      secret: await observeSecret(this.deps.core, namespace, issuedSecretName(key), uid),
      slots,
      staleHolders: slots && !record ? await this.staleHolders(slots, peers) : undefined,
      binObject: await this.binObjectOf(key, record),
      now: this.deps.clock(),
      recycleRetentionMs: this.deps.recycleRetentionMs,
    };
  }

  private async keystoreOf(key: AccessKey): Promise<{ slots?: UserSlots; record?: KeyRecord; restoreCandidate?: KeyRecord }> {
    const read = (): Promise<UserSlots | undefined> => this.deps.slots.read(key.metadata.namespace ?? "", key.spec.user);
    if (slotsNeeded(key)) {
      const slots = await read();
      return { slots, ...(await this.recordsOf(key, slots)) };
    }
    const found = await this.recordsOf(key, undefined);
    if (found.record) return found;
    // A status naming a record that is gone (a keystore restored from an older backup): the
    // decision needs the user's real ledger, not one guessed from statuses.
    const slots = await read();
    return { slots, ...(await this.recordsOf(key, slots)) };
  }

  // Found by its id, one read whatever the size of the keystore; only a record bound to this
  // AccessKey is its record (the id to restore names a record bound to the deleted one).
  private async recordsOf(key: AccessKey, slots: UserSlots | undefined): Promise<{ record?: KeyRecord; restoreCandidate?: KeyRecord }> {
    const uid = key.metadata.uid;
    const id = idOf(key, slots) ?? (await this.legacyIdOf(uid ?? ""));
    const found = id === undefined ? undefined : await this.deps.records.get(id);
    if (found && found.ownerUid === uid) return { record: found };
    const restoreFrom = key.spec.restoreFrom;
    if (restoreFrom === undefined) return {};
    return { restoreCandidate: found && found.accessKeyId === restoreFrom ? found : await this.deps.records.get(restoreFrom) };
  }

  /**
   * The id of a record written by an operator that kept no ledger, for a key whose status never
   * showed it (it stopped between the record and the status). Such records predate this leader,
   * so one list when it starts to lead finds them all; every record since is found by the id its
   * slot holds.
   */
  startLeading(): void {
    this.legacyIds = undefined;
  }

  private legacyIds: Promise<Map<string, string>> | undefined;

  private async legacyIdOf(uid: string): Promise<string | undefined> {
    this.legacyIds ??= this.deps.records
      .list()
      .then((records) => new Map(records.filter((record) => record.state !== "Recycled").map((record) => [record.ownerUid, record.accessKeyId])));
    try {
      return (await this.legacyIds).get(uid);
    } catch (error) {
      this.legacyIds = undefined;
      throw error;
    }
  }

  // Looked at only while the key's recycled record needs it; read live, not from the cache: the
  // step just taken may have created it.
  private async binObjectOf(key: AccessKey, record: KeyRecord | undefined): Promise<AccessKeyObservation["binObject"]> {
    if (key.metadata.deletionTimestamp === undefined || record?.state !== "Recycled") return undefined;
    const namespace = key.metadata.namespace ?? "";
    const raw = await this.deps.bin.read(namespace, recycledAccessKeyName(record.accessKeyId));
    if (!raw) return (await namespaceTerminating(this.deps.core, namespace)) ? "unwritable" : "absent";
    const parsed = parseRecycledAccessKey(raw);
    // One that cannot be read shows nothing true: it makes way as a stale one does.
    return { deletedAt: parsed.ok ? parsed.value.spec.deletedAt : "" };
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


  // Only the finalizer steps change the AccessKey itself, and answer it as patched; every other
  // step leaves it as it was, so the next step decides on it without reading it again.
  async act(key: AccessKey, raw: k8s.KubernetesObject, step: Action): Promise<k8s.KubernetesObject> {
    if (step.kind === "addFinalizer") return this.deps.client.addFinalizer(raw, FINALIZER);
    if (step.kind === "removeFinalizer") return this.deps.client.removeFinalizer(raw, FINALIZER);
    if (isBinStep(step)) await this.binStep(key, raw, step);
    else await this.change(key, raw, step);
    return raw;
  }

  // The steps of a deletion: the record to the bin, and the RecycledAccessKey that shows it.
  private async binStep(key: AccessKey, raw: k8s.KubernetesObject, step: BinStep): Promise<void> {
    switch (step.kind) {
      case "recycle":
        return this.recycle(raw, step.record);
      case "createBinObject":
        return this.createBinObject(key, step.record);
      case "dropStaleBinObject":
        return this.dropStaleBinObject(key.metadata.namespace ?? "", step.record);
    }
  }

  private async change(key: AccessKey, raw: k8s.KubernetesObject, step: Exclude<Action, { kind: "addFinalizer" | "removeFinalizer" } | BinStep>): Promise<void> {
    switch (step.kind) {
      case "issue":
        await this.issue(key, raw, step.accessKeyId, step.secretName);
        break;
      case "claimRecord":
        await this.claimRecord(key, raw, step.record);
        break;
      case "writeSecret":
        await this.writeSecret(key, raw, step.record, step.secretName);
        break;
      case "claimSlot":
        await this.deps.slots.write(withClaimantId(step.slots, key.metadata.uid ?? "", () => generateAccessKeyId("long-term")));
        break;
      case "releaseSlot":
        await this.deps.slots.write(step.slots);
        break;
      default:
        await this.updateRecord(step);
    }
  }

  private async updateRecord(step: Extract<Step, { kind: "setRecordState" | "markIssued" }>): Promise<void> {
    const record =
      step.kind === "setRecordState" ? { ...step.record, state: step.state } : { ...step.record, issuedSecret: step.secretName };
    await this.deps.records.update(record);
  }

  /**
   * The record first, under the id the slot fixed: a crash after it leaves a record the next
   * reconcile finds under that id and re-uses, so a second secret is never generated, and two
   * reconciles racing here cannot both create it. Then the Secret, then the record marked issued,
   * without deciding again in between: each partial state is one the decision recognises.
   */
  private async issue(key: AccessKey, raw: k8s.KubernetesObject, accessKeyId: string, secretName: string): Promise<void> {
    const namespace = key.metadata.namespace ?? "";
    const record = await this.deps.records.create({
      accessKeyId,
      namespace,
      user: key.spec.user,
      ownerUid: key.metadata.uid ?? "",
      state: key.spec.state,
      createdAt: this.deps.clock().toISOString(),
      sealed: sealSecret(this.deps.keks, namespace, accessKeyId, generateSecretAccessKey()),
    });
    this.deps.log.info({ kind: ACCESS_KEY_KIND, namespace, name: key.metadata.name, accessKeyId }, "keystore record written");
    this.deps.afterRecordWrite?.(namespace);
    const written = await this.writeSecret(key, raw, record, secretName).catch((error: unknown) => {
      throw new StepFailure("writeSecret", error);
    });
    if (written) await this.deps.records.update({ ...record, issuedSecret: secretName });
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
    // Its finalizer sees the record live again and lets it go without a purge; should this
    // delete be lost, that object's own reconcile finds the same and deletes it.
    await this.deps.bin.delete(record.namespace, recycledAccessKeyName(record.accessKeyId));
  }

  /** Whether the Secret was written; one that appeared meanwhile is for the next decision to judge. */
  private async writeSecret(key: AccessKey, raw: k8s.KubernetesObject, record: KeyRecord, secretName: string): Promise<boolean> {
    const namespace = key.metadata.namespace ?? "";
    const owner = controllerReference(API_VERSION, ACCESS_KEY_KIND, raw);
    const pair = { user: key.spec.user, accessKeyId: record.accessKeyId, secretAccessKey: openSecret(this.deps.keks, record) };
    if (!(await createOwnedSecret(this.deps.core, buildIssuedSecret({ namespace, secretName, owner }, pair)))) return false;
    await this.deps.events.emit(raw, "Normal", Reason.Issued, `access key ${record.accessKeyId} issued into Secret ${secretName}`);
    return true;
  }

  // Created with its finalizer, so a delete is a purge from the first instant. One there already
  // is judged by the next decision.
  private async createBinObject(key: AccessKey, record: KeyRecord): Promise<void> {
    const namespace = key.metadata.namespace ?? "";
    const entry = binEntry(record, this.deps.recycleRetentionMs, key);
    await this.deps.bin.create(namespace, recycledAccessKeyObject(namespace, entry, PURGE_FINALIZER));
  }

  // Its finalizer goes first, so the delete takes it at once and nothing waits on its controller.
  private async dropStaleBinObject(namespace: string, record: KeyRecord): Promise<void> {
    const raw = await this.deps.bin.read(namespace, recycledAccessKeyName(record.accessKeyId));
    if (!raw) return;
    if ((raw.metadata?.finalizers ?? []).includes(PURGE_FINALIZER)) await this.deps.bin.removeFinalizer(raw, PURGE_FINALIZER);
    await this.deps.bin.delete(namespace, recycledAccessKeyName(record.accessKeyId));
  }

  private async recycle(raw: k8s.KubernetesObject, record: KeyRecord): Promise<void> {
    await this.deps.records.update({ ...record, state: "Recycled", recycledAt: this.deps.clock().toISOString() });
    await this.deps.events.emit(raw, "Normal", Reason.Recycled, `access key ${record.accessKeyId} moved to the recycle bin`);
  }
}

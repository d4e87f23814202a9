import type { AccessKey, AccessKeyState } from "../../api/accesskey.js";
import { byAge, oldestLiving } from "../../api/peers.js";
import { issuedSecretName } from "../../api/secret-name.js";
import { inBinSince, type KeyRecord, recycledAtOf } from "../../keystore/record.js";
import type { SlotHolder, UserSlots } from "../../keystore/user-slots.js";
import { FINALIZER } from "../../labels.js";
import type { SecretObservation } from "../../runtime/kube.js";
import type { Outcome as SettledOutcome, Settled } from "../../runtime/reconcile.js";
import { MAX_KEYS_PER_USER, Reason } from "./reasons.js";

/** Everything one reconcile of an AccessKey looks at, gathered from caches and the API. */
export interface AccessKeyObservation {
  key: AccessKey;
  /** Every AccessKey of the same namespace and user, this one included. */
  peers: readonly AccessKey[];
  /** The keystore record bound to this AccessKey (by uid), if one exists. */
  record?: KeyRecord;
  /** The record spec.restoreFrom names, if it exists. */
  restoreCandidate?: KeyRecord;
  secret: SecretObservation;
  /** The user's slot ledger; undefined when none was written yet. */
  slots?: UserSlots;
  /** Holders of the ledger whose AccessKey no longer exists (its finalizer was forced off). */
  staleHolders?: readonly string[];
  /**
   * While the key is deleted and its record recycled: the RecycledAccessKey of its id and when it
   * says the key was deleted; "unwritable" when there is none and its namespace is being deleted.
   */
  binObject?: "absent" | "unwritable" | { deletedAt: string };
  now: Date;
  recycleRetentionMs: number;
}

/** The one next change to make to the world; the reconciler applies it and decides again. */
export type Step =
  | { kind: "addFinalizer" }
  | { kind: "recycle"; record: KeyRecord }
  /** The RecycledAccessKey that shows the recycled record; one already there is fine. */
  | { kind: "createBinObject"; record: KeyRecord }
  /** A RecycledAccessKey left from an earlier stay of the record in the bin: it goes without a purge. */
  | { kind: "dropStaleBinObject"; record: KeyRecord }
  | { kind: "removeFinalizer" }
  | { kind: "claimSlot"; slots: UserSlots }
  | { kind: "releaseSlot"; slots: UserSlots }
  /** Writes the record under the id its slot holds, then the Secret, then marks it issued. */
  | { kind: "issue"; accessKeyId: string; secretName: string }
  | { kind: "claimRecord"; record: KeyRecord }
  | { kind: "setRecordState"; record: KeyRecord; state: AccessKeyState }
  | { kind: "writeSecret"; record: KeyRecord; secretName: string }
  | { kind: "markIssued"; record: KeyRecord; secretName: string }
  | Settled<Outcome>;

/** Where the key stands when nothing is left to do: becomes the Ready condition. */
export interface Outcome extends SettledOutcome {
  reason: Reason;
}

function hasFinalizer(key: AccessKey): boolean {
  return (key.metadata.finalizers ?? []).includes(FINALIZER);
}

function isDeleting(key: AccessKey): boolean {
  return key.metadata.deletionTimestamp !== undefined;
}

/** The keys of a user that count toward the cap at admission: the two oldest not being deleted. */
export function livingKeys(peers: readonly AccessKey[]): AccessKey[] {
  return oldestLiving(peers.filter((peer) => !blockedElsewhere(peer)), MAX_KEYS_PER_USER);
}

// A key stopped by something other than the cap (a foreign Secret under its name, a restore that
// cannot be done) takes no slot, so it does not keep a younger key of the user from being issued.
export function blockedElsewhere(peer: AccessKey): boolean {
  if (peer.status?.accessKeyId !== undefined) return false;
  const reason = peer.status?.conditions?.find((condition) => condition.type === "Ready")?.reason;
  return reason === Reason.SecretConflict || reason === Reason.RestoreFailed;
}

function uidOf(key: AccessKey): string {
  return key.metadata.uid ?? "";
}

/**
 * The user's ledger as it stands. Before any key of the user claimed a slot (keys issued by an
 * operator that had no ledger), the keys that already have an id hold the slots.
 */
function ledgerOf(obs: AccessKeyObservation): UserSlots {
  if (obs.slots) return obs.slots;
  const issued = obs.peers.filter((peer) => peer.status?.accessKeyId !== undefined && peer.metadata.deletionTimestamp === undefined);
  return {
    namespace: obs.key.metadata.namespace ?? "",
    user: obs.key.spec.user,
    holders: issued.sort(byAge).map((peer) => ({ name: peer.metadata.name ?? "", uid: uidOf(peer) })),
  };
}

function holds(ledger: UserSlots, key: AccessKey): boolean {
  return ledger.holders.some((holder) => holder.uid === uidOf(key));
}

function withHolders(ledger: UserSlots, holders: readonly SlotHolder[]): UserSlots {
  return { ...ledger, holders };
}

// The id a restore brings back is known now; a new one is drawn when the claim is written.
function claimant(obs: AccessKeyObservation): SlotHolder {
  const entry = { name: obs.key.metadata.name ?? "", uid: uidOf(obs.key) };
  const known = obs.record?.accessKeyId ?? obs.key.spec.restoreFrom;
  return known ? { ...entry, accessKeyId: known } : entry;
}

/**
 * A key with a record but no slot was issued by an operator that kept no ledger and stopped
 * before writing its status: it takes its slot under the id it has. Were none free, it keeps
 * working: the rule of that operator already allowed it.
 */
function adoptLegacyRecord(obs: AccessKeyObservation): Step | undefined {
  const ledger = ledgerOf(obs);
  if (holds(ledger, obs.key)) return undefined;
  // Ahead of any key still waiting: this one is already live.
  const stale = new Set(obs.staleHolders ?? []);
  const holders = ledger.holders.filter((holder) => !stale.has(holder.uid));
  if (holders.length >= MAX_KEYS_PER_USER) return undefined;
  return { kind: "claimSlot", slots: withHolders(ledger, [...holders, claimant(obs)]) };
}

function releaseSlot(ledger: UserSlots, key: AccessKey): Step {
  return { kind: "releaseSlot", slots: withHolders(ledger, ledger.holders.filter((holder) => holder.uid !== uidOf(key))) };
}

/**
 * A free slot goes to the oldest keys waiting for one, so every replica and retry picks the same
 * key; the ledger write, guarded by its resourceVersion, is what makes the cap hold even when two
 * reconciles disagree about who is waiting.
 */
function claimOrRefuse(obs: AccessKeyObservation, ledger: UserSlots): Step {
  const stale = new Set(obs.staleHolders ?? []);
  const holders = ledger.holders.filter((holder) => !stale.has(holder.uid));
  const held = new Set(holders.map((holder) => holder.uid));
  const waiting = obs.peers
    .filter((peer) => peer.metadata.deletionTimestamp === undefined && !held.has(uidOf(peer)))
    .filter((peer) => uidOf(peer) === uidOf(obs.key) || !blockedElsewhere(peer))
    .sort(byAge);
  const free = Math.max(0, MAX_KEYS_PER_USER - holders.length);
  const position = waiting.findIndex((peer) => uidOf(peer) === uidOf(obs.key));
  if (position >= 0 && position < free) return { kind: "claimSlot", slots: withHolders(ledger, [...holders, claimant(obs)]) };
  const ahead = waiting.slice(0, free).map((peer) => peer.metadata.name ?? "");
  return capExceeded(obs, [...holders.map((holder) => holder.name), ...ahead]);
}

function outcome(ready: boolean, reason: Reason, message: string): Step {
  return { kind: "none", outcome: { ready, reason, message } };
}

// The recycled record is shown by a RecycledAccessKey that notes when it was recycled; one noting
// another instant shows an earlier stay in the bin (restored since), and makes way. A namespace
// being deleted takes no new object: the record stays in the bin, unseen, for its retention.
function binObjectStep(obs: AccessKeyObservation): Step | undefined {
  const { record, binObject } = obs;
  if (!record || binObject === undefined || binObject === "unwritable") return undefined;
  if (binObject === "absent") return { kind: "createBinObject", record };
  return inBinSince(record, binObject.deletedAt) ? undefined : { kind: "dropStaleBinObject", record };
}

// Deletion: the record goes to the recycle bin, where a RecycledAccessKey shows it, and the slot
// back to the user, before the finalizer lets the object go.
function decideDeletion(obs: AccessKeyObservation): Step {
  if (!hasFinalizer(obs.key)) return outcome(false, Reason.Recycled, "the key is being deleted");
  if (obs.record && obs.record.state !== "Recycled") return { kind: "recycle", record: obs.record };
  const binStep = binObjectStep(obs);
  if (binStep) return binStep;
  if (obs.slots && holds(obs.slots, obs.key)) return releaseSlot(obs.slots, obs.key);
  return { kind: "removeFinalizer" };
}

function capExceeded(obs: AccessKeyObservation, keeping: readonly string[]): Step {
  const living = keeping.join(" and ");
  return outcome(
    false,
    Reason.KeyLimitExceeded,
    `user ${obs.key.spec.user} already has ${MAX_KEYS_PER_USER} access keys (${living}); ` +
      "delete one (set spec.state to Inactive first) before creating another",
  );
}

function retentionEnd(record: KeyRecord, retentionMs: number): number {
  return Date.parse(recycledAtOf(record)) + retentionMs;
}

// Restoring claims a recycled record of the same account and user, within the retention.
function restoreRefusal(obs: AccessKeyObservation, id: string): Step | undefined {
  const candidate = obs.restoreCandidate;
  const sameOwner = candidate?.namespace === obs.key.metadata.namespace && candidate?.user === obs.key.spec.user;
  if (!candidate || !sameOwner) {
    return outcome(false, Reason.RestoreFailed, `no deleted key ${id} of user ${obs.key.spec.user} is in the recycle bin`);
  }
  if (candidate.state !== "Recycled") {
    return outcome(false, Reason.RestoreFailed, `key ${id} is not in the recycle bin: it is still in use`);
  }
  if (retentionEnd(candidate, obs.recycleRetentionMs) <= obs.now.getTime()) {
    return outcome(false, Reason.RestoreFailed, `key ${id} was deleted too long ago: its retention has ended`);
  }
  return undefined;
}

// Nothing watches a Secret we did not create, so a conflict is looked at again, less often the
// longer it lasts: from 1 s after it is first seen, doubling, up to every 5 minutes.
const CONFLICT_RECHECK_MIN_MS = 1000;
const CONFLICT_RECHECK_MAX_MS = 5 * 60_000;

function conflictRecheckAt(obs: AccessKeyObservation): number {
  const ready = obs.key.status?.conditions?.find((condition) => condition.type === "Ready");
  const since = ready?.reason === Reason.SecretConflict ? Date.parse(ready.lastTransitionTime ?? "") : Number.NaN;
  const lasted = Number.isNaN(since) ? 0 : obs.now.getTime() - since;
  return obs.now.getTime() + Math.min(CONFLICT_RECHECK_MAX_MS, Math.max(CONFLICT_RECHECK_MIN_MS, lasted));
}

function conflict(obs: AccessKeyObservation): Step {
  const secretName = issuedSecretName(obs.key);
  const message = `Secret ${secretName} exists and was not created by keygate for this key; it is left untouched`;
  return { kind: "none", outcome: { ready: false, reason: Reason.SecretConflict, message, requeueAt: conflictRecheckAt(obs) } };
}

function decideIssuedSecret(obs: AccessKeyObservation, record: KeyRecord): Step {
  const secretName = issuedSecretName(obs.key);
  if (record.issuedSecret === undefined) {
    if (obs.secret === "absent") return { kind: "writeSecret", record, secretName };
    if (obs.secret === "owned") return { kind: "markIssued", record, secretName };
    return conflict(obs);
  }
  if (obs.secret === "absent") {
    return outcome(
      false,
      Reason.SecretMissing,
      `the issued Secret ${secretName} was deleted; the key still works but its secret is never issued ` +
        "again: rotate by creating a new key",
    );
  }
  return obs.secret === "foreign" ? conflict(obs) : readyOutcome(record);
}

function readyOutcome(record: KeyRecord): Step {
  return record.state === "Active"
    ? outcome(true, Reason.Issued, `access key ${record.accessKeyId} is issued and active`)
    : outcome(true, Reason.Inactive, `access key ${record.accessKeyId} is inactive: requests signed with it are refused`);
}

/**
 * A key without a record gets a slot first, and an id (a record) only then; neither while its
 * Secret cannot be written or its restore cannot be done, and a slot it holds then is given back.
 */
function decideUnissued(obs: AccessKeyObservation): Step {
  const ledger = ledgerOf(obs);
  const holding = holds(ledger, obs.key);
  const restoreFrom = obs.key.spec.restoreFrom;
  const blocked = obs.secret === "foreign" ? conflict(obs) : restoreFrom ? restoreRefusal(obs, restoreFrom) : undefined;
  if (blocked) return holding && obs.slots ? releaseSlot(obs.slots, obs.key) : blocked;
  return holding ? decideHeldSlot(obs, ledger) : claimOrRefuse(obs, ledger);
}

function decideHeldSlot(obs: AccessKeyObservation, ledger: UserSlots): Step {
  const id = ledger.holders.find((holder) => holder.uid === uidOf(obs.key))?.accessKeyId;
  const restoreFrom = obs.key.spec.restoreFrom;
  // A slot held without an id (a ledger of keys issued before ids were fixed in it), or with
  // another id than the one to restore, is claimed again with the right one.
  if (id === undefined || (restoreFrom !== undefined && id !== restoreFrom)) {
    return { kind: "claimSlot", slots: withHolders(ledger, ledger.holders.map((holder) => (holder.uid === uidOf(obs.key) ? claimant(obs) : holder))) };
  }
  if (restoreFrom && obs.restoreCandidate) return { kind: "claimRecord", record: obs.restoreCandidate };
  return { kind: "issue", accessKeyId: id, secretName: issuedSecretName(obs.key) };
}

/**
 * The next step for an AccessKey. Each check is one line of the chain; the first that has
 * something to do wins, and the reconciler calls decide again after applying it.
 */
export function decide(obs: AccessKeyObservation): Step {
  if (isDeleting(obs.key)) return decideDeletion(obs);
  // The finalizer goes on before any side effect, so nothing we create can outlive the object.
  if (!hasFinalizer(obs.key)) return { kind: "addFinalizer" };
  const record = obs.record;
  if (!record) return decideUnissued(obs);
  const adoption = adoptLegacyRecord(obs);
  if (adoption) return adoption;
  if (record.state !== obs.key.spec.state) return { kind: "setRecordState", record, state: obs.key.spec.state };
  return decideIssuedSecret(obs, record);
}

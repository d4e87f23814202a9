import type { AccessKey, AccessKeyState } from "../../api/accesskey.js";
import { oldestLiving } from "../../api/peers.js";
import { issuedSecretName } from "../../api/secret-name.js";
import type { KeyRecord } from "../../keystore/record.js";
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
  now: Date;
  recycleRetentionMs: number;
}

/** The one next change to make to the world; the reconciler applies it and decides again. */
export type Step =
  | { kind: "addFinalizer" }
  | { kind: "recycle"; record: KeyRecord }
  | { kind: "removeFinalizer" }
  | { kind: "generateRecord" }
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

/** The keys of a user allowed to live: the two oldest that are not being deleted. */
export function livingKeys(peers: readonly AccessKey[]): AccessKey[] {
  return oldestLiving(peers, MAX_KEYS_PER_USER);
}

function withinCap(obs: AccessKeyObservation): boolean {
  return livingKeys(obs.peers).some((peer) => peer.metadata.uid === obs.key.metadata.uid);
}

function outcome(ready: boolean, reason: Reason, message: string): Step {
  return { kind: "none", outcome: { ready, reason, message } };
}

// Deletion: the record goes to the recycle bin before the finalizer lets the object go.
function decideDeletion(obs: AccessKeyObservation): Step {
  if (!hasFinalizer(obs.key)) return outcome(false, Reason.Recycled, "the key is being deleted");
  if (obs.record && obs.record.state !== "Recycled") return { kind: "recycle", record: obs.record };
  return { kind: "removeFinalizer" };
}

function capExceeded(obs: AccessKeyObservation): Step {
  const living = livingKeys(obs.peers)
    .map((peer) => peer.metadata.name)
    .join(" and ");
  return outcome(
    false,
    Reason.KeyLimitExceeded,
    `user ${obs.key.spec.user} already has ${MAX_KEYS_PER_USER} access keys (${living}); ` +
      "delete one (set spec.state to Inactive first) before creating another",
  );
}

function retentionEnd(record: KeyRecord, retentionMs: number): number {
  return Date.parse(record.recycledAt ?? record.createdAt) + retentionMs;
}

// Restoring claims a recycled record of the same account and user, within the retention.
function decideRestore(obs: AccessKeyObservation, id: string): Step {
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
  return { kind: "claimRecord", record: candidate };
}

function decideIssuedSecret(obs: AccessKeyObservation, record: KeyRecord): Step {
  const secretName = issuedSecretName(obs.key);
  const conflict = outcome(
    false,
    Reason.SecretConflict,
    `Secret ${secretName} exists and was not created by keygate for this key; it is left untouched`,
  );
  if (record.issuedSecret === undefined) {
    if (obs.secret === "absent") return { kind: "writeSecret", record, secretName };
    if (obs.secret === "owned") return { kind: "markIssued", record, secretName };
    return conflict;
  }
  if (obs.secret === "absent") {
    return outcome(
      false,
      Reason.SecretMissing,
      `the issued Secret ${secretName} was deleted; the key still works but its secret is never issued ` +
        "again: rotate by creating a new key",
    );
  }
  return obs.secret === "foreign" ? conflict : readyOutcome(record);
}

function readyOutcome(record: KeyRecord): Step {
  return record.state === "Active"
    ? outcome(true, Reason.Issued, `access key ${record.accessKeyId} is issued and active`)
    : outcome(true, Reason.Inactive, `access key ${record.accessKeyId} is inactive: requests signed with it are refused`);
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
  if (!record) {
    if (!withinCap(obs)) return capExceeded(obs);
    const restoreFrom = obs.key.spec.restoreFrom;
    return restoreFrom ? decideRestore(obs, restoreFrom) : { kind: "generateRecord" };
  }
  if (record.state !== obs.key.spec.state) return { kind: "setRecordState", record, state: obs.key.spec.state };
  return decideIssuedSecret(obs, record);
}

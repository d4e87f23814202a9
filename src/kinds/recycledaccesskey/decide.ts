import type { RecycledAccessKey } from "../../api/recycledaccesskey.js";
import { inBinSince, type KeyRecord } from "../../keystore/record.js";
import { PURGE_FINALIZER } from "../../labels.js";
import type { Outcome as SettledOutcome, Settled } from "../../runtime/reconcile.js";
import { Reason } from "./reasons.js";

/** Everything one reconcile of a RecycledAccessKey looks at. */
export interface BinObservation {
  bin: RecycledAccessKey;
  /** The keystore record of the bin object's id, read from the API server; undefined when there is none. */
  record?: KeyRecord;
  now: Date;
}

/** The one next change to make; the reconciler applies it and decides again. */
export type BinStep =
  | { kind: "purge"; record: KeyRecord }
  | { kind: "removeFinalizer" }
  | { kind: "deleteBinObject" }
  | Settled<BinOutcome>;

export interface BinOutcome extends SettledOutcome {
  reason: Reason;
}

/**
 * Whether the object stands for the record as it is now: the same account and user, in the bin
 * since the instant the object notes. Decided from the record, never from who deletes the object:
 * a key restored meanwhile is live again and must not be purged.
 */
export function standsFor(bin: RecycledAccessKey, record: KeyRecord | undefined): record is KeyRecord {
  const sameOwner = record?.namespace === bin.metadata.namespace && record?.user === bin.spec.user;
  return sameOwner && inBinSince(record, bin.spec.deletedAt);
}

// Deleting the object is the purge: the record goes first, then the finalizer lets the object go.
function decideDeletion(obs: BinObservation): BinStep {
  const id = obs.bin.spec.accessKeyId;
  if (!(obs.bin.metadata.finalizers ?? []).includes(PURGE_FINALIZER)) {
    return { kind: "none", outcome: { ready: false, reason: Reason.Purged, message: `access key ${id} is leaving the recycle bin` } };
  }
  if (standsFor(obs.bin, obs.record)) return { kind: "purge", record: obs.record };
  return { kind: "removeFinalizer" };
}

/** The next step for a RecycledAccessKey. */
export function decide(obs: BinObservation): BinStep {
  if (obs.bin.metadata.deletionTimestamp !== undefined) return decideDeletion(obs);
  // Restored, or purged at the end of its retention, while the object stayed (a crash between the
  // two writes): it no longer shows anything true.
  if (!standsFor(obs.bin, obs.record)) return { kind: "deleteBinObject" };
  const { accessKeyId, user, expiresAt } = obs.bin.spec;
  return {
    kind: "none",
    outcome: {
      ready: true,
      reason: Reason.InRecycleBin,
      message:
        `access key ${accessKeyId} of user ${user} is in the recycle bin until ${expiresAt}: delete this object to purge it ` +
        `for good, or restore it with spec.restoreFrom: ${accessKeyId} on a new AccessKey of user ${user}`,
    },
  };
}

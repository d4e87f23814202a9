import { recycledAccessKeyName } from "../../api/recycledaccesskey.js";
import { type KeyRecord, recycledAtOf } from "../../keystore/record.js";
import { keyOf } from "../../runtime/keys.js";

/** Recycled records whose retention has ended: they are deleted for good. */
export function dueForPurge(records: readonly KeyRecord[], now: Date, retentionMs: number): KeyRecord[] {
  return records.filter(
    (record) => record.state === "Recycled" && Date.parse(recycledAtOf(record)) + retentionMs <= now.getTime(),
  );
}

/** When the next recycled record falls due, so the purge runs then rather than by polling. */
export function nextPurgeAt(records: readonly KeyRecord[], retentionMs: number): number | undefined {
  const due = records
    .filter((record) => record.state === "Recycled")
    .map((record) => Date.parse(recycledAtOf(record)) + retentionMs);
  return due.length > 0 ? Math.min(...due) : undefined;
}

/**
 * Recycled records with no RecycledAccessKey to show them, recycled by an operator from before the
 * bin was visible. A record whose AccessKey still exists is left to it: its deletion creates the
 * object, with what it knows of the key.
 */
export function missingFromBin(records: readonly KeyRecord[], binned: ReadonlySet<string>, liveOwners: ReadonlySet<string>): KeyRecord[] {
  return records.filter(
    (record) =>
      record.state === "Recycled" &&
      !liveOwners.has(record.ownerUid) &&
      !binned.has(keyOf({ namespace: record.namespace, name: recycledAccessKeyName(record.accessKeyId) })),
  );
}

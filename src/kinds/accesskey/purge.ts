import type { KeyRecord } from "../../keystore/record.js";

/** Recycled records whose retention has ended: they are deleted for good. */
export function dueForPurge(records: readonly KeyRecord[], now: Date, retentionMs: number): KeyRecord[] {
  return records.filter(
    (record) => record.state === "Recycled" && Date.parse(record.recycledAt ?? record.createdAt) + retentionMs <= now.getTime(),
  );
}

/** When the next recycled record falls due, so the purge runs then rather than by polling. */
export function nextPurgeAt(records: readonly KeyRecord[], retentionMs: number): number | undefined {
  const due = records
    .filter((record) => record.state === "Recycled")
    .map((record) => Date.parse(record.recycledAt ?? record.createdAt) + retentionMs);
  return due.length > 0 ? Math.min(...due) : undefined;
}

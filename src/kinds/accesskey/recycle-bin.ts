import type { AccessKey } from "../../api/accesskey.js";
import { type RecycledAccessKeySpec, UNKNOWN_DELETER } from "../../api/recycledaccesskey.js";
import { asJson } from "../../json.js";
import { type KeyRecord, recycledAtOf } from "../../keystore/record.js";
import { DELETED_BY_ANNOTATION } from "../../labels.js";

/**
 * What the recycle bin shows of a recycled record: its public facts, and those of the AccessKey
 * deleted (absent for a record recycled before the bin was visible); never the secret.
 */
export function binEntry(record: KeyRecord, retentionMs: number, deleted?: AccessKey): RecycledAccessKeySpec {
  const deletedAt = recycledAtOf(record);
  return asJson({
    accessKeyId: record.accessKeyId,
    user: record.user,
    accessKeyName: deleted?.metadata.name,
    description: deleted?.spec.description,
    deletedBy: deleted?.metadata.annotations?.[DELETED_BY_ANNOTATION] ?? UNKNOWN_DELETER,
    deletedAt,
    expiresAt: new Date(Date.parse(deletedAt) + retentionMs).toISOString(),
  });
}

import type { RecycledAccessKey } from "../api/recycledaccesskey.js";
import { renderTable } from "./output.js";
import { relative } from "./time-text.js";

/** The recycle bin as the person reads it: newest deletion first, with how long each key stays restorable. */
export function renderRecycleBin(keys: readonly RecycledAccessKey[], options: { now: Date; wide: boolean }): string {
  const sorted = [...keys].sort((a, b) => b.spec.deletedAt.localeCompare(a.spec.deletedAt));
  const headers = ["id", "user", "deleted by", "deleted", "restorable until", ...(options.wide ? ["accesskey", "description"] : [])];
  const rows = sorted.map((key) => [
    key.spec.accessKeyId,
    key.spec.user,
    key.spec.deletedBy,
    relative(key.spec.deletedAt, options.now),
    `${key.spec.expiresAt} (${relative(key.spec.expiresAt, options.now)})`,
    ...(options.wide ? [key.spec.accessKeyName ?? "", key.spec.description ?? ""] : []),
  ]);
  return renderTable(headers, rows);
}

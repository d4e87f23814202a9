import type { AccessKey } from "../api/accesskey.js";
import { STALE_CONDITION } from "../api/accountpolicy.js";
import { findCondition } from "../runtime/conditions.js";
import { renderTable } from "./output.js";
import { relative, utcMinute } from "./time-text.js";

// The "my credentials" table of the consoles: each key's id, state, creation and last use, with
// what needs the person's attention (a stale key, a key never issued).

export interface KeyTableOptions {
  readonly now: Date;
  readonly wide: boolean;
  /** Keys of several users: a USER column. */
  readonly allUsers: boolean;
}

type LastUsed = NonNullable<NonNullable<AccessKey["status"]>["lastUsed"]>;

// lastUsed starts at the issue time, as in the clouds: until a request names a service, never used.
function usedAt(key: AccessKey): LastUsed | undefined {
  const used = key.status?.lastUsed;
  if (!used || (used.service === undefined && used.time === key.status?.createdAt)) return undefined;
  return used;
}

/** What needs the person's attention about a key, in a word or two; empty when nothing does. */
export function keyNote(key: AccessKey): string {
  const ready = findCondition(key.status?.conditions ?? [], "Ready");
  if (ready && ready.status !== "True") return `not issued: ${ready.reason}`;
  if (findCondition(key.status?.conditions ?? [], STALE_CONDITION)?.status === "True") return "stale: rotate it";
  return "";
}

/** The Stale condition's messages, as warnings under the table. */
export function staleWarnings(keys: readonly AccessKey[]): string[] {
  return keys.flatMap((key) => {
    const stale = findCondition(key.status?.conditions ?? [], STALE_CONDITION);
    return stale?.status === "True" ? [stale.message] : [];
  });
}

/** `5h ago (service s3, region us-east-1, from 10.0.0.7)`, or `never`. */
export function lastUseText(key: AccessKey, now: Date): string {
  const used = usedAt(key);
  if (!used) return "never";
  const where = [used.service && `service ${used.service}`, used.region && `region ${used.region}`, used.sourceIP && `from ${used.sourceIP}`].filter(Boolean).join(", ");
  return `${relative(used.time, now)}${where ? ` (${where})` : ""}`;
}

function lastUseCells(used: LastUsed | undefined, now: Date): string[] {
  if (!used) return ["never", "", "", ""];
  return [relative(used.time, now), used.service ?? "", used.region ?? "", used.sourceIP ?? ""];
}

function baseCells(key: AccessKey): string[] {
  return [key.status?.accessKeyId ?? "<pending>", key.status?.state ?? key.spec.state, utcMinute(key.status?.createdAt ?? key.metadata.creationTimestamp)];
}

function wideCells(key: AccessKey): string[] {
  return [key.metadata.name ?? "", utcMinute(usedAt(key)?.time), key.spec.description ?? ""];
}

function row(key: AccessKey, options: KeyTableOptions): string[] {
  const user = options.allUsers ? [key.spec.user] : [];
  const wide = options.wide ? wideCells(key) : [];
  return [...user, ...baseCells(key), ...lastUseCells(usedAt(key), options.now), keyNote(key), ...wide];
}

const HEADERS = ["id", "state", "created", "last used", "service", "region", "source ip", "note"];

/** Oldest first, as the consoles list a user's keys. */
export function renderKeyTable(keys: readonly AccessKey[], options: KeyTableOptions): string {
  const sorted = [...keys].sort((a, b) => (a.metadata.creationTimestamp ?? "").localeCompare(b.metadata.creationTimestamp ?? "") || (a.metadata.name ?? "").localeCompare(b.metadata.name ?? ""));
  const headers = [...(options.allUsers ? ["user"] : []), ...HEADERS, ...(options.wide ? ["name", "last used at", "description"] : [])];
  return renderTable(headers, sorted.map((key) => row(key, options)));
}

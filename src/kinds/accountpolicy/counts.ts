import { parseAccessKey } from "../../api/accesskey.js";
import { type AccountPolicyStatus, STALE_CONDITION } from "../../api/accountpolicy.js";
import type { Condition } from "../../api/condition.js";
import { parseMfaDevice } from "../../api/mfadevice.js";
import type { ParseResult } from "../../api/parse.js";
import { parseTemporaryCredential } from "../../api/temporarycredential.js";

/** The account's objects, as the operator's caches hold them (malformed ones are not counted). */
export interface AccountObjects {
  accessKeys: readonly unknown[];
  mfaDevices: readonly unknown[];
  temporaryCredentials: readonly unknown[];
  now: Date;
}

export type AccountCounts = Required<Pick<AccountPolicyStatus, "users" | "accessKeys" | "boundMfaDevices" | "liveSessions">>;

function holds(conditions: readonly Condition[] | undefined, type: string): boolean {
  return conditions?.some((condition) => condition.type === type && condition.status === "True") ?? false;
}

function parsedAll<T>(objects: readonly unknown[], parse: (object: unknown) => ParseResult<T>): T[] {
  return objects.flatMap((object) => {
    const parsed = parse(object);
    return parsed.ok ? [parsed.value] : [];
  });
}

// A key on its way to the recycle bin no longer counts: it verifies nothing any more.
function keyCounts(objects: readonly unknown[]): { users: string[]; accessKeys: AccountCounts["accessKeys"] } {
  const keys = parsedAll(objects, parseAccessKey).filter((key) => key.metadata.deletionTimestamp === undefined);
  const inState = (state: string): number => keys.filter((key) => key.status?.state === state).length;
  const stale = keys.filter((key) => holds(key.status?.conditions, STALE_CONDITION)).length;
  return { users: keys.map((key) => key.spec.user), accessKeys: { active: inState("Active"), inactive: inState("Inactive"), stale } };
}

// The TemporaryCredential's condition, set at expiry.
const EXPIRED = "Expired";

// Issued and not yet expired: the controller marks a session Expired at its expiry, which is an
// update of the session, so a count made then is already right.
function liveSessions(objects: readonly unknown[], now: Date): { user: string }[] {
  return parsedAll(objects, parseTemporaryCredential)
    .filter((session) => {
      const expiration = session.status?.expiration;
      return expiration !== undefined && Date.parse(expiration) > now.getTime() && !holds(session.status?.conditions, EXPIRED);
    })
    .map((session) => session.spec);
}

/** What the AccountPolicy's status counts: users with a key, a device or a live session; keys by state; devices; sessions. */
export function accountCounts(objects: AccountObjects): AccountCounts {
  const keys = keyCounts(objects.accessKeys);
  const devices = parsedAll(objects.mfaDevices, parseMfaDevice);
  const sessions = liveSessions(objects.temporaryCredentials, objects.now);
  const users = new Set([...keys.users, ...devices.map((device) => device.spec.user), ...sessions.map((session) => session.user)]);
  return {
    users: users.size,
    accessKeys: keys.accessKeys,
    boundMfaDevices: devices.filter((device) => device.status?.bound === true).length,
    liveSessions: sessions.length,
  };
}

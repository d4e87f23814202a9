import { isSecurityKey, type MfaRecord } from "../keystore/mfa-record.js";

/** What picks the device a code is for: its name, and whether it is a security key. */
export interface CodeCandidate {
  deviceName: string;
  securityKey: boolean;
}

/** The device a code is checked against; or none, saying whether security keys alone answer to the name. */
export type CodeDevice<T> = { found: true; device: T } | { found: false; securityKey: boolean };

/**
 * Which of a user's bound devices a TOTP code is for: the virtual device (the one named, when a
 * name is given). Only a virtual device takes codes, and nothing makes device names unique per
 * user, so a name a virtual device shares with a security key names the virtual device; a name
 * only security keys have is told apart, for the caller to ask for an assertion instead. The
 * verifier, the session controller and admission all pick with this one rule, so none of them
 * takes a code another refuses.
 */
export function deviceForCode<T>(devices: readonly T[], candidateOf: (device: T) => CodeCandidate, deviceName?: string): CodeDevice<T> {
  const named = devices.filter((device) => deviceName === undefined || candidateOf(device).deviceName === deviceName);
  const device = named.find((candidate) => !candidateOf(candidate).securityKey);
  if (device !== undefined) return { found: true, device };
  return { found: false, securityKey: named.length > 0 };
}

export function recordCandidate(record: MfaRecord): CodeCandidate {
  return { deviceName: record.deviceName, securityKey: isSecurityKey(record) };
}

import type { MfaDevice, MfaDeviceStatus } from "../../api/mfadevice.js";
import { isSecurityKey, type MfaRecord } from "../../keystore/mfa-record.js";
import { setCondition } from "../../runtime/conditions.js";
import { READY, type TransitionEvent } from "../../runtime/reconcile.js";
import type { MfaOutcome } from "./decide.js";
import { Reason } from "./reasons.js";
import { asJson } from "../../json.js";

export interface StatusInput {
  device: MfaDevice;
  record?: MfaRecord;
  outcome: MfaOutcome;
  now: Date;
}

// Facts from the keystore record; a lock that has run out is not shown.
function recordFacts(record: MfaRecord | undefined, now: Date): Partial<MfaDeviceStatus> {
  if (!record) return { bound: false };
  const locked = record.lockedUntil !== undefined && Date.parse(record.lockedUntil) > now.getTime();
  return {
    bound: record.bound,
    boundAt: record.boundAt,
    failedAttempts: record.bound ? undefined : record.failedAttempts,
    lockedUntil: locked ? record.lockedUntil : undefined,
    secretRef: record.issuedSecret && record.seedSecretRemovedAt === undefined ? { name: record.issuedSecret } : undefined,
  };
}

// A security key's credential as registered, and its ceremony while one is to be completed; a
// key over the limit is offered none. The verifier flags a cloned key in the record too, so the
// flag shows from here whoever wrote the status last.
function securityKeyFacts(record: MfaRecord | undefined, outcome: MfaOutcome): Partial<MfaDeviceStatus> {
  if (!record || !isSecurityKey(record)) return {};
  const offered = !record.bound && outcome.reason !== Reason.DeviceLimitExceeded;
  return {
    registration: offered ? record.registration : undefined,
    credentialId: record.credentialId,
    signCount: record.signCount,
    cloneSuspectedAt: record.cloneSuspectedAt,
  };
}

/** The status the MfaDevice should show: facts from its record, and the outcome as Ready. */
export function desiredStatus(input: StatusInput): MfaDeviceStatus {
  const observedGeneration = input.device.metadata.generation ?? 0;
  const ready = {
    type: READY,
    status: input.outcome.ready ? "True" : "False",
    reason: input.outcome.reason,
    message: input.outcome.message,
    observedGeneration,
  } as const;
  const status: MfaDeviceStatus = {
    ...recordFacts(input.record, input.now),
    ...securityKeyFacts(input.record, input.outcome),
    conditions: setCondition(input.device.status?.conditions ?? [], ready, input.now),
    observedGeneration,
  };
  return asJson(status);
}

const WARNINGS: ReadonlySet<string> = new Set([Reason.DeviceLimitExceeded, Reason.SecretConflict, Reason.BindingLocked, Reason.CloneSuspected]);

function readyReason(status: MfaDeviceStatus | undefined): string | undefined {
  return status?.conditions?.find((condition) => condition.type === READY)?.reason;
}

/** A Warning when the device newly lands in a state its user must act on; nothing on a resync. */
export function transitionEvents(previous: MfaDeviceStatus | undefined, _next: MfaDeviceStatus, outcome: MfaOutcome): TransitionEvent[] {
  if (!WARNINGS.has(outcome.reason) || readyReason(previous) === outcome.reason) return [];
  return [{ type: "Warning", reason: outcome.reason, message: outcome.message }];
}

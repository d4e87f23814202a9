import type { MfaDevice } from "../../api/mfadevice.js";
import type { MfaRecord, PendingRegistration } from "../../keystore/mfa-record.js";
import { CONFIRM_DELETE_ANNOTATION, CONFIRM_DELETE_VALUE } from "../../labels.js";
import { afterFailure, lockedUntil } from "../../otp/binding.js";
import { type CeremonyRefusal, refusal, WebAuthnCode } from "../../webauthn/ceremony.js";
import type { KnownCredential, RegisteredCredential } from "../../webauthn/registration.js";
import type { MfaObservation, MfaStep } from "./decide.js";
import { isLiving, livingDevices } from "./limits.js";
import { MAX_SECURITY_KEYS_PER_USER, Reason } from "./reasons.js";

/** A key registered to another device of the same user, as the keystore has it. */
export interface RegisteredKey {
  credentialId: string;
  deviceName: string;
}

function settled(ready: boolean, reason: Reason, message: string, requeueAt?: number): MfaStep {
  return { kind: "none", outcome: { ready, reason, message, requeueAt } };
}

function generationOf(device: MfaDevice): number {
  return device.metadata.generation ?? 0;
}

/** Whether spec.registration holds an answer not judged yet: one judgement per spec generation, as for codes. */
export function answerToJudge(device: MfaDevice, record: MfaRecord): boolean {
  return device.spec.registration !== undefined && record.attemptedGeneration !== generationOf(device);
}

// The same authenticator twice would be one factor counted as two: the browser is told which
// keys the user has, and refuses to make a second credential on any of them.
function exclusions(obs: MfaObservation): KnownCredential[] {
  return obs.peers
    .filter((peer) => peer.spec.type === "SecurityKey" && peer.metadata.uid !== obs.device.metadata.uid)
    .flatMap((peer) => (peer.status?.credentialId === undefined ? [] : [{ id: peer.status.credentialId }]));
}

function expired(registration: PendingRegistration, now: Date): boolean {
  return Date.parse(registration.expiresAt) <= now.getTime();
}

function limitExceeded(obs: MfaObservation): MfaStep {
  const holders = livingDevices(obs.peers, "SecurityKey").map((peer) => peer.metadata.name ?? "");
  return settled(
    false,
    Reason.DeviceLimitExceeded,
    `user ${obs.device.spec.user} already has ${MAX_SECURITY_KEYS_PER_USER} security keys (${holders.join(", ")}); delete one before registering another`,
  );
}

function registered(obs: MfaObservation, record: MfaRecord): MfaStep {
  const deviceName = obs.device.spec.deviceName;
  if (record.cloneSuspectedAt === undefined) return settled(true, Reason.Bound, `security key ${deviceName} is registered`);
  const name = obs.device.metadata.name ?? "";
  return settled(
    false,
    Reason.CloneSuspected,
    `at ${record.cloneSuspectedAt} an assertion came with a signature counter not above the last one: another authenticator holds this key, ` +
      `so security key ${deviceName} verifies no more. Remove it (annotate ${CONFIRM_DELETE_ANNOTATION}=${CONFIRM_DELETE_VALUE}, then delete mfadevice ${name}) and register the key again`,
  );
}

// A refusal counts toward the lockout, as a wrong pair of codes does, and is said once per answer.
function refused(obs: MfaObservation, record: MfaRecord, why: CeremonyRefusal): MfaStep {
  const message = `${why.code}: ${why.message}`;
  const failed: MfaRecord = { ...record, ...afterFailure(record, obs.now.getTime()), attemptedGeneration: generationOf(obs.device), lastAttemptMessage: message };
  return { kind: "updateRecord", record: failed, event: { type: "Warning", reason: Reason.RegistrationFailed, message } };
}

function accepted(obs: MfaObservation, record: MfaRecord, credential: RegisteredCredential): MfaStep {
  const holder = obs.registeredElsewhere?.find((key) => key.credentialId === credential.id);
  if (holder) {
    return refused(obs, record, refusal(WebAuthnCode.CredentialAlreadyRegistered, `this credential is already registered to security key ${holder.deviceName} of the user`));
  }
  const bound: MfaRecord = {
    ...record,
    bound: true,
    boundAt: obs.now.toISOString(),
    credentialId: credential.id,
    transports: credential.transports,
    rpId: record.registration?.rpId,
    signCount: credential.counter,
    registration: undefined,
    failedAttempts: 0,
    lockedUntil: undefined,
    attemptedGeneration: generationOf(obs.device),
    lastAttemptMessage: undefined,
  };
  const message = `security key ${obs.device.spec.deviceName} registered`;
  return { kind: "registerKey", record: bound, publicKey: credential.publicKey, event: { type: "Normal", reason: Reason.Bound, message } };
}

// Locked after five refusals: looked at again when the lock ends (or, waiting, when the challenge does).
function lockedOut(locked: string, requeueAt: number): MfaStep {
  return settled(false, Reason.BindingLocked, `too many failed attempts: registration is locked until ${locked}`, requeueAt);
}

function judge(obs: MfaObservation, record: MfaRecord): MfaStep {
  const locked = lockedUntil(record, obs.now.getTime());
  if (locked) return lockedOut(locked, Date.parse(locked));
  const check = obs.registrationCheck ?? refusal(WebAuthnCode.ChallengeExpired, "no registration challenge was pending; answer the one now in status.registration");
  return check.ok ? accepted(obs, record, check) : refused(obs, record, check);
}

// Waiting for the person: looked at again when the challenge runs out, to issue a fresh one.
function awaitAnswer(obs: MfaObservation, record: MfaRecord): MfaStep {
  const registration = record.registration;
  if (!registration || expired(registration, obs.now)) return { kind: "renewRegistration", record, exclude: exclusions(obs) };
  const expiry = Date.parse(registration.expiresAt);
  const locked = lockedUntil(record, obs.now.getTime());
  if (locked) return lockedOut(locked, Math.min(expiry, Date.parse(locked)));
  if (obs.device.spec.registration !== undefined) {
    return settled(false, Reason.RegistrationFailed, record.lastAttemptMessage ?? "the answer in spec.registration was refused", expiry);
  }
  return settled(false, Reason.Pending, `waiting for the key to answer the challenge in status.registration (kubectl keygate mfa add-key), until ${registration.expiresAt}`, expiry);
}

/**
 * The next step for a security key: registered keys only show where they stand; of the others,
 * only the oldest the limit allows get a ceremony, and each answer is judged once.
 */
export function decideSecurityKey(obs: MfaObservation): MfaStep {
  const record = obs.record;
  if (record?.bound) return registered(obs, record);
  if (!isLiving(obs.device, obs.peers)) return limitExceeded(obs);
  if (!record) return { kind: "startRegistration", exclude: exclusions(obs) };
  if (answerToJudge(obs.device, record)) return judge(obs, record);
  return awaitAnswer(obs, record);
}

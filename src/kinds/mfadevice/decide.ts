import type { MfaDevice } from "../../api/mfadevice.js";
import { issuedSecretName } from "../../api/secret-name.js";
import type { MfaRecord } from "../../keystore/mfa-record.js";
import { FINALIZER } from "../../labels.js";
import type { SecretObservation } from "../../runtime/kube.js";
import type { Outcome, Settled, TransitionEvent } from "../../runtime/reconcile.js";
import { afterFailure, checkBindingCodes, lockedUntil } from "../../otp/binding.js";
import type { CeremonyRefusal } from "../../webauthn/ceremony.js";
import type { KnownCredential, RegisteredCredential } from "../../webauthn/registration.js";
import { decideSecurityKey, type RegisteredKey } from "./decide-security-key.js";
import { livingDevices } from "./limits.js";
import { Reason } from "./reasons.js";

export interface MfaObservation {
  device: MfaDevice;
  /** Every MfaDevice of the same namespace and user, this one included. */
  peers: readonly MfaDevice[];
  record?: MfaRecord;
  /** The seed, opened from the record; only for checking binding codes. */
  seed?: Buffer;
  secret: SecretObservation;
  /** A security key's answer in spec.registration, verified; only while one waits to be judged. */
  registrationCheck?: RegisteredCredential | CeremonyRefusal;
  /** The user's keys registered to other devices, from the keystore; only while an answer waits to be judged. */
  registeredElsewhere?: readonly RegisteredKey[];
  now: Date;
}

export interface MfaOutcome extends Outcome {
  reason: Reason;
}

export type MfaStep =
  | { kind: "addFinalizer" }
  | { kind: "removeFinalizer" }
  | { kind: "deleteRecord"; record: MfaRecord }
  | { kind: "generateRecord" }
  | { kind: "writeSecret"; record: MfaRecord; secretName: string }
  | { kind: "updateRecord"; record: MfaRecord; event?: TransitionEvent }
  | { kind: "removeSeedSecret"; record: MfaRecord; secretName: string; secret: SecretObservation }
  /** A security key's record, with a registration ceremony for the browser. */
  | { kind: "startRegistration"; exclude: KnownCredential[] }
  | { kind: "renewRegistration"; record: MfaRecord; exclude: KnownCredential[] }
  /** The registered key's record, its public key sealed beside the user handle. */
  | { kind: "registerKey"; record: MfaRecord; publicKey: string; event: TransitionEvent }
  | Settled<MfaOutcome>;

function none(ready: boolean, reason: Reason, message: string): MfaStep {
  return { kind: "none", outcome: { ready, reason, message } };
}

function decideSecret(obs: MfaObservation, record: MfaRecord): MfaStep | undefined {
  const secretName = issuedSecretName(obs.device);
  if (obs.secret === "foreign") {
    return none(false, Reason.SecretConflict, `Secret ${secretName} exists and was not created by keygate for this device; it is left untouched`);
  }
  if (record.issuedSecret !== undefined) return undefined;
  if (obs.secret === "absent") return { kind: "writeSecret", record, secretName };
  return { kind: "updateRecord", record: { ...record, issuedSecret: secretName } };
}

// One binding attempt per spec generation: re-reading the same wrong codes is not another try.
function decideBinding(obs: MfaObservation, record: MfaRecord, seed: Buffer): MfaStep {
  const nowMs = obs.now.getTime();
  const generation = obs.device.metadata.generation ?? 0;
  const verification = obs.device.spec.verification;
  const locked = lockedUntil(record, nowMs);
  if (locked) return none(false, Reason.BindingLocked, `too many failed attempts: binding is locked until ${locked}`);
  if (!verification) return none(false, Reason.Pending, "waiting for two consecutive codes in spec.verification");
  if (record.attemptedGeneration === generation) {
    return none(false, Reason.BindingFailed, record.lastAttemptMessage ?? "the codes in spec.verification were refused");
  }
  const check = checkBindingCodes(seed, verification, nowMs, record.lastAcceptedStep);
  if (check.ok) {
    const bound: MfaRecord = {
      ...record,
      bound: true,
      boundAt: obs.now.toISOString(),
      lastAcceptedStep: check.step,
      failedAttempts: 0,
      lockedUntil: undefined,
      attemptedGeneration: generation,
      lastAttemptMessage: undefined,
    };
    const message = `device ${obs.device.spec.deviceName} bound`;
    return { kind: "updateRecord", record: bound, event: { type: "Normal", reason: Reason.Bound, message } };
  }
  const failed: MfaRecord = {
    ...record,
    ...afterFailure(record, nowMs),
    attemptedGeneration: generation,
    lastAttemptMessage: check.message,
  };
  return { kind: "updateRecord", record: failed, event: { type: "Warning", reason: Reason.BindingFailed, message: check.message } };
}

function decideDeletion(obs: MfaObservation): MfaStep {
  const hasFinalizer = (obs.device.metadata.finalizers ?? []).includes(FINALIZER);
  if (!hasFinalizer) return none(false, Reason.Deleting, "the device is being deleted");
  return obs.record ? { kind: "deleteRecord", record: obs.record } : { kind: "removeFinalizer" };
}

// At most one Virtual device per user: the oldest wins, whatever order events arrive in.
function decideIssuance(obs: MfaObservation): MfaStep {
  const living = livingDevices(obs.peers, "Virtual");
  if (living.some((peer) => peer.metadata.uid === obs.device.metadata.uid)) return { kind: "generateRecord" };
  const holder = living[0]?.metadata.name ?? "";
  return none(false, Reason.DeviceLimitExceeded, `user ${obs.device.spec.user} already has a virtual MFA device (${holder}); delete it first`);
}

// Once bound, the seed is needed only by the keystore record (the verifier checks codes from it):
// the Secret a namespace reader could take codes from goes, and is never written again. The
// record says bound before the Secret goes, and says it went after, so a crash in between only
// repeats the removal. A Secret at that name that is not ours is left alone and is no concern.
function decideBound(obs: MfaObservation, record: MfaRecord): MfaStep {
  const deviceName = obs.device.spec.deviceName;
  if (record.seedSecretRemovedAt !== undefined) {
    return none(true, Reason.Bound, `device ${deviceName} is bound; its seed Secret was removed after binding`);
  }
  return { kind: "removeSeedSecret", record, secretName: record.issuedSecret ?? issuedSecretName(obs.device), secret: obs.secret };
}

/** The next step for an MfaDevice, one check at a time, as for AccessKeys; a security key's own in decide-security-key.ts. */
export function decideMfa(obs: MfaObservation): MfaStep {
  if (obs.device.metadata.deletionTimestamp) return decideDeletion(obs);
  if (!(obs.device.metadata.finalizers ?? []).includes(FINALIZER)) return { kind: "addFinalizer" };
  if (obs.device.spec.type === "SecurityKey") return decideSecurityKey(obs);
  const record = obs.record;
  if (!record) return decideIssuance(obs);
  if (record.bound) return decideBound(obs, record);
  const secretStep = decideSecret(obs, record);
  if (secretStep) return secretStep;
  if (!obs.seed) return none(false, Reason.Pending, "the seed could not be read");
  return decideBinding(obs, record, obs.seed);
}

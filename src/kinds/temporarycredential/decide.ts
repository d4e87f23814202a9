import type { TemporaryCredential } from "../../api/temporarycredential.js";
import { issuedSecretName } from "../../api/secret-name.js";
import type { MfaRecord } from "../../keystore/mfa-record.js";
import { judgeCode } from "../../otp/checker.js";
import type { AssertionJudgement } from "../../webauthn/assertion.js";
import type { SecretObservation } from "../../runtime/kube.js";
import type { Outcome, Settled } from "../../runtime/reconcile.js";
import { Reason } from "./reasons.js";

export interface IssuedFacts {
  accessKeyId: string;
  issuedAt: string;
  expiration: string;
  mfaAuthenticated: boolean;
}

/** What the issuance annotation says happened; absent until the operator has decided. */
export type Issuance = ({ result: "Issued" } & IssuedFacts) | { result: "MfaFailed" | "MfaRequired"; message: string };

/** The bound virtual device spec.mfa names, opened for a code check. */
export interface MfaDeviceState {
  record: MfaRecord;
  seed: Buffer;
}

/**
 * The assertion in spec.mfa, judged against the registered security key that made it (the
 * signature check is asynchronous, so gather does it); the record to write is not written yet.
 */
export interface KeyAssertionState {
  deviceName: string;
  judgement: AssertionJudgement;
}

export interface TemporaryObservation {
  credential: TemporaryCredential;
  /** From the object's issuance annotation. */
  issuance?: Issuance;
  secret: SecretObservation;
  /** What an owned Secret says, for a crash between the Secret and the issuance record. */
  secretFacts?: IssuedFacts;
  /** Gathered only while a code in spec.mfa is still to be judged. */
  mfaDevice?: MfaDeviceState;
  /** The device a code in spec.mfa names is a security key, which answers with an assertion instead. */
  codeForSecurityKey?: boolean;
  /** Gathered only while an assertion in spec.mfa is still to be judged; absent: no registered key of the user made it. */
  keyAssertion?: KeyAssertionState;
  /**
   * The account's policy requires MFA and the user has a bound device; gathered only while a
   * session without spec.mfa is still to be issued.
   */
  mfaRequired?: boolean;
  now: Date;
  retentionMs: number;
}

export interface TemporaryOutcome extends Outcome {
  reason: Reason;
  expired: boolean;
  facts?: IssuedFacts;
}

export type TemporaryStep =
  | { kind: "issue"; mfaRecord?: MfaRecord }
  | { kind: "refuseMfa"; message: string; mfaRecord?: MfaRecord }
  | { kind: "requireMfa"; message: string }
  | { kind: "recordIssuance"; facts: IssuedFacts }
  | { kind: "deleteSecret"; outcome: TemporaryOutcome }
  | { kind: "deleteResource" }
  | Settled<TemporaryOutcome>;

function settled(outcome: Omit<TemporaryOutcome, "expired"> & { expired?: boolean }): TemporaryStep {
  return { kind: "none", outcome: { expired: false, ...outcome } };
}

// Status written by earlier versions, before the issuance annotation existed.
function statusFacts(credential: TemporaryCredential): IssuedFacts | undefined {
  const status = credential.status;
  if (!status?.accessKeyId || !status.expiration) return undefined;
  return {
    accessKeyId: status.accessKeyId,
    issuedAt: status.issuedAt ?? status.expiration,
    expiration: status.expiration,
    mfaAuthenticated: status.mfaAuthenticated ?? false,
  };
}

// Once issued, a session only runs out: at expiry its Secret goes, after the retention the object.
function decideIssued(obs: TemporaryObservation, facts: IssuedFacts): TemporaryStep {
  const expiresAt = Date.parse(facts.expiration);
  const now = obs.now.getTime();
  if (now < expiresAt) {
    return settled({ ready: true, reason: Reason.Issued, message: `session ${facts.accessKeyId} is valid until ${facts.expiration}`, facts, requeueAt: expiresAt });
  }
  const removeAt = expiresAt + obs.retentionMs;
  const outcome: TemporaryOutcome = {
    ready: false,
    reason: Reason.Expired,
    message: `session ${facts.accessKeyId} expired at ${facts.expiration}; its Secret was deleted`,
    expired: true,
    facts,
    requeueAt: removeAt,
  };
  if (obs.secret === "owned") return { kind: "deleteSecret", outcome };
  return now >= removeAt ? { kind: "deleteResource" } : { kind: "none", outcome };
}

// A code in spec.mfa is judged once: accepted, it is used up with the issue; refused, for good.
function decideCode(obs: TemporaryObservation, mfa: { deviceName: string; code: string }): TemporaryStep {
  const device = obs.mfaDevice;
  if (obs.codeForSecurityKey) {
    return { kind: "refuseMfa", message: `MFA device ${mfa.deviceName} is a security key: it answers with spec.mfa.assertion, not a code; nothing was issued` };
  }
  if (!device) return { kind: "refuseMfa", message: `MFA device ${mfa.deviceName} is not a bound device of user ${obs.credential.spec.user}; nothing was issued` };
  const judgement = judgeCode(device.record, device.seed, mfa.code, obs.now.getTime());
  if (judgement.answer.valid) return { kind: "issue", mfaRecord: judgement.next };
  return {
    kind: "refuseMfa",
    message: `MFA code for device ${mfa.deviceName} refused (${judgement.answer.code}); nothing was issued`,
    mfaRecord: judgement.next,
  };
}

// An assertion too: accepted, its challenge is used up (and the counter moved) with the issue.
function decideAssertion(obs: TemporaryObservation): TemporaryStep {
  const judged = obs.keyAssertion;
  if (!judged) {
    return { kind: "refuseMfa", message: `the assertion is by a security key not registered to user ${obs.credential.spec.user} (UnknownCredential); nothing was issued` };
  }
  const { answer, next } = judged.judgement;
  if (answer.valid) return { kind: "issue", mfaRecord: next };
  return { kind: "refuseMfa", message: `assertion of security key ${judged.deviceName} refused (${answer.code}: ${answer.message}); nothing was issued`, mfaRecord: next };
}

// Refused for good, like a wrong code: the spec cannot change to add one.
function mfaRequiredMessage(user: string): string {
  return (
    `the account's AccountPolicy sets requireMfa and user ${user} has a bound MFA device: ` +
    "a session must be requested with spec.mfa {deviceName, code} of a virtual device, or {assertion} of a security key; nothing was issued"
  );
}

/**
 * The next step for a TemporaryCredential. A session is issued at most once: anything that says
 * it was (the issuance annotation, an owned Secret after a crash, an earlier status) means never
 * again; a refused MFA code or assertion, or a missing one the account requires, is final,
 * since the spec cannot change.
 */
export function decideTemporary(obs: TemporaryObservation): TemporaryStep {
  const issuance = obs.issuance;
  if (issuance?.result === "Issued") return decideIssued(obs, issuance);
  if (issuance) return settled({ ready: false, reason: Reason[issuance.result], message: issuance.message });
  const facts = obs.secretFacts ?? statusFacts(obs.credential);
  if (facts) return { kind: "recordIssuance", facts };
  if (obs.secret === "foreign") {
    const message = `Secret ${issuedSecretName(obs.credential)} exists and was not created by keygate for this session; nothing was issued`;
    return settled({ ready: false, reason: Reason.SecretConflict, message });
  }
  return decideUnissued(obs);
}

function decideUnissued(obs: TemporaryObservation): TemporaryStep {
  const mfa = obs.credential.spec.mfa;
  if (mfa?.assertion) return decideAssertion(obs);
  if (mfa) return decideCode(obs, { deviceName: mfa.deviceName ?? "", code: mfa.code ?? "" });
  return obs.mfaRequired ? { kind: "requireMfa", message: mfaRequiredMessage(obs.credential.spec.user) } : { kind: "issue" };
}

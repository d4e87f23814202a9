import { verifyAuthenticationResponse } from "@simplewebauthn/server";
import { isoBase64URL } from "@simplewebauthn/server/helpers";
import type { AuthenticationResponse } from "../api/webauthn.js";
import type { MfaRecord } from "../keystore/mfa-record.js";
import { afterFailure, lockedUntil } from "../otp/binding.js";
import { type ValidChallenge, challengeUsed, rememberChallenge } from "./assertion-challenge.js";
import { type CeremonyRefusal, checkAuthenticatorData, checkClientData, isRefusal, refusal, WebAuthnCode } from "./ceremony.js";
import type { RelyingParty } from "./relying-party.js";

export interface SignedAssertion {
  ok: true;
  /** The authenticator's signature counter in this assertion. */
  counter: number;
  challenge: string;
}

/**
 * Everything about one assertion that does not depend on the device's replay state: our origin,
 * the user handle registered, our relying party id, the user present, and a signature by the
 * registered public key. The counter is left to judgeAssertion, which reads it against the
 * record it will write.
 */
export async function checkAssertion(
  rp: RelyingParty,
  response: AuthenticationResponse,
  credential: { id: string; publicKey: string; rpId: string; userHandle?: string },
): Promise<SignedAssertion | CeremonyRefusal> {
  const clientData = checkClientData(response.response.clientDataJSON, "webauthn.get", rp);
  if (isRefusal(clientData)) return clientData;
  // A resident key names the account it was made for (WebAuthn §7.2 step 6): it must be the one
  // registered with this credential.
  const handle = response.response.userHandle;
  if (handle !== undefined && credential.userHandle !== undefined && handle !== credential.userHandle) {
    return refusal(WebAuthnCode.UnknownCredential, "the assertion's user handle is not the one the key was registered for");
  }
  const relyingParty = { ...rp, id: credential.rpId };
  const authenticatorData = checkAuthenticatorData(response.response.authenticatorData, relyingParty);
  if (isRefusal(authenticatorData)) return authenticatorData;
  try {
    const verified = await verifyAuthenticationResponse({
      response: { ...response, clientExtensionResults: {} },
      expectedChallenge: clientData.challenge,
      expectedOrigin: clientData.origin,
      expectedRPID: credential.rpId,
      // Zero: the library's own counter rule would refuse before keygate could flag the device.
      credential: { id: credential.id, publicKey: isoBase64URL.toBuffer(credential.publicKey), counter: 0 },
      requireUserVerification: false,
    });
    if (!verified.verified) return refusal(WebAuthnCode.InvalidSignature, "the assertion's signature does not verify with the registered key");
    return { ok: true, counter: verified.authenticationInfo.newCounter, challenge: clientData.challenge };
  } catch (error) {
    return refusal(WebAuthnCode.InvalidSignature, `the assertion does not verify: ${(error as Error).message}`);
  }
}

export type AssertionAnswer =
  | { valid: true; deviceName: string }
  | { valid: false; code: WebAuthnCode; message: string }
  | { valid: false; code: "MfaLocked"; message: string; retryAfterSeconds: number };

export interface AssertionJudgement {
  answer: AssertionAnswer;
  /** The record to write with the resourceVersion it was read at; none: nothing changes. */
  next?: MfaRecord;
}

function counterIncreased(stored: number, presented: number): boolean {
  // Authenticators without a counter send 0 every time; one that has counted never goes back.
  return (stored === 0 && presented === 0) || presented > stored;
}

/**
 * Judges one assertion against a registered key's record, purely. A locked or flagged key
 * refuses without counting. The challenge is used by the first assertion judged with it,
 * accepted or not. A counter not above the last one means two authenticators hold the key: the
 * key is flagged and verifies no more. Other failures count toward the lockout, as codes do.
 */
export function judgeAssertion(record: MfaRecord, check: SignedAssertion | CeremonyRefusal, challenge: ValidChallenge, now: Date): AssertionJudgement {
  const nowMs = now.getTime();
  const locked = lockedUntil(record, nowMs);
  if (locked) {
    const retryAfterSeconds = Math.ceil((Date.parse(locked) - nowMs) / 1000);
    return { answer: { valid: false, code: "MfaLocked", message: `too many failed attempts: locked until ${locked}`, retryAfterSeconds } };
  }
  if (record.cloneSuspectedAt !== undefined) {
    return { answer: refused(WebAuthnCode.AuthenticatorCloned, `security key ${record.deviceName} was flagged as cloned at ${record.cloneSuspectedAt}; register it again`) };
  }
  const usedChallenges = rememberChallenge(record, challenge, now);
  if (challengeUsed(record, challenge)) return failed(record, refusal(WebAuthnCode.ChallengeUsed, "this challenge was already answered; ask for a new one"), now);
  if (!check.ok) return failed({ ...record, usedChallenges }, check, now);
  const stored = record.signCount ?? 0;
  if (!counterIncreased(stored, check.counter)) {
    const message = `signature counter ${check.counter} is not above ${stored}: another authenticator holds this key; security key ${record.deviceName} is flagged and verifies no more`;
    return { answer: refused(WebAuthnCode.CounterNotIncreased, message), next: { ...record, usedChallenges, cloneSuspectedAt: now.toISOString() } };
  }
  const next: MfaRecord = { ...record, usedChallenges, signCount: check.counter, failedAttempts: 0, lockedUntil: undefined };
  return { answer: { valid: true, deviceName: record.deviceName }, next };
}

function refused(code: WebAuthnCode, message: string): AssertionAnswer {
  return { valid: false, code, message };
}

function failed(record: MfaRecord, reason: CeremonyRefusal, now: Date): AssertionJudgement {
  return { answer: refused(reason.code, reason.message), next: { ...record, ...afterFailure(record, now.getTime()) } };
}

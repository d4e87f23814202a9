import { verifyAuthenticationResponse } from "@simplewebauthn/server";
import { isoBase64URL } from "@simplewebauthn/server/helpers";
import type { AuthenticationResponse } from "../api/webauthn.js";
import type { MfaRecord } from "../keystore/mfa-record.js";
import { afterFailure, lockedUntil } from "../otp/binding.js";
import { type ValidChallenge, challengeUsed, rememberChallenge } from "./assertion-challenge.js";
import { type CeremonyRefusal, checkAuthenticatorData, type ClientData, clientDataProblem, isRefusal, refusal, WebAuthnCode } from "./ceremony.js";
import type { RelyingParty } from "./relying-party.js";

export interface SignedAssertion {
  ok: true;
  /** The authenticator's signature counter in this assertion. */
  counter: number;
}

/**
 * Whether a resident key's user handle is the one registered with its credential. The handle is
 * neither signed nor always sent, so this proves nothing: it tells a client whose answer's fields
 * do not belong together, and a refusal by it changes no state.
 */
export function userHandleAgrees(response: AuthenticationResponse, registered: string): boolean {
  const handle = response.response.userHandle;
  return handle === undefined || handle === registered;
}

/**
 * Everything about one assertion that does not depend on the device's replay state: our origin,
 * our relying party id, the user present, and a signature by the registered public key. The
 * client data comes decoded, as the challenge was read from it; the counter is left to
 * judgeAssertion, which reads it against the record it will write.
 */
export async function checkAssertion(
  rp: RelyingParty,
  response: AuthenticationResponse,
  clientData: ClientData,
  credential: { id: string; publicKey: string; rpId: string },
): Promise<SignedAssertion | CeremonyRefusal> {
  const problem = clientDataProblem(clientData, "webauthn.get", rp);
  if (problem) return problem;
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
    return { ok: true, counter: verified.authenticationInfo.newCounter };
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
 * accepted or not. Failures count toward the lockout, as codes do; the counter is judgeCounter's.
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
  if (challengeUsed(record, challenge)) return failed(record, refusal(WebAuthnCode.ChallengeUsed, "this challenge was already answered; ask for a new one"), now);
  const spent: MfaRecord = { ...record, usedChallenges: rememberChallenge(record, challenge, now) };
  if (!check.ok) return failed(spent, check, now);
  return judgeCounter(spent, check.counter, challenge, now);
}

/**
 * A counter above the last one is accepted. One that did not rise answering a challenge that
 * was already out when an assertion was last accepted may have been signed before that one and
 * judged late: it is refused as stale, without counting toward the lockout (its signature is
 * good: nothing is being guessed) and without flagging. One that did not rise answering a
 * challenge issued after that acceptance was signed after the accepted assertion, so by a second
 * holder of the key: the key is flagged for good.
 */
function judgeCounter(spent: MfaRecord, counter: number, challenge: ValidChallenge, now: Date): AssertionJudgement {
  const stored = spent.signCount ?? 0;
  const lastAccepted = spent.lastAssertionAcceptedAt;
  if (counterIncreased(stored, counter)) {
    const next: MfaRecord = { ...spent, signCount: counter, lastAssertionAcceptedAt: now.toISOString(), failedAttempts: 0, lockedUntil: undefined };
    return { answer: { valid: true, deviceName: spent.deviceName }, next };
  }
  if (lastAccepted !== undefined && Date.parse(challenge.issuedAt) <= Date.parse(lastAccepted)) {
    const message = `signature counter ${counter} is not above ${stored}, and its challenge was issued before the last accepted assertion: possibly signed before it; ask for a new challenge`;
    return { answer: refused(WebAuthnCode.StaleAssertion, message), next: spent };
  }
  const message = `signature counter ${counter} is not above ${stored}: another authenticator holds this key; security key ${spent.deviceName} is flagged and verifies no more`;
  return { answer: refused(WebAuthnCode.CounterNotIncreased, message), next: { ...spent, cloneSuspectedAt: now.toISOString() } };
}

function refused(code: WebAuthnCode, message: string): AssertionAnswer {
  return { valid: false, code, message };
}

function failed(record: MfaRecord, reason: CeremonyRefusal, now: Date): AssertionJudgement {
  return { answer: refused(reason.code, reason.message), next: { ...record, ...afterFailure(record, now.getTime()) } };
}

import { generateAuthenticationOptions } from "@simplewebauthn/server";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { decodeClientDataJSON, isoBase64URL } from "@simplewebauthn/server/helpers";
import type { Logger } from "pino";
import type { AuthenticationResponse } from "../api/webauthn.js";
import type { KekSet } from "../keystore/kek.js";
import { isSecurityKey, type MfaRecord, openSecurityKey } from "../keystore/mfa-record.js";
import type { MfaRecordStore } from "../keystore/mfa-store.js";
import { isApiStatus } from "../runtime/errors.js";
import { ASSERTION_TTL_MS, checkAssertionChallenge, issueAssertionChallenge } from "./assertion-challenge.js";
import { type AssertionAnswer, type AssertionJudgement, checkAssertion, judgeAssertion } from "./assertion.js";
import { isRefusal, WebAuthnCode } from "./ceremony.js";
import type { RelyingParty } from "./relying-party.js";

export type ChallengeAnswer = { found: true; options: PublicKeyCredentialRequestOptionsJSON } | { found: false; code: "MfaDeviceNotFound"; message: string };

export type KeyAnswer = AssertionAnswer | { valid: false; code: "MfaDeviceNotFound"; message: string };

export interface AssertionCheckerOptions {
  records: Pick<MfaRecordStore, "bound" | "update">;
  keks: () => KekSet | undefined;
  rp: RelyingParty;
  now: () => Date;
  log: Logger;
  /** Told once a key is flagged as cloned, to show it on the device's status. */
  onCloneSuspected?: (record: MfaRecord) => Promise<void>;
}

const MAX_ATTEMPTS = 5;

function registeredKeys(records: readonly MfaRecord[]): MfaRecord[] {
  return records.filter((record) => isSecurityKey(record) && record.credentialId !== undefined);
}

/**
 * Security-key assertions for every replica: challenges anyone holding the KEK can check, and
 * each key's counter, used challenges and lockout in its keystore record, written with the
 * resourceVersion it was read at, so that of two replicas judging one challenge exactly one wins.
 */
export class AssertionChecker {
  constructor(private readonly options: AssertionCheckerOptions) {}

  private keks(): KekSet {
    const keks = this.options.keks();
    if (!keks) throw new Error("the key-encryption key is not loaded yet");
    return keks;
  }

  /** Options for navigator.credentials.get(): a fresh challenge for this user, and the keys that may answer it. */
  async challenge(namespace: string, user: string): Promise<ChallengeAnswer> {
    const registered = registeredKeys(await this.options.records.bound(namespace, user));
    const keys = registered.filter((record) => record.cloneSuspectedAt === undefined);
    if (keys.length === 0) {
      const why = registered.length === 0 ? "has no registered security key" : "has only security keys flagged as cloned; register a key again";
      return { found: false, code: "MfaDeviceNotFound", message: `user ${user} ${why}` };
    }
    const options = await generateAuthenticationOptions({
      rpID: keys[0]?.rpId ?? this.options.rp.id,
      // As bytes: the library would encode a string's UTF-8 once more, and the browser would sign that.
      challenge: isoBase64URL.toBuffer(issueAssertionChallenge(this.keks(), { namespace, user }, this.options.now())),
      allowCredentials: keys.map((record) => ({ id: record.credentialId ?? "", transports: record.transports })),
      timeout: ASSERTION_TTL_MS,
      userVerification: "preferred",
    });
    return { found: true, options };
  }

  /** Checks an assertion by one of the user's registered keys, answering to a challenge issued for that user. */
  async verify(namespace: string, user: string, assertion: AuthenticationResponse): Promise<KeyAnswer> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const keys = registeredKeys(await this.options.records.bound(namespace, user));
      if (keys.length === 0) return { valid: false, code: "MfaDeviceNotFound", message: `user ${user} has no registered security key` };
      const record = keys.find((candidate) => candidate.credentialId === assertion.id);
      if (!record) return { valid: false, code: WebAuthnCode.UnknownCredential, message: `the assertion is by a security key not registered to user ${user}` };
      try {
        return await this.decide(record, namespace, user, assertion);
      } catch (error) {
        if (!isApiStatus(error, 409)) throw error;
      }
    }
    throw new Error("the security key's record kept changing under concurrent checks");
  }

  /** The judgement for one record, unwritten: for a caller that writes it with something else (a session's issue). */
  async judge(record: MfaRecord, namespace: string, user: string, assertion: AuthenticationResponse): Promise<AssertionJudgement> {
    const keks = this.keks();
    const now = this.options.now();
    const challenge = checkAssertionChallenge(keks, readChallenge(assertion), { namespace, user }, now);
    if (isRefusal(challenge)) return { answer: { valid: false, code: challenge.code, message: challenge.message } };
    const secrets = openSecurityKey(keks, record);
    const credential = { id: record.credentialId ?? "", publicKey: secrets.publicKey ?? "", rpId: record.rpId ?? this.options.rp.id, userHandle: secrets.userId };
    return judgeAssertion(record, await checkAssertion(this.options.rp, assertion, credential), challenge, now);
  }

  private async decide(record: MfaRecord, namespace: string, user: string, assertion: AuthenticationResponse): Promise<AssertionAnswer> {
    const judgement = await this.judge(record, namespace, user, assertion);
    if (judgement.next) await this.options.records.update(judgement.next);
    if (!judgement.answer.valid) {
      this.options.log.info({ namespace, user, device: record.deviceName, reason: judgement.answer.code }, "security key assertion refused");
    }
    if (judgement.next?.cloneSuspectedAt !== undefined && record.cloneSuspectedAt === undefined) {
      this.options.log.warn({ namespace, user, device: record.deviceName }, "security key flagged as cloned: its signature counter went back");
      await this.options.onCloneSuspected?.(judgement.next);
    }
    return judgement.answer;
  }
}

// The challenge as the client data carries it; a malformed one is refused by the challenge check.
function readChallenge(assertion: AuthenticationResponse): string {
  try {
    const { challenge } = decodeClientDataJSON(assertion.response.clientDataJSON);
    return typeof challenge === "string" ? challenge : "";
  } catch {
    return "";
  }
}

import { generateAuthenticationOptions } from "@simplewebauthn/server";
import type { PublicKeyCredentialRequestOptionsJSON } from "@simplewebauthn/server";
import { isoBase64URL } from "@simplewebauthn/server/helpers";
import type { Logger } from "pino";
import type { AuthenticationResponse } from "../api/webauthn.js";
import type { KekSet } from "../keystore/kek.js";
import { isSecurityKey, type MfaRecord, openSecurityKey } from "../keystore/mfa-record.js";
import type { MfaRecordStore } from "../keystore/mfa-store.js";
import { isApiStatus } from "../runtime/errors.js";
import { ASSERTION_TTL_MS, checkAssertionChallenge, type ChallengeSubject, issueAssertionChallenge } from "./assertion-challenge.js";
import { type AssertionAnswer, type AssertionJudgement, checkAssertion, judgeAssertion, userHandleAgrees } from "./assertion.js";
import { isRefusal, readClientData, WebAuthnCode } from "./ceremony.js";
import type { RelyingParty } from "./relying-party.js";

export type ChallengeAnswer = { found: true; options: PublicKeyCredentialRequestOptionsJSON } | { found: false; code: "MfaDeviceNotFound"; message: string };

export type KeyAnswer = AssertionAnswer | { valid: false; code: "MfaDeviceNotFound"; message: string };

/** Who asks POST /v1/mfa/verify about whose key: the caller's access key id is the verified principal's. */
export interface VerifyCaller {
  namespace: string;
  user: string;
  accessKeyId: string;
}

export interface AssertionCheckerOptions {
  records: Pick<MfaRecordStore, "bound" | "update">;
  keks: () => KekSet | undefined;
  rp: RelyingParty;
  now: () => Date;
  log: Logger;
  /** Told once a key is flagged as cloned, to show it on the device's status. */
  onCloneSuspected?: (record: MfaRecord) => Promise<void>;
}

const MAX_CONFLICT_RETRIES = 5;

function registeredKeys(records: readonly MfaRecord[]): MfaRecord[] {
  return records.filter((record) => isSecurityKey(record) && record.credentialId !== undefined);
}

/** The registered security key among a user's records that made this assertion: the verifier's and a session's choice alike. */
export function keyNamedBy(records: readonly MfaRecord[], assertion: Pick<AuthenticationResponse, "id">): MfaRecord | undefined {
  return registeredKeys(records).find((record) => record.credentialId === assertion.id);
}

function noKeyMessage(user: string, registered: readonly MfaRecord[], forThisParty: readonly MfaRecord[], rpId: string): string {
  if (registered.length === 0) return `user ${user} has no registered security key`;
  if (forThisParty.length === 0) return `user ${user} has no security key registered for relying party id ${rpId}`;
  return `user ${user} has only security keys flagged as cloned; register a key again`;
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

  /**
   * Options for navigator.credentials.get(): a fresh challenge for this user and purpose, and the
   * keys that may answer it. Only keys of the configured relying party id are offered (a record
   * from before keys kept theirs is of it): the browser asks one relying party id at a time.
   */
  async challenge(subject: ChallengeSubject): Promise<ChallengeAnswer> {
    const rpId = this.options.rp.id;
    const registered = registeredKeys(await this.options.records.bound(subject.namespace, subject.user));
    const forThisParty = registered.filter((record) => (record.rpId ?? rpId) === rpId);
    const keys = forThisParty.filter((record) => record.cloneSuspectedAt === undefined);
    if (keys.length === 0) return { found: false, code: "MfaDeviceNotFound", message: noKeyMessage(subject.user, registered, forThisParty, rpId) };
    const options = await generateAuthenticationOptions({
      rpID: rpId,
      // As bytes: the library would encode a string's UTF-8 once more, and the browser would sign that.
      challenge: isoBase64URL.toBuffer(issueAssertionChallenge(this.keks(), subject, this.options.now())),
      allowCredentials: keys.map((record) => ({ id: record.credentialId ?? "", transports: record.transports })),
      timeout: ASSERTION_TTL_MS,
      userVerification: "preferred",
    });
    return { found: true, options };
  }

  /** Checks an assertion by one of the user's registered keys, answering a verify challenge this caller's key asked for. */
  async verify(caller: VerifyCaller, assertion: AuthenticationResponse): Promise<KeyAnswer> {
    const { namespace, user } = caller;
    for (let attempt = 0; attempt < MAX_CONFLICT_RETRIES; attempt++) {
      const records = await this.options.records.bound(namespace, user);
      if (registeredKeys(records).length === 0) return { valid: false, code: "MfaDeviceNotFound", message: `user ${user} has no registered security key` };
      const record = keyNamedBy(records, assertion);
      if (!record) return { valid: false, code: WebAuthnCode.UnknownCredential, message: `the assertion is by a security key not registered to user ${user}` };
      try {
        return await this.decide(record, { ...caller, purpose: "verify" }, assertion);
      } catch (error) {
        // Deleted while judged: its record is gone, and with it anything to write.
        if (isApiStatus(error, 404)) return { valid: false, code: "MfaDeviceNotFound", message: `security key ${record.deviceName} of user ${user} was removed` };
        if (!isApiStatus(error, 409)) throw error;
      }
    }
    throw new Error("the security key's record kept changing under concurrent checks");
  }

  /**
   * The judgement for one record, unwritten: for a caller that writes it with something else (a
   * session's issue). Refusals before judgeAssertion (client data unreadable, a challenge not
   * keygate's for this subject or expired, a user handle that disagrees) change no state.
   */
  async judge(record: MfaRecord, subject: ChallengeSubject, assertion: AuthenticationResponse): Promise<AssertionJudgement> {
    const keks = this.keks();
    const now = this.options.now();
    const clientData = readClientData(assertion.response.clientDataJSON);
    if (isRefusal(clientData)) return { answer: { valid: false, code: clientData.code, message: clientData.message } };
    const challenge = checkAssertionChallenge(keks, clientData.challenge, subject, now);
    if (isRefusal(challenge)) return { answer: { valid: false, code: challenge.code, message: challenge.message } };
    const secrets = openSecurityKey(keks, record);
    if (!userHandleAgrees(assertion, secrets.userId)) {
      return { answer: { valid: false, code: WebAuthnCode.UnknownCredential, message: "the assertion's user handle is not the one the key was registered for" } };
    }
    const credential = { id: record.credentialId ?? "", publicKey: secrets.publicKey ?? "", rpId: record.rpId ?? this.options.rp.id };
    return judgeAssertion(record, await checkAssertion(this.options.rp, assertion, clientData, credential), challenge, now);
  }

  private async decide(record: MfaRecord, subject: ChallengeSubject, assertion: AuthenticationResponse): Promise<AssertionAnswer> {
    const judgement = await this.judge(record, subject, assertion);
    if (judgement.next) await this.options.records.update(judgement.next);
    const { namespace, user } = subject;
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

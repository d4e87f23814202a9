import { createHash, createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import type { KekSet } from "../keystore/kek.js";
import type { MfaRecord } from "../keystore/mfa-record.js";
import { type CeremonyRefusal, refusal, WebAuthnCode } from "./ceremony.js";

/** How long an assertion challenge may be answered. */
export const ASSERTION_TTL_MS = 5 * 60 * 1000;

/** Where an assertion may be spent: POST /v1/mfa/verify, or a TemporaryCredential's spec.mfa.assertion. */
export type ChallengePurpose = "verify" | "session";

/**
 * Who may spend a challenge, and where. A verify challenge is for the access key that asked for
 * it only: an assertion someone else saw (a service it was sent to, a session's spec anyone with
 * `get` reads) is worth nothing to another key.
 */
export type ChallengeSubject = { namespace: string; user: string } & ({ purpose: "verify"; accessKeyId: string } | { purpose: "session" });

const VERSION = 2;
const PURPOSES: readonly ChallengePurpose[] = ["verify", "session"];
const NONCE_BYTES = 16;
const REQUESTER_BYTES = 16;
const EXPIRY_BYTES = 6;
const MAC_BYTES = 16;
// version, KEK version (2 bytes), purpose, nonce, requester, expiry in milliseconds, MAC.
const PURPOSE_AT = 3;
const NONCE_AT = PURPOSE_AT + 1;
const REQUESTER_AT = NONCE_AT + NONCE_BYTES;
const EXPIRY_AT = REQUESTER_AT + REQUESTER_BYTES;
const BODY_BYTES = EXPIRY_AT + EXPIRY_BYTES;
const TOKEN_BYTES = BODY_BYTES + MAC_BYTES;

// A key of its own, derived from the KEK: every process holding the KEK (the operator for a
// session's assertion, each verifier replica) can check a challenge any of them issued, with
// nothing stored until it is used.
function macKey(kek: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", kek, Buffer.alloc(0), "keygate webauthn assertion challenge", 32));
}

// The MAC covers the whole body, purpose and requester included, and the user it is for.
function mac(kek: Buffer, body: Buffer, subject: Pick<ChallengeSubject, "namespace" | "user">): Buffer {
  return createHmac("sha256", macKey(kek)).update(body).update(`\0${subject.namespace}\0${subject.user}`).digest().subarray(0, MAC_BYTES);
}

// The access key that asked, as a digest: enough to tell it from any other, and the key id
// itself stays out of a challenge that client data and logs of other services may show.
function requester(subject: ChallengeSubject): Buffer {
  if (subject.purpose === "session") return Buffer.alloc(REQUESTER_BYTES);
  return createHash("sha256").update(subject.accessKeyId).digest().subarray(0, REQUESTER_BYTES);
}

/** A challenge for one user's assertion: random, stamped with its purpose, requester and expiry, and authenticated for that user. */
export function issueAssertionChallenge(keks: KekSet, subject: ChallengeSubject, now: Date): string {
  const body = Buffer.alloc(BODY_BYTES);
  body.writeUInt8(VERSION, 0);
  body.writeUInt16BE(keks.current.version, 1);
  body.writeUInt8(PURPOSES.indexOf(subject.purpose), PURPOSE_AT);
  randomBytes(NONCE_BYTES).copy(body, NONCE_AT);
  requester(subject).copy(body, REQUESTER_AT);
  body.writeUIntBE(now.getTime() + ASSERTION_TTL_MS, EXPIRY_AT, EXPIRY_BYTES);
  return Buffer.concat([body, mac(keks.current.key, body, subject)]).toString("base64url");
}

export interface ValidChallenge {
  ok: true;
  /** The nonce, base64url: what the device's record remembers once the challenge is used. */
  id: string;
  /** When it was issued: its expiry less the TTL, to order it against the challenge last accepted. */
  issuedAt: string;
  expiresAt: string;
}

// Checked only once the MAC holds: the purpose and requester are then keygate's own.
function misdirected(token: Buffer, subject: ChallengeSubject): CeremonyRefusal | undefined {
  const purpose = PURPOSES[token.readUInt8(PURPOSE_AT)];
  if (purpose !== subject.purpose) {
    const where = subject.purpose === "verify" ? "POST /v1/mfa/verify" : "a TemporaryCredential";
    return refusal(WebAuthnCode.ChallengeMismatch, `the challenge was issued for purpose ${String(purpose)}, not ${subject.purpose}: ask for one with purpose ${subject.purpose} for ${where}`);
  }
  if (!token.subarray(REQUESTER_AT, EXPIRY_AT).equals(requester(subject))) {
    return refusal(WebAuthnCode.ChallengeMismatch, "the challenge was asked for by another access key: only the key that asked for a verify challenge may redeem it");
  }
  return undefined;
}

/** Whether keygate issued this challenge for this user, purpose and requester, and it has not expired; being unused is the record's to say. */
export function checkAssertionChallenge(keks: KekSet, challenge: string, subject: ChallengeSubject, now: Date): ValidChallenge | CeremonyRefusal {
  const token = Buffer.from(challenge, "base64url");
  const forged = refusal(WebAuthnCode.ChallengeMismatch, "the assertion answers no challenge keygate issued for this user (POST /v1/mfa/challenge)");
  if (token.length !== TOKEN_BYTES || token.readUInt8(0) !== VERSION) return forged;
  const kek = keks.ring.get(token.readUInt16BE(1));
  if (!kek) return forged;
  if (!timingSafeEqual(mac(kek, token.subarray(0, BODY_BYTES), subject), token.subarray(BODY_BYTES))) return forged;
  const wrongUse = misdirected(token, subject);
  if (wrongUse) return wrongUse;
  const expiresAt = token.readUIntBE(EXPIRY_AT, EXPIRY_BYTES);
  const expiry = new Date(expiresAt).toISOString();
  if (expiresAt <= now.getTime()) return refusal(WebAuthnCode.ChallengeExpired, `the challenge expired at ${expiry}; ask for a new one`);
  const id = token.subarray(NONCE_AT, REQUESTER_AT).toString("base64url");
  return { ok: true, id, issuedAt: new Date(expiresAt - ASSERTION_TTL_MS).toISOString(), expiresAt: expiry };
}

/** The challenges a record must still remember: the ones not yet expired, and this one. */
export function rememberChallenge(record: MfaRecord, challenge: ValidChallenge, now: Date): MfaRecord["usedChallenges"] {
  const live = (record.usedChallenges ?? []).filter((used) => Date.parse(used.expiresAt) > now.getTime());
  return [...live, { id: challenge.id, expiresAt: challenge.expiresAt }];
}

export function challengeUsed(record: MfaRecord, challenge: ValidChallenge): boolean {
  return (record.usedChallenges ?? []).some((used) => used.id === challenge.id);
}

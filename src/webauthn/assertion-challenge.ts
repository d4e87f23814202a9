import { createHmac, hkdfSync, randomBytes, timingSafeEqual } from "node:crypto";
import type { KekSet } from "../keystore/kek.js";
import type { MfaRecord } from "../keystore/mfa-record.js";
import { type CeremonyRefusal, refusal, WebAuthnCode } from "./ceremony.js";

/** How long an assertion challenge may be answered. */
export const ASSERTION_TTL_MS = 5 * 60 * 1000;

const VERSION = 1;
const NONCE_BYTES = 16;
const MAC_BYTES = 16;
// version, KEK version (2 bytes), nonce, expiry in seconds (4 bytes), MAC.
const TOKEN_BYTES = 1 + 2 + NONCE_BYTES + 4 + MAC_BYTES;

export interface ChallengeSubject {
  namespace: string;
  user: string;
}

// A key of its own, derived from the KEK: every process holding the KEK (the operator for a
// session's assertion, each verifier replica) can check a challenge any of them issued, with
// nothing stored until it is used.
function macKey(kek: Buffer): Buffer {
  return Buffer.from(hkdfSync("sha256", kek, Buffer.alloc(0), "keygate webauthn assertion challenge", 32));
}

function mac(kek: Buffer, body: Buffer, subject: ChallengeSubject): Buffer {
  return createHmac("sha256", macKey(kek)).update(body).update(`\0${subject.namespace}\0${subject.user}`).digest().subarray(0, MAC_BYTES);
}

/** A challenge for one user's assertion: random, stamped with its expiry, and authenticated for that user. */
export function issueAssertionChallenge(keks: KekSet, subject: ChallengeSubject, now: Date): string {
  const body = Buffer.alloc(TOKEN_BYTES - MAC_BYTES);
  body.writeUInt8(VERSION, 0);
  body.writeUInt16BE(keks.current.version, 1);
  randomBytes(NONCE_BYTES).copy(body, 3);
  body.writeUInt32BE(Math.floor((now.getTime() + ASSERTION_TTL_MS) / 1000), 3 + NONCE_BYTES);
  return Buffer.concat([body, mac(keks.current.key, body, subject)]).toString("base64url");
}

export interface ValidChallenge {
  ok: true;
  /** The nonce, base64url: what the device's record remembers once the challenge is used. */
  id: string;
  expiresAt: string;
}

/** Whether keygate issued this challenge for this user and it has not expired; being unused is the record's to say. */
export function checkAssertionChallenge(keks: KekSet, challenge: string, subject: ChallengeSubject, now: Date): ValidChallenge | CeremonyRefusal {
  const token = Buffer.from(challenge, "base64url");
  const forged = refusal(WebAuthnCode.ChallengeMismatch, "the assertion answers no challenge keygate issued for this user (POST /v1/mfa/challenge)");
  if (token.length !== TOKEN_BYTES || token.readUInt8(0) !== VERSION) return forged;
  const kek = keks.ring.get(token.readUInt16BE(1));
  if (!kek) return forged;
  const body = token.subarray(0, TOKEN_BYTES - MAC_BYTES);
  if (!timingSafeEqual(mac(kek, body, subject), token.subarray(TOKEN_BYTES - MAC_BYTES))) return forged;
  const expiresAt = new Date(token.readUInt32BE(3 + NONCE_BYTES) * 1000);
  if (expiresAt.getTime() <= now.getTime()) return refusal(WebAuthnCode.ChallengeExpired, `the challenge expired at ${expiresAt.toISOString()}; ask for a new one`);
  return { ok: true, id: token.subarray(3, 3 + NONCE_BYTES).toString("base64url"), expiresAt: expiresAt.toISOString() };
}

/** The challenges a record must still remember: the ones not yet expired, and this one. */
export function rememberChallenge(record: MfaRecord, challenge: ValidChallenge, now: Date): MfaRecord["usedChallenges"] {
  const live = (record.usedChallenges ?? []).filter((used) => Date.parse(used.expiresAt) > now.getTime());
  return [...live, { id: challenge.id, expiresAt: challenge.expiresAt }];
}

export function challengeUsed(record: MfaRecord, challenge: ValidChallenge): boolean {
  return (record.usedChallenges ?? []).some((used) => used.id === challenge.id);
}

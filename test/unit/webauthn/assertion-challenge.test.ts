import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { KekSet } from "../../../src/keystore/kek.js";
import type { MfaRecord } from "../../../src/keystore/mfa-record.js";
import {
  ASSERTION_TTL_MS,
  challengeUsed,
  checkAssertionChallenge,
  type ChallengeSubject,
  issueAssertionChallenge,
  rememberChallenge,
  type ValidChallenge,
} from "../../../src/webauthn/assertion-challenge.js";

const v1 = randomBytes(32);
const v2 = randomBytes(32);
const KEKS: KekSet = { current: { version: 1, key: v1 }, ring: new Map([[1, v1]]) };
const ROTATED: KekSet = { current: { version: 2, key: v2 }, ring: new Map([[1, v1], [2, v2]]) };
const ALICE: ChallengeSubject = { namespace: "team-a", user: "alice", purpose: "verify", accessKeyId: "KGAKFIRSTKEYFIRSTKEY" };
const ALICE_SESSION: ChallengeSubject = { namespace: "team-a", user: "alice", purpose: "session" };
const NOW = new Date("2030-01-01T00:00:00.000Z");
const later = (ms: number): Date => new Date(NOW.getTime() + ms);

function flip(challenge: string, byte: number): string {
  const token = Buffer.from(challenge, "base64url");
  token[byte] = (token[byte] ?? 0) ^ 1;
  return token.toString("base64url");
}

describe("assertion challenges", () => {
  it("checks for the user, purpose and requester it was issued to until it expires, with its nonce, issue time and expiry", () => {
    const issuedAt = new Date(NOW.getTime() + 123);
    for (const subject of [ALICE, ALICE_SESSION]) {
      const checked = checkAssertionChallenge(KEKS, issueAssertionChallenge(KEKS, subject, issuedAt), subject, later(ASSERTION_TTL_MS - 1000));
      expect(checked).toEqual({
        ok: true,
        id: expect.stringMatching(/^[A-Za-z0-9_-]{22}$/) as unknown,
        issuedAt: issuedAt.toISOString(),
        expiresAt: new Date(issuedAt.getTime() + ASSERTION_TTL_MS).toISOString(),
      });
    }
  });

  it("is different every time", () => {
    expect(issueAssertionChallenge(KEKS, ALICE, NOW)).not.toBe(issueAssertionChallenge(KEKS, ALICE, NOW));
  });

  it.each([
    ["another user of the namespace", { ...ALICE, user: "bob" }],
    ["the same user name in another namespace", { ...ALICE, namespace: "team-b" }],
  ])("is refused for %s", (_name, other) => {
    expect(checkAssertionChallenge(KEKS, issueAssertionChallenge(KEKS, ALICE, NOW), other, NOW)).toMatchObject({ ok: false, code: "ChallengeMismatch" });
  });

  it("issued for /v1/mfa/verify, is refused for a session, saying so", () => {
    expect(checkAssertionChallenge(KEKS, issueAssertionChallenge(KEKS, ALICE, NOW), ALICE_SESSION, NOW)).toEqual({
      ok: false,
      code: "ChallengeMismatch",
      message: "the challenge was issued for purpose verify, not session: ask for one with purpose session for a TemporaryCredential",
    });
  });

  it("issued for a session, is refused at /v1/mfa/verify, saying so", () => {
    expect(checkAssertionChallenge(KEKS, issueAssertionChallenge(KEKS, ALICE_SESSION, NOW), ALICE, NOW)).toEqual({
      ok: false,
      code: "ChallengeMismatch",
      message: "the challenge was issued for purpose session, not verify: ask for one with purpose verify for POST /v1/mfa/verify",
    });
  });

  it("issued for verification by one access key, is refused to another key of the namespace, saying so", () => {
    const byOther: ChallengeSubject = { ...ALICE, accessKeyId: "KGAKSECONDKEYSECONDK" };
    expect(checkAssertionChallenge(KEKS, issueAssertionChallenge(KEKS, ALICE, NOW), byOther, NOW)).toEqual({
      ok: false,
      code: "ChallengeMismatch",
      message: "the challenge was asked for by another access key: only the key that asked for a verify challenge may redeem it",
    });
  });

  it("is refused once expired, saying when", () => {
    const challenge = issueAssertionChallenge(KEKS, ALICE, NOW);
    expect(checkAssertionChallenge(KEKS, challenge, ALICE, later(ASSERTION_TTL_MS))).toEqual({
      ok: false,
      code: "ChallengeExpired",
      message: `the challenge expired at ${later(ASSERTION_TTL_MS).toISOString()}; ask for a new one`,
    });
  });

  it("refuses one forged: random bytes, another key's, or not base64url at all", () => {
    const otherKek = randomBytes(32);
    const forgedKeks: KekSet = { current: { version: 1, key: otherKek }, ring: new Map([[1, otherKek]]) };
    for (const forged of [randomBytes(60).toString("base64url"), issueAssertionChallenge(forgedKeks, ALICE, NOW), "", "not a challenge!"]) {
      expect(checkAssertionChallenge(KEKS, forged, ALICE, NOW)).toMatchObject({ ok: false, code: "ChallengeMismatch" });
    }
  });

  it("refuses one tampered with in any byte: version, KEK version, purpose, nonce, requester, expiry or MAC", () => {
    for (const subject of [ALICE, ALICE_SESSION]) {
      const challenge = issueAssertionChallenge(KEKS, subject, NOW);
      const length = Buffer.from(challenge, "base64url").length;
      for (let byte = 0; byte < length; byte++) {
        expect(checkAssertionChallenge(KEKS, flip(challenge, byte), subject, NOW)).toEqual({
          ok: false,
          code: "ChallengeMismatch",
          message: "the assertion answers no challenge keygate issued for this user (POST /v1/mfa/challenge)",
        });
      }
      expect(checkAssertionChallenge(KEKS, challenge.slice(0, -2), subject, NOW)).toMatchObject({ ok: false, code: "ChallengeMismatch" });
    }
  });

  it("issued under KEK v1, still checks once v2 is current; issued under v2, is refused by a process that has only v1", () => {
    const underV1 = issueAssertionChallenge(KEKS, ALICE, NOW);
    expect(checkAssertionChallenge(ROTATED, underV1, ALICE, NOW)).toMatchObject({ ok: true });
    const underV2 = issueAssertionChallenge(ROTATED, ALICE, NOW);
    expect(checkAssertionChallenge(ROTATED, underV2, ALICE, NOW)).toMatchObject({ ok: true });
    expect(checkAssertionChallenge(KEKS, underV2, ALICE, NOW)).toMatchObject({ ok: false, code: "ChallengeMismatch" });
  });
});

describe("remembering used challenges in a key's record", () => {
  const used = (id: string, expiresAt: Date) => ({ id, expiresAt: expiresAt.toISOString() });
  const record = (usedChallenges: MfaRecord["usedChallenges"]) => ({ usedChallenges }) as MfaRecord;
  const challenge: ValidChallenge = { ok: true, id: "new", issuedAt: NOW.toISOString(), expiresAt: later(ASSERTION_TTL_MS).toISOString() };

  it("adds the challenge and forgets only those that expired", () => {
    const kept = rememberChallenge(record([used("old", later(-1)), used("live", later(1000))]), challenge, NOW);
    expect(kept).toEqual([used("live", later(1000)), { id: "new", expiresAt: challenge.expiresAt }]);
  });

  it("tells a challenge used from one that is not", () => {
    expect(challengeUsed(record([used("new", later(1000))]), challenge)).toBe(true);
    expect(challengeUsed(record([used("other", later(1000))]), challenge)).toBe(false);
    expect(challengeUsed(record(undefined), challenge)).toBe(false);
  });
});

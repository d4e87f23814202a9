import { describe, expect, it } from "vitest";
import type { MfaRecord } from "../../../src/keystore/mfa-record.js";
import type { ValidChallenge } from "../../../src/webauthn/assertion-challenge.js";
import { checkAssertion, judgeAssertion, type SignedAssertion } from "../../../src/webauthn/assertion.js";
import { refusal } from "../../../src/webauthn/ceremony.js";
import { DEFAULT_RELYING_PARTY } from "../../../src/webauthn/relying-party.js";

const NOW = new Date("2030-01-01T00:00:00.000Z");
const at = (ms: number): string => new Date(NOW.getTime() + ms).toISOString();
const MINUTE = 60_000;

const challenge: ValidChallenge = { ok: true, id: "bm9uY2Utb25l", expiresAt: at(5 * MINUTE) };
const signed = (counter: number): SignedAssertion => ({ ok: true, counter, challenge: "the-challenge" });

function key(overrides: Partial<MfaRecord> = {}): MfaRecord {
  return {
    ownerUid: "uid-key",
    namespace: "team-a",
    user: "alice",
    deviceName: "yubikey",
    createdAt: at(-60 * MINUTE),
    sealed: "kgs1.1.x.y.z",
    bound: true,
    lastAcceptedStep: 0,
    failedAttempts: 0,
    deviceType: "SecurityKey",
    objectName: "alice-yubikey",
    credentialId: "a2V5LW9uZQ",
    rpId: "localhost",
    signCount: 7,
    ...overrides,
  };
}

describe("judging a security key's assertion", () => {
  it("accepts a higher counter: the counter moves on, the challenge is remembered, failures reset", () => {
    const judged = judgeAssertion(key({ failedAttempts: 3 }), signed(8), challenge, NOW);
    expect(judged.answer).toEqual({ valid: true, deviceName: "yubikey" });
    expect(judged.next).toEqual({ ...key(), signCount: 8, failedAttempts: 0, lockedUntil: undefined, usedChallenges: [{ id: challenge.id, expiresAt: challenge.expiresAt }] });
  });

  it("accepts counters of zero from a key that never counts", () => {
    const judged = judgeAssertion(key({ signCount: 0 }), signed(0), challenge, NOW);
    expect(judged.answer).toEqual({ valid: true, deviceName: "yubikey" });
    expect(judged.next?.signCount).toBe(0);
  });

  it("refuses a challenge already answered, counting the failure", () => {
    const used = key({ usedChallenges: [{ id: challenge.id, expiresAt: challenge.expiresAt }] });
    const judged = judgeAssertion(used, signed(8), challenge, NOW);
    expect(judged.answer).toMatchObject({ valid: false, code: "ChallengeUsed" });
    expect(judged.next).toMatchObject({ signCount: 7, failedAttempts: 1, usedChallenges: used.usedChallenges });
  });

  it.each([
    ["equal to", 7],
    ["lower than", 3],
    ["zero after counting to", 0],
  ])("flags the key as cloned when the counter is %s the last one", (_name, counter) => {
    const judged = judgeAssertion(key(), signed(counter), challenge, NOW);
    expect(judged.answer).toEqual({
      valid: false,
      code: "CounterNotIncreased",
      message: `signature counter ${counter} is not above 7: another authenticator holds this key; security key yubikey is flagged and verifies no more`,
    });
    expect(judged.next).toMatchObject({ cloneSuspectedAt: NOW.toISOString(), signCount: 7, usedChallenges: [{ id: challenge.id }] });
  });

  it("refuses every assertion of a flagged key, even a good one, writing nothing", () => {
    const judged = judgeAssertion(key({ cloneSuspectedAt: at(-MINUTE) }), signed(100), challenge, NOW);
    expect(judged).toEqual({
      answer: { valid: false, code: "AuthenticatorCloned", message: `security key yubikey was flagged as cloned at ${at(-MINUTE)}; register it again` },
    });
  });

  it("counts a refused signature check and uses up its challenge", () => {
    const judged = judgeAssertion(key(), refusal("OriginNotAllowed", "origin not allowed"), challenge, NOW);
    expect(judged.answer).toEqual({ valid: false, code: "OriginNotAllowed", message: "origin not allowed" });
    expect(judged.next).toMatchObject({ failedAttempts: 1, signCount: 7, usedChallenges: [{ id: challenge.id }] });
  });

  it("locks the key on the fifth failure in a row, then refuses without counting until the lock ends", () => {
    let record = key();
    for (let failure = 1; failure <= 5; failure++) {
      const judged = judgeAssertion(record, refusal("InvalidSignature", "bad"), { ...challenge, id: `c${failure}` }, NOW);
      record = judged.next ?? record;
    }
    expect(record).toMatchObject({ failedAttempts: 0, lockedUntil: at(5 * MINUTE) });
    const locked = judgeAssertion(record, signed(8), challenge, new Date(NOW.getTime() + MINUTE));
    expect(locked).toEqual({ answer: { valid: false, code: "MfaLocked", message: `too many failed attempts: locked until ${at(5 * MINUTE)}`, retryAfterSeconds: 240 } });
    const after = judgeAssertion(record, signed(8), challenge, new Date(NOW.getTime() + 5 * MINUTE));
    expect(after.answer).toEqual({ valid: true, deviceName: "yubikey" });
  });
});

describe("checking an assertion before its signature", () => {
  const clientData = (data: object): string => Buffer.from(JSON.stringify(data)).toString("base64url");
  const assertion = (userHandle?: string) => ({
    id: "a2V5LW9uZQ",
    rawId: "a2V5LW9uZQ",
    type: "public-key" as const,
    response: { clientDataJSON: clientData({ type: "webauthn.get", challenge: "Y2hhbGxlbmdl", origin: "http://localhost:4321" }), authenticatorData: "AAAA", signature: "AAAA", userHandle },
  });
  const credential = { id: "a2V5LW9uZQ", publicKey: "AAAA", rpId: "localhost", userHandle: "aGFuZGxlLW9uZQ" };

  it("refuses a resident key's assertion for another user handle than the key was registered with", async () => {
    expect(await checkAssertion(DEFAULT_RELYING_PARTY, assertion("aGFuZGxlLXR3bw"), credential)).toEqual({
      ok: false,
      code: "UnknownCredential",
      message: "the assertion's user handle is not the one the key was registered for",
    });
  });

  it("goes on to the authenticator data when the handle is the registered one, or absent (a non-resident key)", async () => {
    for (const handle of ["aGFuZGxlLW9uZQ", undefined]) {
      expect(await checkAssertion(DEFAULT_RELYING_PARTY, assertion(handle), credential)).toMatchObject({ ok: false, code: "MalformedResponse" });
    }
  });

  it("refuses another ceremony's client data, and a page at an origin not accepted", async () => {
    const created = { ...assertion(), response: { ...assertion().response, clientDataJSON: clientData({ type: "webauthn.create", challenge: "Y2hhbGxlbmdl", origin: "http://localhost:4321" }) } };
    expect(await checkAssertion(DEFAULT_RELYING_PARTY, created, credential)).toMatchObject({ ok: false, code: "WrongCeremony" });
    const elsewhere = { ...assertion(), response: { ...assertion().response, clientDataJSON: clientData({ type: "webauthn.get", challenge: "Y2hhbGxlbmdl", origin: "https://localhost:4321" }) } };
    expect(await checkAssertion(DEFAULT_RELYING_PARTY, elsewhere, credential)).toMatchObject({ ok: false, code: "OriginNotAllowed" });
  });
});

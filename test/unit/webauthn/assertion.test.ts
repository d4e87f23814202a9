import { describe, expect, it } from "vitest";
import type { MfaRecord } from "../../../src/keystore/mfa-record.js";
import type { ValidChallenge } from "../../../src/webauthn/assertion-challenge.js";
import { checkAssertion, judgeAssertion, type SignedAssertion, userHandleAgrees } from "../../../src/webauthn/assertion.js";
import { type ClientData, refusal } from "../../../src/webauthn/ceremony.js";
import { DEFAULT_RELYING_PARTY } from "../../../src/webauthn/relying-party.js";

const NOW = new Date("2030-01-01T00:00:00.000Z");
const at = (ms: number): string => new Date(NOW.getTime() + ms).toISOString();
const MINUTE = 60_000;

const challenge: ValidChallenge = { ok: true, id: "bm9uY2Utb25l", issuedAt: at(0), expiresAt: at(5 * MINUTE) };
const signed = (counter: number): SignedAssertion => ({ ok: true, counter });
const issuedAt = (ms: number, id = `issued-${ms}`): ValidChallenge => ({ ok: true, id, issuedAt: at(ms), expiresAt: at(ms + 5 * MINUTE) });

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
    expect(judged.next).toEqual({
      ...key(),
      signCount: 8,
      lastAssertionAcceptedAt: NOW.toISOString(),
      failedAttempts: 0,
      lockedUntil: undefined,
      usedChallenges: [{ id: challenge.id, expiresAt: challenge.expiresAt }],
    });
  });

  it("accepts a rising counter on a challenge older than the last acceptance, and notes when", () => {
    const judged = judgeAssertion(key({ lastAssertionAcceptedAt: at(-MINUTE) }), signed(8), issuedAt(-2 * MINUTE), NOW);
    expect(judged.answer).toEqual({ valid: true, deviceName: "yubikey" });
    expect(judged.next).toMatchObject({ signCount: 8, lastAssertionAcceptedAt: NOW.toISOString() });
  });

  it("takes two challenges answered in the reverse order for late answers, not a clone: B signed first, A judged first", () => {
    // Challenges A then B are issued; the key signs B (counter 6) then A (counter 7); A is accepted first.
    const a = judgeAssertion(key({ signCount: 5 }), signed(7), issuedAt(-2 * MINUTE, "a"), NOW);
    expect(a.answer).toMatchObject({ valid: true });
    const b = judgeAssertion(a.next ?? key(), signed(6), issuedAt(-MINUTE, "b"), new Date(NOW.getTime() + 1000));
    expect(b.answer).toMatchObject({ valid: false, code: "StaleAssertion" });
    expect(b.next?.cloneSuspectedAt).toBeUndefined();
  });

  it.each([
    ["before", -MINUTE],
    ["at the same instant as", 0],
  ])("refuses as stale, without flagging or counting, a counter that did not rise on a challenge issued %s the last acceptance", (_name, offset) => {
    const record = key({ lastAssertionAcceptedAt: at(0), failedAttempts: 2 });
    const older = issuedAt(offset);
    const judged = judgeAssertion(record, signed(6), older, NOW);
    expect(judged.answer).toEqual({
      valid: false,
      code: "StaleAssertion",
      message: "signature counter 6 is not above 7, and its challenge was issued before the last accepted assertion: possibly signed before it; ask for a new challenge",
    });
    expect(judged.next).toEqual({ ...record, usedChallenges: [{ id: older.id, expiresAt: older.expiresAt }] });
  });

  it("accepts two assertions judged in the order they were made, and refuses the earlier as stale when judged second, flagging nothing", () => {
    const first = issuedAt(0, "first");
    const second = issuedAt(1000, "second");
    const inOrder = judgeAssertion(key({ signCount: 5 }), signed(6), first, NOW).next;
    expect(inOrder && judgeAssertion(inOrder, signed(7), second, NOW).answer).toEqual({ valid: true, deviceName: "yubikey" });
    const reversed = judgeAssertion(key({ signCount: 5 }), signed(7), second, NOW).next;
    const late = reversed && judgeAssertion(reversed, signed(6), first, NOW);
    expect(late?.answer).toMatchObject({ valid: false, code: "StaleAssertion" });
    expect(late?.next?.cloneSuspectedAt).toBeUndefined();
  });

  it("flags the key when a counter did not rise on a challenge issued after the last acceptance", () => {
    const judged = judgeAssertion(key({ lastAssertionAcceptedAt: at(-MINUTE) }), signed(7), issuedAt(1 - MINUTE), NOW);
    expect(judged.answer).toMatchObject({ valid: false, code: "CounterNotIncreased" });
    expect(judged.next?.cloneSuspectedAt).toBe(NOW.toISOString());
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
  const clientData = (data: Partial<ClientData>): ClientData => ({ type: "webauthn.get", challenge: "Y2hhbGxlbmdl", origin: "http://localhost:4321", crossOrigin: false, ...data });
  const assertion = (userHandle?: string) => ({
    id: "a2V5LW9uZQ",
    rawId: "a2V5LW9uZQ",
    type: "public-key" as const,
    response: { clientDataJSON: "e30", authenticatorData: "AAAA", signature: "AAAA", userHandle },
  });
  const credential = { id: "a2V5LW9uZQ", publicKey: "AAAA", rpId: "localhost" };

  it("tells a user handle that is not the registered one; an absent one (a non-resident key) agrees", () => {
    expect(userHandleAgrees(assertion("aGFuZGxlLXR3bw"), "aGFuZGxlLW9uZQ")).toBe(false);
    expect(userHandleAgrees(assertion("aGFuZGxlLW9uZQ"), "aGFuZGxlLW9uZQ")).toBe(true);
    expect(userHandleAgrees(assertion(), "aGFuZGxlLW9uZQ")).toBe(true);
  });

  it("goes on to the authenticator data when the client data is of an assertion at an accepted origin", async () => {
    expect(await checkAssertion(DEFAULT_RELYING_PARTY, assertion(), clientData({}), credential)).toMatchObject({ ok: false, code: "MalformedResponse" });
  });

  it("refuses another ceremony's client data, and a page at an origin not accepted", async () => {
    expect(await checkAssertion(DEFAULT_RELYING_PARTY, assertion(), clientData({ type: "webauthn.create" }), credential)).toMatchObject({ ok: false, code: "WrongCeremony" });
    expect(await checkAssertion(DEFAULT_RELYING_PARTY, assertion(), clientData({ origin: "https://localhost:4321" }), credential)).toMatchObject({ ok: false, code: "OriginNotAllowed" });
    expect(await checkAssertion(DEFAULT_RELYING_PARTY, assertion(), clientData({ crossOrigin: true }), credential)).toMatchObject({ ok: false, code: "OriginNotAllowed" });
  });
});

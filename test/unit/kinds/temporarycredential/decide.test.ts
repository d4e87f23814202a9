import { describe, expect, it } from "vitest";
import type { TemporaryCredential } from "../../../../src/api/temporarycredential.js";
import type { MfaRecord } from "../../../../src/keystore/mfa-record.js";
import { decideTemporary, type IssuedFacts, type TemporaryObservation } from "../../../../src/kinds/temporarycredential/decide.js";
import { hotp, stepAt } from "../../../../src/otp/totp.js";
import type { AuthenticationResponse } from "../../../../src/api/webauthn.js";
import type { AssertionJudgement } from "../../../../src/webauthn/assertion.js";

const SEED = Buffer.from("0123456789abcdef0123", "ascii");
// Fifteen seconds into a 30-second step, so the codes around it are unambiguous.
const NOW = new Date(1_800_000_015_000);
const STEP = stepAt(NOW.getTime());
const code = (step: number): string => hotp(SEED, step);
const MINUTE = 60_000;
const RETENTION_MS = 10 * MINUTE;

const at = (offsetMs: number): string => new Date(NOW.getTime() + offsetMs).toISOString();

function credential(
  spec: Partial<TemporaryCredential["spec"]> = {},
  status?: TemporaryCredential["status"],
): TemporaryCredential {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "TemporaryCredential",
    metadata: { name: "s1", namespace: "team-a", uid: "uid-s1", generation: 1, creationTimestamp: at(-30 * MINUTE) },
    spec: { user: "alice", durationSeconds: 3600, ...spec },
    status,
  };
}

function facts(expiration: string, overrides: Partial<IssuedFacts> = {}): IssuedFacts {
  return { accessKeyId: "KGASAAAAAAAAAAAAAAAA", issuedAt: at(-30 * MINUTE), expiration, mfaAuthenticated: false, ...overrides };
}

function mfaRecord(overrides: Partial<MfaRecord> = {}): MfaRecord {
  return {
    ownerUid: "uid-m1",
    namespace: "team-a",
    user: "alice",
    deviceName: "phone",
    createdAt: at(-60 * MINUTE),
    sealed: "kgs1.1.x.y.z",
    bound: true,
    boundAt: at(-60 * MINUTE),
    lastAcceptedStep: STEP - 100,
    failedAttempts: 1,
    ...overrides,
  };
}

function observe(c: TemporaryCredential, extra: Partial<TemporaryObservation> = {}): TemporaryObservation {
  return { credential: c, secret: "absent", now: NOW, retentionMs: RETENTION_MS, ...extra };
}

const valid = facts(at(30 * MINUTE));
const expired = facts(at(-MINUTE));
const longExpired = facts(at(-RETENTION_MS - MINUTE));
const withMfa = (c: string) => credential({ mfa: { deviceName: "phone", code: c } });

describe("deciding the next step for a TemporaryCredential", () => {
  const cases: Array<[string, TemporaryObservation, Record<string, unknown>]> = [
    [
      "a refused MFA code recorded on the object is final, with its message",
      observe(withMfa(code(STEP)), { issuance: { result: "MfaFailed", message: "MFA code for device phone refused (InvalidCode)" } }),
      { kind: "none", outcome: { ready: false, reason: "MfaFailed", message: "MFA code for device phone refused (InvalidCode)", expired: false } },
    ],
    [
      "an issued session before its expiry is ready and looks again at the expiry",
      observe(credential(), { issuance: { result: "Issued", ...valid }, secret: "owned" }),
      { kind: "none", outcome: { ready: true, reason: "Issued", expired: false, facts: valid, requeueAt: Date.parse(valid.expiration) } },
    ],
    [
      "an issued session whose Secret was deleted by someone is still valid, not re-issued",
      observe(credential(), { issuance: { result: "Issued", ...valid }, secret: "absent" }),
      { kind: "none", outcome: { ready: true, reason: "Issued" } },
    ],
    [
      "an expired session deletes its Secret, then looks again at the end of the retention",
      observe(credential(), { issuance: { result: "Issued", ...expired }, secret: "owned" }),
      {
        kind: "deleteSecret",
        outcome: { ready: false, reason: "Expired", expired: true, facts: expired, requeueAt: Date.parse(expired.expiration) + RETENTION_MS },
      },
    ],
    [
      "a session expires at the very instant of its expiration",
      observe(credential(), { issuance: { result: "Issued", ...facts(NOW.toISOString()) }, secret: "owned" }),
      { kind: "deleteSecret" },
    ],
    [
      "an expired session whose Secret is gone stays, marked expired, until the end of the retention",
      observe(credential(), { issuance: { result: "Issued", ...expired }, secret: "absent" }),
      { kind: "none", outcome: { ready: false, reason: "Expired", expired: true, requeueAt: Date.parse(expired.expiration) + RETENTION_MS } },
    ],
    [
      "an expired session never deletes a Secret it did not create",
      observe(credential(), { issuance: { result: "Issued", ...expired }, secret: "foreign" }),
      { kind: "none", outcome: { reason: "Expired", expired: true } },
    ],
    [
      "an expired session is removed once the retention has passed",
      observe(credential(), { issuance: { result: "Issued", ...longExpired }, secret: "absent" }),
      { kind: "deleteResource" },
    ],
    [
      "an owned Secret without an issuance record (a crash) is recorded, not issued again",
      observe(credential(), { secret: "owned", secretFacts: valid }),
      { kind: "recordIssuance", facts: valid },
    ],
    [
      "status facts of an object issued by an earlier version are recorded, not issued again",
      observe(credential({}, { accessKeyId: valid.accessKeyId, issuedAt: valid.issuedAt, expiration: valid.expiration, mfaAuthenticated: true })),
      { kind: "recordIssuance", facts: { ...valid, mfaAuthenticated: true } },
    ],
    [
      "status facts without an issue time take the expiration, and no MFA flag means none",
      observe(credential({}, { accessKeyId: valid.accessKeyId, expiration: valid.expiration })),
      { kind: "recordIssuance", facts: { accessKeyId: valid.accessKeyId, issuedAt: valid.expiration, expiration: valid.expiration, mfaAuthenticated: false } },
    ],
    [
      "a status with an id but no expiration is not an issuance",
      observe(credential({}, { accessKeyId: valid.accessKeyId })),
      { kind: "issue" },
    ],
    [
      "a foreign Secret in the way is a conflict and nothing is issued",
      observe(credential(), { secret: "foreign" }),
      { kind: "none", outcome: { ready: false, reason: "SecretConflict", message: expect.stringContaining("s1-credentials") as unknown } },
    ],
    ["a session without MFA is issued", observe(credential()), { kind: "issue" }],
    [
      "a session naming a device that is not bound is refused and nothing is issued",
      observe(withMfa(code(STEP))),
      { kind: "refuseMfa", message: "MFA device phone is not a bound device of user alice; nothing was issued" },
    ],
  ];
  it.each(cases)("%s", (_name, obs, expected) => {
    expect(decideTemporary(obs)).toMatchObject(expected);
  });

  it("issues nothing when a foreign Secret is in the way, whatever the MFA code", () => {
    const step = decideTemporary(observe(withMfa(code(STEP)), { secret: "foreign", mfaDevice: { record: mfaRecord(), seed: SEED } }));
    expect(step).toMatchObject({ kind: "none", outcome: { reason: "SecretConflict" } });
  });
});

describe("judging the MFA code of a session", () => {
  const device = (overrides: Partial<MfaRecord> = {}) => ({ record: mfaRecord(overrides), seed: SEED });

  it("issues on a good code, using the code up with the issue", () => {
    const step = decideTemporary(observe(withMfa(code(STEP)), { mfaDevice: device() }));
    expect(step).toEqual({ kind: "issue", mfaRecord: { ...mfaRecord(), lastAcceptedStep: STEP, failedAttempts: 0, lockedUntil: undefined } });
  });

  it("refuses a wrong code, counting the failure", () => {
    const step = decideTemporary(observe(withMfa("000000"), { mfaDevice: device() }));
    expect(step).toEqual({
      kind: "refuseMfa",
      message: "MFA code for device phone refused (InvalidCode); nothing was issued",
      mfaRecord: { ...mfaRecord(), failedAttempts: 2, lockedUntil: undefined },
    });
  });

  it("locks the device on the fifth failure in a row", () => {
    const step = decideTemporary(observe(withMfa("000000"), { mfaDevice: device({ failedAttempts: 4 }) }));
    expect(step).toMatchObject({ kind: "refuseMfa", mfaRecord: { failedAttempts: 0, lockedUntil: at(5 * MINUTE) } });
  });

  it("refuses any code of a locked device without counting it", () => {
    const step = decideTemporary(observe(withMfa(code(STEP)), { mfaDevice: device({ lockedUntil: at(MINUTE) }) }));
    expect(step).toEqual({ kind: "refuseMfa", message: "MFA code for device phone refused (MfaLocked); nothing was issued", mfaRecord: undefined });
  });

  it("refuses a code already used", () => {
    const step = decideTemporary(observe(withMfa(code(STEP)), { mfaDevice: device({ lastAcceptedStep: STEP }) }));
    expect(step).toMatchObject({ kind: "refuseMfa", message: "MFA code for device phone refused (CodeReused); nothing was issued" });
  });

  it("does not judge the code again once the session was issued", () => {
    const step = decideTemporary(observe(withMfa("000000"), { issuance: { result: "Issued", ...valid }, mfaDevice: device() }));
    expect(step).toMatchObject({ kind: "none", outcome: { reason: "Issued" } });
  });
});

describe("an account that requires MFA (AccountPolicy requireMfa)", () => {
  const required = (c: TemporaryCredential, extra: Partial<TemporaryObservation> = {}) => decideTemporary(observe(c, { mfaRequired: true, ...extra }));

  it("issues nothing to a user with a bound device who gave no code, and records why", () => {
    expect(required(credential())).toEqual({
      kind: "requireMfa",
      message:
        "the account's AccountPolicy sets requireMfa and user alice has a bound MFA device: " +
        "a session must be requested with spec.mfa {deviceName, code} of a virtual device, or {assertion} of a security key; nothing was issued",
    });
  });

  it("keeps the refusal final once recorded, even if the policy is lifted since", () => {
    const step = decideTemporary(observe(credential(), { issuance: { result: "MfaRequired", message: "no code" }, mfaRequired: false }));
    expect(step).toEqual({ kind: "none", outcome: { ready: false, reason: "MfaRequired", message: "no code", expired: false } });
  });

  it("issues as usual when the user has no bound device, or the account does not require it", () => {
    expect(decideTemporary(observe(credential(), { mfaRequired: false }))).toEqual({ kind: "issue" });
    expect(decideTemporary(observe(credential()))).toEqual({ kind: "issue" });
  });

  it("judges a code given, whatever the policy", () => {
    const step = required(withMfa(code(STEP)), { mfaDevice: { record: mfaRecord(), seed: SEED } });
    expect(step).toMatchObject({ kind: "issue", mfaRecord: { lastAcceptedStep: STEP } });
  });

  it("never takes back a session already issued", () => {
    expect(required(credential(), { issuance: { result: "Issued", ...valid } })).toMatchObject({ kind: "none", outcome: { reason: "Issued" } });
  });
});

describe("judging the security key's assertion of a session", () => {
  const assertion: AuthenticationResponse = {
    id: "a2V5LW9uZQ",
    rawId: "a2V5LW9uZQ",
    type: "public-key",
    response: { clientDataJSON: "e30", authenticatorData: "AAAA", signature: "AAAA" },
  };
  const withAssertion = credential({ mfa: { assertion } });
  const key = mfaRecord({ deviceName: "yubikey", deviceType: "SecurityKey", credentialId: assertion.id, signCount: 7, failedAttempts: 0 });
  const judged = (judgement: AssertionJudgement) => decideTemporary(observe(withAssertion, { keyAssertion: { deviceName: "yubikey", judgement } }));

  it("issues on a valid assertion, writing the judged record (challenge used, counter moved) with the issue", () => {
    const next = { ...key, signCount: 8, usedChallenges: [{ id: "bm9uY2U", expiresAt: at(5 * MINUTE) }] };
    expect(judged({ answer: { valid: true, deviceName: "yubikey" }, next })).toEqual({ kind: "issue", mfaRecord: next });
  });

  it("refuses for good an assertion the judgement refused, naming its code, and writes what the refusal changed", () => {
    const next = { ...key, failedAttempts: 1 };
    const step = judged({ answer: { valid: false, code: "ChallengeUsed", message: "this challenge was already answered; ask for a new one" }, next });
    expect(step).toEqual({
      kind: "refuseMfa",
      message: "assertion of security key yubikey refused (ChallengeUsed: this challenge was already answered; ask for a new one); nothing was issued",
      mfaRecord: next,
    });
  });

  it("refuses a locked key's assertion without writing anything", () => {
    const step = judged({ answer: { valid: false, code: "MfaLocked", message: `too many failed attempts: locked until ${at(MINUTE)}`, retryAfterSeconds: 60 } });
    expect(step).toEqual({ kind: "refuseMfa", message: expect.stringContaining("refused (MfaLocked: too many failed attempts") as unknown, mfaRecord: undefined });
  });

  it("refuses an assertion by a key not registered to the user", () => {
    expect(decideTemporary(observe(withAssertion))).toEqual({
      kind: "refuseMfa",
      message: "the assertion is by a security key not registered to user alice (UnknownCredential); nothing was issued",
    });
  });

  it("refuses a code given for a security key's device name, which takes assertions only", () => {
    const step = decideTemporary(observe(credential({ mfa: { deviceName: "yubikey", code: code(STEP) } }), { codeForSecurityKey: true }));
    expect(step).toEqual({ kind: "refuseMfa", message: "MFA device yubikey is a security key: it answers with spec.mfa.assertion, not a code; nothing was issued" });
  });

  it("satisfies an account that requires MFA", () => {
    const next = { ...key, signCount: 8 };
    const step = decideTemporary(observe(withAssertion, { mfaRequired: true, keyAssertion: { deviceName: "yubikey", judgement: { answer: { valid: true, deviceName: "yubikey" }, next } } }));
    expect(step).toEqual({ kind: "issue", mfaRecord: next });
  });

  it("does not judge the assertion again once the session was issued", () => {
    const step = decideTemporary(observe(withAssertion, { issuance: { result: "Issued", ...valid, mfaAuthenticated: true } }));
    expect(step).toMatchObject({ kind: "none", outcome: { reason: "Issued", facts: { mfaAuthenticated: true } } });
  });
});

import { randomBytes } from "node:crypto";
import { ApiException } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { AuthenticationResponse } from "../../../src/api/webauthn.js";
import type { KekSet } from "../../../src/keystore/kek.js";
import { type MfaRecord, sealSecurityKey } from "../../../src/keystore/mfa-record.js";
import { checkAssertionChallenge, type ChallengeSubject } from "../../../src/webauthn/assertion-challenge.js";
import { AssertionChecker, keyNamedBy } from "../../../src/webauthn/checker.js";
import { DEFAULT_RELYING_PARTY } from "../../../src/webauthn/relying-party.js";

const kek = randomBytes(32);
const KEKS: KekSet = { current: { version: 1, key: kek }, ring: new Map([[1, kek]]) };
const NOW = new Date("2030-01-01T00:00:00.000Z");
const VERIFY: ChallengeSubject = { namespace: "team-a", user: "alice", purpose: "verify", accessKeyId: "KGAKFIRSTKEYFIRSTKEY" };
const CALLER = { namespace: "team-a", user: "alice", accessKeyId: "KGAKFIRSTKEYFIRSTKEY" };
const HANDLE = "aGFuZGxlLW9uZQ";

function key(overrides: Partial<MfaRecord>): MfaRecord {
  const record: MfaRecord = {
    ownerUid: "uid-key",
    namespace: "team-a",
    user: "alice",
    deviceName: "yubikey",
    createdAt: NOW.toISOString(),
    sealed: "",
    bound: true,
    lastAcceptedStep: 0,
    failedAttempts: 0,
    deviceType: "SecurityKey",
    credentialId: "a2V5LW9uZQ",
    rpId: "localhost",
    transports: ["usb"],
    signCount: 7,
    ...overrides,
  };
  return { ...record, sealed: sealSecurityKey(KEKS, record, { userId: HANDLE, publicKey: "AAAA" }) };
}

interface Store {
  records: MfaRecord[];
  written: MfaRecord[];
  /** What the API server answers an update with. */
  update: (record: MfaRecord) => Promise<MfaRecord>;
}

function store(records: MfaRecord[]): Store {
  const written: MfaRecord[] = [];
  return {
    records,
    written,
    update: (record) => {
      written.push(record);
      return Promise.resolve(record);
    },
  };
}

function checker(from: Store | MfaRecord[]): AssertionChecker {
  const records = Array.isArray(from) ? store(from) : from;
  return new AssertionChecker({
    records: { bound: () => Promise.resolve(records.records), update: (record) => records.update(record) },
    keks: () => KEKS,
    rp: DEFAULT_RELYING_PARTY,
    now: () => NOW,
    log: pino({ level: "silent" }),
  });
}

async function issued(keys: AssertionChecker, subject: ChallengeSubject = VERIFY): Promise<string> {
  const answer = await keys.challenge(subject);
  if (!answer.found) throw new Error(answer.message);
  return answer.options.challenge;
}

// Client data that passes every check before the signature; the signature itself is not one.
function unsignedAssertion(challenge: string, userHandle?: string): AuthenticationResponse {
  const clientDataJSON = Buffer.from(JSON.stringify({ type: "webauthn.get", challenge, origin: "http://localhost:4321" })).toString("base64url");
  return { id: "a2V5LW9uZQ", rawId: "a2V5LW9uZQ", type: "public-key", response: { clientDataJSON, authenticatorData: "AAAA", signature: "AAAA", userHandle } };
}

describe("the options a user's security keys are asked with", () => {
  it("carry, as the browser will sign it, a challenge keygate checks for that user, purpose and requester", async () => {
    const answer = await checker([key({})]).challenge(VERIFY);
    if (!answer.found) throw new Error(answer.message);
    expect(checkAssertionChallenge(KEKS, answer.options.challenge, VERIFY, NOW)).toMatchObject({ ok: true });
    expect(checkAssertionChallenge(KEKS, answer.options.challenge, { ...VERIFY, purpose: "session" }, NOW)).toMatchObject({ ok: false, code: "ChallengeMismatch" });
    expect(answer.options).toMatchObject({ rpId: "localhost", allowCredentials: [{ id: "a2V5LW9uZQ", type: "public-key", transports: ["usb"] }] });
  });

  it("offer only registered keys not flagged as cloned, and none at all is MfaDeviceNotFound", async () => {
    const answer = await checker([key({}), key({ credentialId: "Y2xvbmVk", cloneSuspectedAt: NOW.toISOString() }), key({ credentialId: undefined })]).challenge(VERIFY);
    expect(answer.found && answer.options.allowCredentials?.map((credential) => credential.id)).toEqual(["a2V5LW9uZQ"]);
    expect(await checker([]).challenge(VERIFY)).toEqual({ found: false, code: "MfaDeviceNotFound", message: "user alice has no registered security key" });
    expect(await checker([key({ cloneSuspectedAt: NOW.toISOString() })]).challenge(VERIFY)).toEqual({
      found: false,
      code: "MfaDeviceNotFound",
      message: "user alice has only security keys flagged as cloned; register a key again",
    });
  });

  it("name the configured relying party id and offer only keys registered for it, a record without one counting as it", async () => {
    const elsewhere = key({ credentialId: "ZWxzZXdoZXJl", rpId: "login.example.com" });
    const answer = await checker([elsewhere, key({ rpId: undefined }), key({ credentialId: "dGhpcmQ" })]).challenge(VERIFY);
    if (!answer.found) throw new Error(answer.message);
    expect(answer.options.rpId).toBe("localhost");
    expect(answer.options.allowCredentials?.map((credential) => credential.id)).toEqual(["a2V5LW9uZQ", "dGhpcmQ"]);
    expect(await checker([elsewhere]).challenge(VERIFY)).toEqual({
      found: false,
      code: "MfaDeviceNotFound",
      message: "user alice has no security key registered for relying party id localhost",
    });
  });
});

describe("choosing the key an assertion names", () => {
  it("is the registered security key with the assertion's credential id, and nothing else", () => {
    const virtual = { ...key({}), deviceType: undefined, credentialId: undefined, deviceName: "phone" };
    const other = key({ credentialId: "b3RoZXI", deviceName: "other" });
    const named = key({});
    expect(keyNamedBy([virtual, other, named], { id: "a2V5LW9uZQ" })).toBe(named);
    expect(keyNamedBy([virtual, other], { id: "a2V5LW9uZQ" })).toBeUndefined();
  });
});

describe("an assertion at /v1/mfa/verify", () => {
  it("whose user handle is not the registered one is UnknownCredential, and changes no state: neither its challenge nor the lockout", async () => {
    const records = store([key({})]);
    const keys = checker(records);
    const answer = await keys.verify(CALLER, unsignedAssertion(await issued(keys), "aGFuZGxlLXR3bw"));
    expect(answer).toEqual({ valid: false, code: "UnknownCredential", message: "the assertion's user handle is not the one the key was registered for" });
    expect(records.written).toEqual([]);
  });

  it("with the registered user handle, or none, goes on to the signature, whose refusal is counted", async () => {
    for (const handle of [HANDLE, undefined]) {
      const records = store([key({})]);
      const keys = checker(records);
      expect(await keys.verify(CALLER, unsignedAssertion(await issued(keys), handle))).toMatchObject({ valid: false, code: "MalformedResponse" });
      expect(records.written).toMatchObject([{ failedAttempts: 1 }]);
    }
  });

  it("answering a challenge another key of the namespace asked for is ChallengeMismatch, and changes no state", async () => {
    const records = store([key({})]);
    const keys = checker(records);
    const answer = await keys.verify({ ...CALLER, accessKeyId: "KGAKSECONDKEYSECONDK" }, unsignedAssertion(await issued(keys), HANDLE));
    expect(answer).toMatchObject({ valid: false, code: "ChallengeMismatch", message: expect.stringContaining("another access key") as unknown });
    expect(records.written).toEqual([]);
  });

  it("answering a session challenge is ChallengeMismatch, saying so", async () => {
    const keys = checker([key({})]);
    const session = await issued(keys, { namespace: "team-a", user: "alice", purpose: "session" });
    expect(await keys.verify(CALLER, unsignedAssertion(session, HANDLE))).toMatchObject({
      valid: false,
      code: "ChallengeMismatch",
      message: expect.stringContaining("purpose session, not verify") as unknown,
    });
  });

  it("by a key deleted while it was judged (its record is gone: 404) is MfaDeviceNotFound", async () => {
    const records = store([key({})]);
    records.update = () => Promise.reject(new ApiException(404, "HTTP-Code: 404", { message: 'secrets "kgmfa-uid-key" not found' }, {}));
    const keys = checker(records);
    expect(await keys.verify(CALLER, unsignedAssertion(await issued(keys), HANDLE))).toEqual({
      valid: false,
      code: "MfaDeviceNotFound",
      message: "security key yubikey of user alice was removed",
    });
  });

  it("whose record changed meanwhile (409) is judged again on the record as it is now", async () => {
    const records = store([key({})]);
    let conflicts = 1;
    records.update = (record) => {
      if (conflicts-- > 0) return Promise.reject(new ApiException(409, "HTTP-Code: 409", { message: "conflict" }, {}));
      records.written.push(record);
      return Promise.resolve(record);
    };
    const keys = checker(records);
    expect(await keys.verify(CALLER, unsignedAssertion(await issued(keys), HANDLE))).toMatchObject({ valid: false, code: "MalformedResponse" });
    expect(records.written).toHaveLength(1);
  });
});

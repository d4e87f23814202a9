import { randomBytes } from "node:crypto";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { KekSet } from "../../../src/keystore/kek.js";
import type { MfaRecord } from "../../../src/keystore/mfa-record.js";
import { checkAssertionChallenge } from "../../../src/webauthn/assertion-challenge.js";
import { AssertionChecker } from "../../../src/webauthn/checker.js";
import { DEFAULT_RELYING_PARTY } from "../../../src/webauthn/relying-party.js";

const kek = randomBytes(32);
const KEKS: KekSet = { current: { version: 1, key: kek }, ring: new Map([[1, kek]]) };
const NOW = new Date("2030-01-01T00:00:00.000Z");

function key(overrides: Partial<MfaRecord>): MfaRecord {
  return {
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
    ...overrides,
  };
}

function checker(records: MfaRecord[]): AssertionChecker {
  return new AssertionChecker({
    records: { bound: () => Promise.resolve(records), update: (record) => Promise.resolve(record) },
    keks: () => KEKS,
    rp: DEFAULT_RELYING_PARTY,
    now: () => NOW,
    log: pino({ level: "silent" }),
  });
}

describe("the options a user's security keys are asked with", () => {
  it("carry, as the browser will sign it, a challenge keygate checks for that user", async () => {
    const answer = await checker([key({})]).challenge("team-a", "alice");
    if (!answer.found) throw new Error(answer.message);
    expect(checkAssertionChallenge(KEKS, answer.options.challenge, { namespace: "team-a", user: "alice" }, NOW)).toMatchObject({ ok: true });
    expect(answer.options).toMatchObject({ rpId: "localhost", allowCredentials: [{ id: "a2V5LW9uZQ", type: "public-key", transports: ["usb"] }] });
  });

  it("offer only registered keys not flagged as cloned, and none at all is MfaDeviceNotFound", async () => {
    const answer = await checker([key({}), key({ credentialId: "Y2xvbmVk", cloneSuspectedAt: NOW.toISOString() }), key({ credentialId: undefined })]).challenge("team-a", "alice");
    expect(answer.found && answer.options.allowCredentials?.map((credential) => credential.id)).toEqual(["a2V5LW9uZQ"]);
    expect(await checker([]).challenge("team-a", "alice")).toEqual({ found: false, code: "MfaDeviceNotFound", message: "user alice has no registered security key" });
    expect(await checker([key({ cloneSuspectedAt: NOW.toISOString() })]).challenge("team-a", "alice")).toEqual({
      found: false,
      code: "MfaDeviceNotFound",
      message: "user alice has only security keys flagged as cloned; register a key again",
    });
  });
});

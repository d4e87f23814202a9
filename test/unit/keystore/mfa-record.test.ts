import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { KekSet } from "../../../src/keystore/kek.js";
import {
  type MfaRecord,
  mfaRecordToSecret,
  openSecurityKey,
  openSeed,
  sealSecurityKey,
  sealSeed,
  secretToMfaRecord,
} from "../../../src/keystore/mfa-record.js";
import { open } from "../../../src/keystore/seal.js";

const key = randomBytes(32);
const keks: KekSet = { current: { version: 1, key }, ring: new Map([[1, key]]) };
const OPERATOR_NAMESPACE = "keygate-system";
// What keygate wrote and read before security keys existed, and what a keygate of that time
// (mid-upgrade, or rolled back to) still does: its selector, and the AAD it opens a seed with.
const KIND_LABEL = "keystore.keygate.dev/kind";
const SEED_RECORD_KIND = "mfa-device";
const seedAadOf = (record: MfaRecord): string => `mfa-device/${record.namespace}/${record.ownerUid}`;

function record(overrides: Partial<MfaRecord>): MfaRecord {
  return {
    ownerUid: "5d0c9a52-8f0e-4d3e-a1c4-0f6b2e7d9a10",
    namespace: "team-a",
    user: "alice",
    deviceName: "alice-device",
    createdAt: "2026-11-22T10:00:00Z",
    sealed: "",
    bound: true,
    lastAcceptedStep: 0,
    failedAttempts: 0,
    ...overrides,
  };
}

const identity = { namespace: "team-a", ownerUid: "5d0c9a52-8f0e-4d3e-a1c4-0f6b2e7d9a10" };
const seed = randomBytes(20);
const virtual = record({ sealed: sealSeed(keks, identity, seed) });
const securityKey = record({
  deviceType: "SecurityKey",
  credentialId: "kT3vQ1",
  rpId: "localhost",
  signCount: 3,
  sealed: sealSecurityKey(keks, identity, { userId: "dXNlci1oYW5kbGUtMTIzNA", publicKey: "pQECAyYgASFYIA" }),
});

describe("MFA device keystore records", () => {
  it("keeps a virtual device's record as it was: kind mfa-device, its seed opening under the seed AAD", () => {
    const secret = mfaRecordToSecret(virtual, OPERATOR_NAMESPACE);
    expect(secret.metadata?.labels?.[KIND_LABEL]).toBe(SEED_RECORD_KIND);
    const back = secretToMfaRecord(secret);
    expect(back).toEqual(virtual);
    expect(back && open(back.sealed, keks.ring, seedAadOf(back))).toEqual(seed);
    expect(back && openSeed(keks, back)).toEqual(seed);
  });

  it("gives a security key's record a kind of its own, so a selector for mfa-device records does not list it", () => {
    const secret = mfaRecordToSecret(securityKey, OPERATOR_NAMESPACE);
    expect(secret.metadata?.labels?.[KIND_LABEL]).toBe("mfa-security-key");
  });

  it("reads a security key's type from its kind label, not from the state annotation", () => {
    const secret = mfaRecordToSecret(securityKey, OPERATOR_NAMESPACE);
    expect(secret.metadata?.annotations?.["keystore.keygate.dev/state"]).not.toContain("deviceType");
    expect(secretToMfaRecord(secret)).toEqual(securityKey);
    const relabelled = { ...secret, metadata: { ...secret.metadata, labels: { ...secret.metadata?.labels, [KIND_LABEL]: SEED_RECORD_KIND } } };
    expect(secretToMfaRecord(relabelled)?.deviceType).toBeUndefined();
  });

  it("does not open a security key's sealed credential as a TOTP seed", () => {
    const back = secretToMfaRecord(mfaRecordToSecret(securityKey, OPERATOR_NAMESPACE));
    if (!back) throw new Error("the record does not parse");
    expect(() => open(back.sealed, keks.ring, seedAadOf(back))).toThrow(/authentication/);
    expect(() => openSeed(keks, back)).toThrow(/authentication/);
    expect(openSecurityKey(keks, back)).toEqual({ userId: "dXNlci1oYW5kbGUtMTIzNA", publicKey: "pQECAyYgASFYIA" });
  });

  it("does not open a seed as a security key's credential", () => {
    expect(() => openSecurityKey(keks, { ...virtual, deviceType: "SecurityKey" })).toThrow(/authentication/);
  });

  it("ignores a Secret of another record kind", () => {
    const secret = mfaRecordToSecret(virtual, OPERATOR_NAMESPACE);
    const other = { ...secret, metadata: { ...secret.metadata, labels: { ...secret.metadata?.labels, [KIND_LABEL]: "access-key" } } };
    expect(secretToMfaRecord(other)).toBeUndefined();
  });
});

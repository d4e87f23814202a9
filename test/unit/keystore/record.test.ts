import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { KekSet } from "../../../src/keystore/kek.js";
import { type KeyRecord, openSecret, recordToSecret, sealSecret, secretToRecord } from "../../../src/keystore/record.js";

const key = randomBytes(32);
const keks: KekSet = { current: { version: 1, key }, ring: new Map([[1, key]]) };

describe("keystore records", () => {
  const record: KeyRecord = {
    accessKeyId: "KGAKABCDEFGHIJKLMNOP",
    namespace: "team-a",
    user: "alice@example",
    ownerUid: "0b7c1f1e-3f1a-4c9e-9d0b-2f0a1c2b3d4e",
    state: "Active",
    createdAt: "2026-11-22T10:00:00Z",
    issuedSecret: "k1-credentials",
    sealed: sealSecret(keks, "team-a", "KGAKABCDEFGHIJKLMNOP", "the-secret"),
  };

  it("round-trips through a Secret, and the secret opens", () => {
    const back = secretToRecord(recordToSecret(record, "keygate-system"));
    expect(back).toEqual({ ...record, recycledAt: undefined, resourceVersion: undefined });
    expect(back && openSecret(keks, back)).toBe("the-secret");
  });

  it("does not open a sealed secret moved to another key's record", () => {
    const moved = { ...record, accessKeyId: "KGAKZZZZZZZZZZZZZZZZ" };
    expect(() => openSecret(keks, moved)).toThrow(/authentication/);
  });

  it("ignores a Secret that is not a complete record", () => {
    const secret = recordToSecret(record, "keygate-system");
    delete secret.metadata?.annotations?.["keystore.keygate.dev/user"];
    expect(secretToRecord(secret)).toBeUndefined();
  });
});

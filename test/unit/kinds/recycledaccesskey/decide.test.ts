import { describe, expect, it } from "vitest";
import type { RecycledAccessKey } from "../../../../src/api/recycledaccesskey.js";
import { type BinObservation, decide } from "../../../../src/kinds/recycledaccesskey/decide.js";
import type { KeyRecord } from "../../../../src/keystore/record.js";
import { PURGE_FINALIZER } from "../../../../src/labels.js";

const NOW = new Date("2026-11-22T12:00:00Z");
const DELETED_AT = "2026-11-20T09:30:00.000Z";
const ID = "KGAKAAAAAAAAAAAAAAAA";

function bin(meta: Partial<RecycledAccessKey["metadata"]> = {}): RecycledAccessKey {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "RecycledAccessKey",
    metadata: { name: ID.toLowerCase(), namespace: "team-a", finalizers: [PURGE_FINALIZER], generation: 1, ...meta },
    spec: { accessKeyId: ID, user: "alice", accessKeyName: "ci", deletedBy: "bob", deletedAt: DELETED_AT, expiresAt: "2026-12-20T09:30:00.000Z" },
  };
}

function record(overrides: Partial<KeyRecord> = {}): KeyRecord {
  return {
    accessKeyId: ID,
    namespace: "team-a",
    user: "alice",
    ownerUid: "uid-ci",
    state: "Recycled",
    createdAt: "2026-11-01T00:00:00Z",
    recycledAt: DELETED_AT,
    sealed: "kgs1.1.x.y.z",
    resourceVersion: "42",
    ...overrides,
  };
}

const deleting = { deletionTimestamp: NOW.toISOString() };

describe("deciding the next step for a RecycledAccessKey", () => {
  const cases: Array<[string, BinObservation, string, string?]> = [
    ["an object that shows its recycled record is ready and says how to purge or restore", { bin: bin(), record: record(), now: NOW }, "none", "InRecycleBin"],
    ["a deleted object whose record is in the bin purges the record first", { bin: bin(deleting), record: record(), now: NOW }, "purge"],
    ["a deleted object whose record is gone lets go of its finalizer", { bin: bin(deleting), now: NOW }, "removeFinalizer"],
    [
      "a deleted object whose key was restored lets go without a purge, whoever deleted it",
      { bin: bin(deleting), record: record({ state: "Active", recycledAt: undefined, ownerUid: "uid-new" }), now: NOW },
      "removeFinalizer",
    ],
    [
      "a deleted object from an earlier stay in the bin lets go without purging the key deleted again since",
      { bin: bin(deleting), record: record({ recycledAt: "2026-11-21T10:00:00.000Z" }), now: NOW },
      "removeFinalizer",
    ],
    [
      "a deleted object never purges a record of another namespace",
      { bin: bin(deleting), record: record({ namespace: "team-b" }), now: NOW },
      "removeFinalizer",
    ],
    ["a deleted object never purges a record of another user", { bin: bin(deleting), record: record({ user: "carol" }), now: NOW }, "removeFinalizer"],
    ["a deleted object without its finalizer has nothing left to do", { bin: bin({ ...deleting, finalizers: [] }), record: record(), now: NOW }, "none", "Purged"],
    ["an object whose key was restored deletes itself", { bin: bin(), record: record({ state: "Inactive", recycledAt: undefined }), now: NOW }, "deleteBinObject"],
    ["an object whose record was purged deletes itself", { bin: bin(), now: NOW }, "deleteBinObject"],
  ];
  it.each(cases)("%s", (_name, obs, kind, reason) => {
    const step = decide(obs);
    expect(step.kind).toBe(kind);
    if (reason) expect(step.kind === "none" && step.outcome.reason).toBe(reason);
  });

  it("names the id, the user, the expiry and both ways out in its ready message", () => {
    const step = decide({ bin: bin(), record: record(), now: NOW });
    expect(step.kind === "none" && step.outcome.message).toBe(
      `access key ${ID} of user alice is in the recycle bin until 2026-12-20T09:30:00.000Z: delete this object to purge it for good, ` +
        `or restore it with spec.restoreFrom: ${ID} on a new AccessKey of user alice`,
    );
  });
});

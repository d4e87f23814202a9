import { describe, expect, it } from "vitest";
import type { AccessKey } from "../../../../src/api/accesskey.js";
import { parseRecycledAccessKey, recycledAccessKeyObject } from "../../../../src/api/recycledaccesskey.js";
import { missingFromBin } from "../../../../src/kinds/accesskey/purge.js";
import { binEntry } from "../../../../src/kinds/accesskey/recycle-bin.js";
import type { KeyRecord } from "../../../../src/keystore/record.js";
import { DELETED_BY_ANNOTATION, PURGE_FINALIZER } from "../../../../src/labels.js";

const DAY = 24 * 60 * 60 * 1000;

function record(overrides: Partial<KeyRecord> = {}): KeyRecord {
  return {
    accessKeyId: "KGAKAAAAAAAAAAAAAAAA",
    namespace: "team-a",
    user: "alice",
    ownerUid: "uid-ci",
    state: "Recycled",
    createdAt: "2026-11-01T00:00:00Z",
    recycledAt: "2026-11-20T09:30:00.000Z",
    sealed: "kgs1.1.secret-material",
    ...overrides,
  };
}

const deleted: AccessKey = {
  apiVersion: "iam.keygate.dev/v1alpha1",
  kind: "AccessKey",
  metadata: { name: "ci", namespace: "team-a", uid: "uid-ci", annotations: { [DELETED_BY_ANNOTATION]: "bob@example" } },
  spec: { user: "alice", state: "Inactive", description: "the CI runner" },
};

describe("what the recycle bin shows of a recycled key", () => {
  it("shows the key's public facts, who deleted it, when, and when it expires", () => {
    expect(binEntry(record(), 30 * DAY, deleted)).toEqual({
      accessKeyId: "KGAKAAAAAAAAAAAAAAAA",
      user: "alice",
      accessKeyName: "ci",
      description: "the CI runner",
      deletedBy: "bob@example",
      deletedAt: "2026-11-20T09:30:00.000Z",
      expiresAt: "2026-12-20T09:30:00.000Z",
    });
  });

  it("says plainly that the deleter is unknown when the AccessKey did not record it", () => {
    const anonymous = { ...deleted, metadata: { ...deleted.metadata, annotations: {} } };
    expect(binEntry(record(), 30 * DAY, anonymous).deletedBy).toBe("unknown");
  });

  it("shows a record recycled before the bin was visible with what the record knows, counting from its creation when it noted no recycle time", () => {
    expect(binEntry(record({ recycledAt: undefined }), DAY)).toEqual({
      accessKeyId: "KGAKAAAAAAAAAAAAAAAA",
      user: "alice",
      deletedBy: "unknown",
      deletedAt: "2026-11-01T00:00:00Z",
      expiresAt: "2026-11-02T00:00:00.000Z",
    });
  });

  it("makes an object the schema accepts, named by the lowercased id, with the purge finalizer, and never the sealed secret", () => {
    const object = recycledAccessKeyObject("team-a", binEntry(record(), 30 * DAY, deleted), PURGE_FINALIZER);
    expect(parseRecycledAccessKey(object).ok).toBe(true);
    expect(object.metadata).toEqual({ name: "kgakaaaaaaaaaaaaaaaa", namespace: "team-a", finalizers: [PURGE_FINALIZER] });
    expect(JSON.stringify(object)).not.toContain("secret-material");
  });
});

describe("records recycled without a bin object", () => {
  const binned = new Set(["team-a/kgakbbbbbbbbbbbbbbbb"]);
  const cases: Array<[string, KeyRecord, boolean]> = [
    ["a recycled record with no object and no AccessKey gets one", record(), true],
    ["a recycled record that has its object is left alone", record({ accessKeyId: "KGAKBBBBBBBBBBBBBBBB" }), false],
    ["a recycled record whose AccessKey still exists is left to that key's deletion", record({ ownerUid: "uid-live" }), false],
    ["a live record is not in the bin", record({ state: "Inactive", recycledAt: undefined }), false],
    ["an object of the same id in another namespace does not count", record({ accessKeyId: "KGAKBBBBBBBBBBBBBBBB", namespace: "team-b" }), true],
  ];
  it.each(cases)("%s", (_name, candidate, missing) => {
    expect(missingFromBin([candidate], binned, new Set(["uid-live"]))).toEqual(missing ? [candidate] : []);
  });
});

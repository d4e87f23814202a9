import { describe, expect, it } from "vitest";
import type { AccessKey } from "../../../../src/api/accesskey.js";
import { type AccessKeyObservation, decide, livingKeys } from "../../../../src/kinds/accesskey/decide.js";
import type { KeyRecord } from "../../../../src/keystore/record.js";
import type { UserSlots } from "../../../../src/keystore/user-slots.js";
import { FINALIZER } from "../../../../src/labels.js";

const NOW = new Date("2026-11-22T12:00:00Z");
const DAY = 24 * 60 * 60 * 1000;

function key(name: string, overrides: Partial<AccessKey["spec"]> = {}, meta: Partial<AccessKey["metadata"]> = {}): AccessKey {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "AccessKey",
    metadata: {
      name,
      namespace: "team-a",
      uid: `uid-${name}`,
      creationTimestamp: `2026-11-22T10:00:0${name.length % 10}Z`,
      finalizers: [FINALIZER],
      generation: 1,
      ...meta,
    },
    spec: { user: "alice", state: "Active", ...overrides },
  };
}

function record(overrides: Partial<KeyRecord> = {}): KeyRecord {
  return {
    accessKeyId: "KGAKAAAAAAAAAAAAAAAA",
    namespace: "team-a",
    user: "alice",
    ownerUid: "uid-k1",
    state: "Active",
    createdAt: "2026-11-22T10:00:00Z",
    sealed: "kgs1.1.x.y.z",
    ...overrides,
  };
}

function slotsHeldBy(...keys: AccessKey[]): UserSlots {
  return { namespace: "team-a", user: "alice", holders: keys.map((k) => ({ name: k.metadata.name ?? "", uid: k.metadata.uid ?? "" })), resourceVersion: "7" };
}

function slotWithId(k: AccessKey, accessKeyId: string): UserSlots {
  return { namespace: "team-a", user: "alice", holders: [{ name: k.metadata.name ?? "", uid: k.metadata.uid ?? "", accessKeyId }], resourceVersion: "7" };
}

function conflicted(k: AccessKey, since: string): AccessKey {
  const condition = { type: "Ready", status: "False", reason: "SecretConflict", message: "m", lastTransitionTime: since, observedGeneration: 1 } as const;
  return { ...k, status: { conditions: [condition] } };
}

// A key with a record holds its slot under the record's id, unless a case says otherwise.
function observe(k: AccessKey, extra: Partial<AccessKeyObservation> = {}): AccessKeyObservation {
  const slots = extra.record && !("slots" in extra) ? slotWithId(k, extra.record.accessKeyId) : undefined;
  return { key: k, peers: [k], secret: "absent", slots, now: NOW, recycleRetentionMs: 30 * DAY, ...extra };
}

describe("deciding the next step for an AccessKey", () => {
  const cases: Array<[string, AccessKeyObservation, string, string?]> = [
    ["a new key first gets the finalizer", observe(key("k1", {}, { finalizers: [] })), "addFinalizer"],
    ["a key with the finalizer and no record first claims a slot", observe(key("k1")), "claimSlot"],
    ["a key holding a slot and no record is issued under the slot's id", observe(key("k1"), { slots: slotWithId(key("k1"), "KGAKBBBBBBBBBBBBBBBB") }), "issue"],
    ["a key holding a slot without an id claims it again, with one", observe(key("k1"), { slots: slotsHeldBy(key("k1")) }), "claimSlot"],
    ["a record without an issued Secret writes it", observe(key("k1"), { record: record() }), "writeSecret"],
    [
      "an owned Secret found after a crash is recorded as issued, not rewritten",
      observe(key("k1"), { record: record(), secret: "owned" }),
      "markIssued",
    ],
    [
      "a foreign Secret is a conflict and is left alone",
      observe(key("k1"), { record: record(), secret: "foreign" }),
      "none",
      "SecretConflict",
    ],
    [
      "an issued Secret that was deleted is reported missing, never re-issued",
      observe(key("k1"), { record: record({ issuedSecret: "k1-credentials" }) }),
      "none",
      "SecretMissing",
    ],
    [
      "an issued, present Secret means the key is ready",
      observe(key("k1"), { record: record({ issuedSecret: "k1-credentials" }), secret: "owned" }),
      "none",
      "Issued",
    ],
    [
      "a spec state that differs from the record changes the record first",
      observe(key("k1", { state: "Inactive" }), { record: record({ issuedSecret: "k1-credentials" }), secret: "owned" }),
      "setRecordState",
    ],
    [
      "an inactive key is ready but says it is inactive",
      observe(key("k1", { state: "Inactive" }), {
        record: record({ state: "Inactive", issuedSecret: "k1-credentials" }),
        secret: "owned",
      }),
      "none",
      "Inactive",
    ],
    [
      "a deleted key with a record moves it to the recycle bin",
      observe(key("k1", {}, { deletionTimestamp: NOW.toISOString() }), { record: record() }),
      "recycle",
    ],
    [
      "a deleted key whose record is recycled and slot given back lets go of its finalizer",
      observe(key("k1", {}, { deletionTimestamp: NOW.toISOString() }), { record: record({ state: "Recycled" }), slots: undefined }),
      "removeFinalizer",
    ],
    [
      "a deleted key that never got a record lets go at once",
      observe(key("k1", {}, { deletionTimestamp: NOW.toISOString() })),
      "removeFinalizer",
    ],
    [
      "a deleted key whose recycled record has no bin object creates it",
      observe(key("k1", {}, { deletionTimestamp: NOW.toISOString() }), { record: record({ state: "Recycled", recycledAt: "2026-11-22T12:00:00Z" }), binObject: "absent" }),
      "createBinObject",
    ],
    [
      "a deleted key whose namespace is being deleted goes on without a bin object",
      observe(key("k1", {}, { deletionTimestamp: NOW.toISOString() }), {
        record: record({ state: "Recycled", recycledAt: "2026-11-22T12:00:00Z" }),
        binObject: "unwritable",
        slots: undefined,
      }),
      "removeFinalizer",
    ],
    [
      "a deleted key finds a bin object left from an earlier stay in the bin and has it make way",
      observe(key("k1", {}, { deletionTimestamp: NOW.toISOString() }), {
        record: record({ state: "Recycled", recycledAt: "2026-11-22T12:00:00Z" }),
        binObject: { deletedAt: "2026-11-01T08:00:00Z" },
      }),
      "dropStaleBinObject",
    ],
    [
      "a deleted key whose bin object notes the same instant, in another precision, goes on to its slot",
      observe(key("k1", {}, { deletionTimestamp: NOW.toISOString() }), {
        record: record({ state: "Recycled", recycledAt: "2026-11-22T12:00:00.000Z" }),
        binObject: { deletedAt: "2026-11-22T12:00:00Z" },
        slots: slotsHeldBy(key("k1")),
      }),
      "releaseSlot",
    ],
    [
      "a deleted key gives its slot back once its record is recycled",
      observe(key("k1", {}, { deletionTimestamp: NOW.toISOString() }), { record: record({ state: "Recycled" }), slots: slotsHeldBy(key("k1")) }),
      "releaseSlot",
    ],
  ];
  it.each(cases)("%s", (_name, obs, kind, reason) => {
    const step = decide(obs);
    expect(step.kind).toBe(kind);
    if (reason) expect(step.kind === "none" && step.outcome.reason).toBe(reason);
  });
});

describe("the two-key cap", () => {
  const first = key("a1", {}, { creationTimestamp: "2026-11-22T10:00:01Z" });
  const second = key("a2", {}, { creationTimestamp: "2026-11-22T10:00:02Z" });
  const third = key("a3", {}, { creationTimestamp: "2026-11-22T10:00:03Z" });

  it("lets the two oldest keys live and refuses the third with both names", () => {
    const step = decide(observe(third, { peers: [third, second, first] }));
    expect(step.kind).toBe("none");
    if (step.kind !== "none") return;
    expect(step.outcome.reason).toBe("KeyLimitExceeded");
    expect(step.outcome.message).toContain("alice");
    expect(step.outcome.message).toContain("a1 and a2");
  });

  it("breaks a creation-time tie by name, the same way on every replica", () => {
    const x = key("x", {}, { creationTimestamp: "2026-11-22T10:00:00Z" });
    const y = key("y", {}, { creationTimestamp: "2026-11-22T10:00:00Z" });
    const z = key("z", {}, { creationTimestamp: "2026-11-22T10:00:00Z" });
    expect(livingKeys([z, y, x]).map((k) => k.metadata.name)).toEqual(["x", "y"]);
    expect(livingKeys([y, x, z]).map((k) => k.metadata.name)).toEqual(["x", "y"]);
  });

  it("does not count a key that is being deleted", () => {
    const leaving = key("a1", {}, { creationTimestamp: "2026-11-22T10:00:01Z", deletionTimestamp: NOW.toISOString() });
    expect(decide(observe(third, { peers: [leaving, second, third] })).kind).toBe("claimSlot");
  });

  it("refuses a key once both slots are held, naming their holders, whatever its age", () => {
    const step = decide(observe(first, { peers: [first, second, third], slots: slotsHeldBy(second, third) }));
    expect(step.kind === "none" && step.outcome.reason).toBe("KeyLimitExceeded");
    expect(step.kind === "none" && step.outcome.message).toContain("a2 and a3");
  });

  it("adds the claimant to the ledger it read, keeping its resourceVersion as the guard", () => {
    const step = decide(observe(second, { peers: [first, second], slots: slotsHeldBy(first) }));
    expect(step).toEqual({ kind: "claimSlot", slots: { ...slotsHeldBy(first, second), resourceVersion: "7" } });
  });

  it("counts the keys that already have an id as holders while the user has no ledger", () => {
    const issued = (k: AccessKey): AccessKey => ({ ...k, status: { accessKeyId: `KGAK${k.metadata.name}` } });
    const step = decide(observe(first, { peers: [first, issued(second), issued(third)] }));
    expect(step.kind === "none" && step.outcome.reason).toBe("KeyLimitExceeded");
  });

  it("drops a holder whose AccessKey is gone when it claims", () => {
    const step = decide(observe(third, { peers: [second, third], slots: slotsHeldBy(first, second), staleHolders: ["uid-a1"] }));
    expect(step).toEqual({ kind: "claimSlot", slots: { ...slotsHeldBy(second, third), resourceVersion: "7" } });
  });
  it("never takes issuance away from a key that already has its record", () => {
    const step = decide(observe(third, { peers: [first, second, third], record: record({ ownerUid: "uid-a3" }) }));
    expect(step.kind).toBe("writeSecret");
  });
});

describe("a record written by an operator that kept no ledger", () => {
  const legacy = key("k1");
  const other = key("k2", {}, { creationTimestamp: "2026-11-22T09:00:00Z" });

  it("takes its slot under the id it has before anything else", () => {
    const step = decide(observe(legacy, { record: record(), slots: slotsHeldBy(other) }));
    expect(step.kind === "claimSlot" && step.slots.holders).toEqual([
      { name: "k2", uid: "uid-k2" },
      { name: "k1", uid: "uid-k1", accessKeyId: "KGAKAAAAAAAAAAAAAAAA" },
    ]);
  });

  it("takes the free slot ahead of an older key still waiting for one: it is already live", () => {
    const older = key("k0", {}, { creationTimestamp: "2026-11-22T08:00:00Z" });
    const step = decide(observe(legacy, { peers: [older, other, legacy], record: record(), slots: slotsHeldBy(other) }));
    expect(step.kind === "claimSlot" && step.slots.holders.map((holder) => holder.name)).toEqual(["k2", "k1"]);
  });

  it("keeps working when no slot is free: that operator's rule already allowed it", () => {
    const third = key("k3", {}, { creationTimestamp: "2026-11-22T09:30:00Z" });
    expect(decide(observe(legacy, { record: record(), slots: slotsHeldBy(other, third) })).kind).toBe("writeSecret");
  });
});

describe("a Secret in the way", () => {
  const older = key("a1", {}, { creationTimestamp: "2026-11-22T10:00:01Z" });
  const younger = key("a2", {}, { creationTimestamp: "2026-11-22T10:00:02Z" });
  const youngest = key("a3", {}, { creationTimestamp: "2026-11-22T10:00:03Z" });

  it("gets no slot and no id, and is looked at again 1 s later", () => {
    const step = decide(observe(older, { peers: [older], secret: "foreign" }));
    expect(step.kind === "none" && step.outcome).toMatchObject({ reason: "SecretConflict", requeueAt: NOW.getTime() + 1000 });
  });

  it("is looked at again less often the longer it lasts, at least every 5 minutes", () => {
    const since = (ms: number): AccessKeyObservation =>
      observe(conflicted(older, new Date(NOW.getTime() - ms).toISOString()), { peers: [older], secret: "foreign" });
    const at = (obs: AccessKeyObservation): number | undefined => {
      const step = decide(obs);
      return step.kind === "none" ? step.outcome.requeueAt : undefined;
    };
    expect(at(since(8000))).toBe(NOW.getTime() + 8000);
    expect(at(since(3 * 60 * 60 * 1000))).toBe(NOW.getTime() + 5 * 60 * 1000);
  });

  it("gives back a slot it held", () => {
    const step = decide(observe(older, { peers: [older], secret: "foreign", slots: slotsHeldBy(older, younger) }));
    expect(step).toEqual({ kind: "releaseSlot", slots: { ...slotsHeldBy(younger), resourceVersion: "7" } });
  });

  it("does not keep a younger key of the user from its slot", () => {
    const blocked = conflicted(older, "2026-11-22T11:00:00Z");
    expect(decide(observe(youngest, { peers: [blocked, younger, youngest], slots: slotsHeldBy(younger) })).kind).toBe("claimSlot");
    expect(livingKeys([blocked, younger, youngest]).map((k) => k.metadata.name)).toEqual(["a2", "a3"]);
  });
});

describe("restoring from the recycle bin", () => {
  const restoring = key("r1", { restoreFrom: "KGAKAAAAAAAAAAAAAAAA" });
  const recycled = record({ state: "Recycled", recycledAt: "2026-11-20T12:00:00Z", ownerUid: "uid-old" });

  it("claims a slot with the id it restores, then the recycled record of the same user within the retention", () => {
    const claim = decide(observe(restoring, { restoreCandidate: recycled }));
    expect(claim.kind === "claimSlot" && claim.slots.holders).toEqual([{ name: "r1", uid: "uid-r1", accessKeyId: "KGAKAAAAAAAAAAAAAAAA" }]);
    expect(decide(observe(restoring, { restoreCandidate: recycled, slots: slotWithId(restoring, "KGAKBBBBBBBBBBBBBBBB") })).kind).toBe("claimSlot");
    const step = decide(observe(restoring, { restoreCandidate: recycled, slots: slotWithId(restoring, "KGAKAAAAAAAAAAAAAAAA") }));
    expect(step).toEqual({ kind: "claimRecord", record: recycled });
  });

  it("takes no slot for a restore that cannot be done, and gives back one it held", () => {
    expect(decide(observe(restoring)).kind).toBe("none");
    expect(decide(observe(restoring, { slots: slotsHeldBy(restoring) })).kind).toBe("releaseSlot");
  });

  const refusals: Array<[string, KeyRecord | undefined, RegExp]> = [
    ["refuses an id that is not in the recycle bin at all", undefined, /no deleted key/],
    ["refuses another user's key", { ...recycled, user: "bob" }, /no deleted key/],
    ["refuses another namespace's key", { ...recycled, namespace: "team-b" }, /no deleted key/],
    ["refuses a key that is still in use", { ...recycled, state: "Active" }, /still in use/],
    ["refuses a key whose retention has ended", { ...recycled, recycledAt: "2026-10-01T00:00:00Z" }, /retention has ended/],
  ];
  it.each(refusals)("%s", (_name, candidate, message) => {
    const step = decide(observe(restoring, { restoreCandidate: candidate }));
    expect(step.kind).toBe("none");
    if (step.kind === "none") {
      expect(step.outcome.reason).toBe("RestoreFailed");
      expect(step.outcome.message).toMatch(message);
    }
  });
});

describe("purging the recycle bin", () => {
  const recycled = (recycledAt: string): KeyRecord => record({ state: "Recycled", recycledAt });

  it("purges exactly the recycled records whose retention has ended", async () => {
    const { dueForPurge, nextPurgeAt } = await import("../../../../src/kinds/accesskey/purge.js");
    const old = recycled("2026-10-01T00:00:00Z");
    const fresh = recycled("2026-11-21T00:00:00Z");
    const active = record();
    expect(dueForPurge([old, fresh, active], NOW, 30 * DAY)).toEqual([old]);
    expect(nextPurgeAt([fresh, active], 30 * DAY)).toBe(Date.parse("2026-11-21T00:00:00Z") + 30 * DAY);
    expect(nextPurgeAt([active], 30 * DAY)).toBeUndefined();
  });
});

import { describe, expect, it } from "vitest";
import type { AccessKey, AccessKeyStatus } from "../../../../src/api/accesskey.js";
import type { Outcome } from "../../../../src/kinds/accesskey/decide.js";
import { desiredStatus, settledSecretName, transitionEvents } from "../../../../src/kinds/accesskey/status.js";
import type { KeyRecord } from "../../../../src/keystore/record.js";
import { FINALIZER } from "../../../../src/labels.js";

const NOW = new Date("2026-11-22T12:00:00.500Z");
const NOW_TEXT = "2026-11-22T12:00:00Z";
const CREATED = "2026-11-22T10:00:00Z";
const ID = "KGAKAAAAAAAAAAAAAAAA";

function key(status?: AccessKeyStatus, spec: Partial<AccessKey["spec"]> = {}): AccessKey {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "AccessKey",
    metadata: { name: "k1", namespace: "team-a", uid: "uid-k1", finalizers: [FINALIZER], generation: 4 },
    spec: { user: "alice", state: "Active", ...spec },
    status,
  };
}

function record(overrides: Partial<KeyRecord> = {}): KeyRecord {
  return {
    accessKeyId: ID,
    namespace: "team-a",
    user: "alice",
    ownerUid: "uid-k1",
    state: "Active",
    createdAt: CREATED,
    sealed: "kgs1.1.x.y.z",
    issuedSecret: "k1-credentials",
    ...overrides,
  };
}

function outcome(reason: Outcome["reason"], ready = reason === "Issued" || reason === "Inactive"): Outcome {
  return { ready, reason, message: `because ${reason}` };
}

describe("the status an AccessKey should show", () => {
  it("shows the record's facts, last use starting at the issue time, its Secret and Ready", () => {
    expect(desiredStatus({ key: key(), record: record(), outcome: outcome("Issued"), now: NOW })).toEqual({
      accessKeyId: ID,
      createdAt: CREATED,
      state: "Active",
      lastUsed: { time: CREATED },
      secretRef: { name: "k1-credentials" },
      conditions: [{ type: "Ready", status: "True", reason: "Issued", message: "because Issued", observedGeneration: 4, lastTransitionTime: NOW_TEXT }],
      observedGeneration: 4,
    });
  });

  it("never overwrites the last use the verifier recorded", () => {
    const lastUsed = { time: "2026-11-22T11:59:00Z", service: "s3", region: "eu-west-1", sourceIP: "10.0.0.7" };
    const status = desiredStatus({ key: key({ lastUsed }), record: record(), outcome: outcome("Issued"), now: NOW });
    expect(status.lastUsed).toEqual(lastUsed);
  });

  it("hides the state of a recycled key", () => {
    const status = desiredStatus({ key: key(), record: record({ state: "Recycled" }), outcome: outcome("Recycled"), now: NOW });
    expect(status).toMatchObject({ accessKeyId: ID, createdAt: CREATED });
    expect(status).not.toHaveProperty("state");
  });

  it("shows no key facts before there is a record", () => {
    const status = desiredStatus({ key: key(), outcome: outcome("KeyLimitExceeded"), now: NOW });
    for (const field of ["accessKeyId", "createdAt", "state", "lastUsed", "secretRef"]) expect(status).not.toHaveProperty(field);
  });

  const secretRefs: Array<[Outcome["reason"], boolean]> = [
    ["Issued", true],
    ["Inactive", true],
    ["Pending", false],
    ["SecretMissing", false],
    ["SecretConflict", false],
    ["KeyLimitExceeded", false],
    ["RestoreFailed", false],
    ["Recycled", false],
  ];
  it.each(secretRefs)("names the Secret when the outcome is %s: %s", (reason, named) => {
    const status = desiredStatus({ key: key(undefined, { secretName: "my-key" }), record: record(), outcome: outcome(reason), now: NOW });
    expect(status.secretRef).toEqual(named ? { name: "my-key" } : undefined);
  });

  it("keeps the transition time when Ready does not flip", () => {
    const issued = desiredStatus({ key: key(), record: record(), outcome: outcome("Issued"), now: new Date("2026-11-22T10:00:05Z") });
    const inactive = desiredStatus({ key: key(issued), record: record({ state: "Inactive" }), outcome: outcome("Inactive"), now: NOW });
    expect(inactive.conditions?.[0]).toMatchObject({ reason: "Inactive", lastTransitionTime: "2026-11-22T10:00:05Z" });
  });

  it("computes the same status again from the status it wrote, so a resync writes nothing", () => {
    const first = desiredStatus({ key: key(), record: record(), outcome: outcome("Issued"), now: NOW });
    expect(desiredStatus({ key: key(first), record: record(), outcome: outcome("Issued"), now: new Date("2026-11-23T00:00:00Z") })).toEqual(first);
  });
});

describe("the Events of an AccessKey's status changes", () => {
  const status = (state?: "Active" | "Inactive", reason = "Issued"): AccessKeyStatus => ({
    accessKeyId: ID,
    state,
    conditions: [{ type: "Ready", status: "True", reason, message: "", observedGeneration: 4, lastTransitionTime: CREATED }],
  });

  const warning = (reason: string) => [{ type: "Warning", reason }];
  const cases: Array<{
    name: string;
    previous: AccessKeyStatus | undefined;
    next: AccessKeyStatus;
    outcome: Outcome;
    events: Array<{ type: string; reason: string }>;
  }> = [
    { name: "deactivation is a Normal event", previous: status("Active"), next: status("Inactive"), outcome: outcome("Inactive"), events: [{ type: "Normal", reason: "Deactivated" }] },
    { name: "reactivation is a Normal event", previous: status("Inactive"), next: status("Active"), outcome: outcome("Issued"), events: [{ type: "Normal", reason: "Reactivated" }] },
    { name: "a first issue says nothing here (the issuing step does)", previous: undefined, next: status("Active"), outcome: outcome("Issued"), events: [] },
    { name: "a resync of an active key says nothing", previous: status("Active"), next: status("Active"), outcome: outcome("Issued"), events: [] },
    { name: "the cap refusal warns", previous: undefined, next: {}, outcome: outcome("KeyLimitExceeded"), events: warning("KeyLimitExceeded") },
    { name: "a foreign Secret warns", previous: status("Active", "Pending"), next: status("Active"), outcome: outcome("SecretConflict"), events: warning("SecretConflict") },
    { name: "a deleted Secret warns", previous: status("Active"), next: status("Active"), outcome: outcome("SecretMissing"), events: warning("SecretMissing") },
    { name: "a refused restore warns", previous: undefined, next: {}, outcome: outcome("RestoreFailed"), events: warning("RestoreFailed") },
    { name: "a warning is not repeated while the reason stays", previous: status("Active", "SecretMissing"), next: status("Active"), outcome: outcome("SecretMissing"), events: [] },
    {
      name: "a deactivation while the Secret is missing says both",
      previous: status("Active"),
      next: status("Inactive"),
      outcome: outcome("SecretMissing"),
      events: [{ type: "Normal", reason: "Deactivated" }, ...warning("SecretMissing")],
    },
  ];
  it.each(cases)("$name", ({ previous, next, outcome: out, events }) => {
    expect(transitionEvents(previous, next, out).map(({ type, reason }) => ({ type, reason }))).toEqual(events);
  });

  it("names the key in state events and carries the outcome's message in warnings", () => {
    expect(transitionEvents(status("Active"), status("Inactive"), outcome("Inactive"))).toEqual([
      { type: "Normal", reason: "Deactivated", message: `access key ${ID} deactivated` },
    ]);
    expect(transitionEvents(undefined, {}, outcome("KeyLimitExceeded"))).toEqual([
      { type: "Warning", reason: "KeyLimitExceeded", message: "because KeyLimitExceeded" },
    ]);
  });
});

describe("whether a new leader may leave a key alone", () => {
  const settled = desiredStatus({ key: key(), record: record(), outcome: outcome("Issued"), now: NOW });

  it("names the issued Secret of a key settled for its current spec", () => {
    expect(settledSecretName(key(settled))).toBe("k1-credentials");
  });

  it.each([
    ["its spec changed since (a newer generation)", { ...key(settled), metadata: { ...key().metadata, generation: 5 } }],
    ["its state was changed and not yet applied", key(settled, { state: "Inactive" })],
    ["it is being deleted", { ...key(settled), metadata: { ...key().metadata, deletionTimestamp: NOW_TEXT } }],
    ["it is not ready", key(desiredStatus({ key: key(), record: record(), outcome: outcome("SecretMissing"), now: NOW }))],
    ["it was never reconciled", key()],
  ])("says no when %s", (_name, candidate) => {
    expect(settledSecretName(candidate)).toBeUndefined();
  });
});

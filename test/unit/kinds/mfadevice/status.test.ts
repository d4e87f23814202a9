import { describe, expect, it } from "vitest";
import type { MfaDevice, MfaDeviceStatus } from "../../../../src/api/mfadevice.js";
import type { MfaRecord } from "../../../../src/keystore/mfa-record.js";
import type { MfaOutcome } from "../../../../src/kinds/mfadevice/decide.js";
import { desiredStatus, transitionEvents } from "../../../../src/kinds/mfadevice/status.js";
import { FINALIZER } from "../../../../src/labels.js";

const NOW = new Date("2027-01-15T08:00:15.250Z");
const NOW_TEXT = "2027-01-15T08:00:15Z";
const EARLIER = "2027-01-15T07:00:00Z";

function device(status?: MfaDeviceStatus, generation = 3): MfaDevice {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "MfaDevice",
    metadata: { name: "m1", namespace: "team-a", uid: "uid-m1", finalizers: [FINALIZER], generation },
    spec: { user: "alice", type: "Virtual", deviceName: "phone" },
    status,
  };
}

function record(overrides: Partial<MfaRecord> = {}): MfaRecord {
  return {
    ownerUid: "uid-m1",
    namespace: "team-a",
    user: "alice",
    deviceName: "phone",
    createdAt: "2027-01-15T06:00:00Z",
    sealed: "kgs1.1.x.y.z",
    bound: false,
    lastAcceptedStep: 0,
    failedAttempts: 0,
    issuedSecret: "m1-credentials",
    ...overrides,
  };
}

function outcome(reason: MfaOutcome["reason"], ready = false, message = `because ${reason}`): MfaOutcome {
  return { ready, reason, message };
}

function readyCondition(status: "True" | "False", reason: string, lastTransitionTime = EARLIER) {
  return { type: "Ready", status, reason, message: `because ${reason}`, observedGeneration: 2, lastTransitionTime };
}

describe("the status an MfaDevice should show", () => {
  const cases: Array<[string, { record?: MfaRecord; outcome: MfaOutcome }, Partial<MfaDeviceStatus>, string[]]> = [
    ["a device with no record yet is not bound and shows nothing else", { outcome: outcome("Pending") }, { bound: false }, ["boundAt", "failedAttempts", "secretRef"]],
    [
      "a pending device shows its failed attempts and its Secret",
      { record: record({ failedAttempts: 2 }), outcome: outcome("BindingFailed") },
      { bound: false, failedAttempts: 2, secretRef: { name: "m1-credentials" } },
      ["boundAt", "lockedUntil"],
    ],
    [
      "a bound device whose seed Secret was removed refers to no Secret",
      { record: record({ bound: true, boundAt: EARLIER, seedSecretRemovedAt: EARLIER }), outcome: outcome("Bound", true) },
      { bound: true, boundAt: EARLIER },
      ["secretRef", "failedAttempts"],
    ],
    [
      "a bound device shows when it was bound, and no failed attempts",
      { record: record({ bound: true, boundAt: EARLIER, failedAttempts: 3 }), outcome: outcome("Bound", true) },
      { bound: true, boundAt: EARLIER, secretRef: { name: "m1-credentials" } },
      ["failedAttempts"],
    ],
    [
      "a lock still running is shown",
      { record: record({ lockedUntil: "2027-01-15T08:05:00Z" }), outcome: outcome("BindingLocked") },
      { lockedUntil: "2027-01-15T08:05:00Z" },
      [],
    ],
    [
      "a lock that has run out is not",
      { record: record({ lockedUntil: "2027-01-15T08:00:15Z" }), outcome: outcome("Pending") },
      { bound: false },
      ["lockedUntil"],
    ],
    [
      "a record whose Secret was never written names no Secret",
      { record: record({ issuedSecret: undefined }), outcome: outcome("Issued") },
      { bound: false },
      ["secretRef"],
    ],
  ];
  it.each(cases)("%s", (_name, input, shown, hidden) => {
    const status = desiredStatus({ device: device(), ...input, now: NOW });
    expect(status).toMatchObject(shown);
    for (const field of hidden) expect(status).not.toHaveProperty(field);
  });

  it("turns the outcome into the Ready condition, at the object's generation", () => {
    const status = desiredStatus({ device: device(undefined, 7), record: record(), outcome: outcome("Pending", false, "waiting"), now: NOW });
    expect(status.observedGeneration).toBe(7);
    expect(status.conditions).toEqual([
      { type: "Ready", status: "False", reason: "Pending", message: "waiting", observedGeneration: 7, lastTransitionTime: NOW_TEXT },
    ]);
  });

  it("keeps the transition time when Ready does not flip, and moves it when it does", () => {
    const previous = device({ conditions: [readyCondition("False", "Pending")] });
    const refused = desiredStatus({ device: previous, record: record(), outcome: outcome("BindingFailed"), now: NOW });
    expect(refused.conditions?.[0]).toMatchObject({ reason: "BindingFailed", lastTransitionTime: EARLIER, observedGeneration: 3 });
    const bound = desiredStatus({ device: previous, record: record({ bound: true }), outcome: outcome("Bound", true), now: NOW });
    expect(bound.conditions?.[0]).toMatchObject({ status: "True", reason: "Bound", lastTransitionTime: NOW_TEXT });
  });

  it("computes the same status again from the status it wrote, so a resync writes nothing", () => {
    const input = { record: record({ bound: true, boundAt: EARLIER }), outcome: outcome("Bound", true) };
    const first = desiredStatus({ device: device(), ...input, now: NOW });
    const later = new Date(NOW.getTime() + 60_000);
    expect(desiredStatus({ device: device(first), ...input, now: later })).toEqual(first);
  });
});

describe("the status a security key should show", () => {
  const key = (): MfaDevice => ({ ...device(), spec: { user: "alice", type: "SecurityKey", deviceName: "yubikey" } });
  const ceremony = { challenge: "Y2hhbGxlbmdl", expiresAt: "2027-01-15T08:05:00Z", rpId: "localhost", options: "{}" };
  const securityKey = (overrides: Partial<MfaRecord> = {}): MfaRecord =>
    record({ deviceType: "SecurityKey", issuedSecret: undefined, registration: ceremony, ...overrides });
  const registered = { bound: true, boundAt: EARLIER, registration: undefined, credentialId: "Y3JlZA", signCount: 7 };

  const cases: Array<[string, { record: MfaRecord; outcome: MfaOutcome }, Partial<MfaDeviceStatus>, string[]]> = [
    ["a pending key shows its ceremony for the browser", { record: securityKey(), outcome: outcome("Pending") }, { bound: false, registration: ceremony }, ["credentialId", "secretRef"]],
    ["a key over the limit is offered no ceremony", { record: securityKey(), outcome: outcome("DeviceLimitExceeded") }, { bound: false }, ["registration"]],
    [
      "a registered key shows its credential and counter, and no ceremony",
      { record: securityKey(registered), outcome: outcome("Bound", true) },
      { bound: true, credentialId: "Y3JlZA", signCount: 7 },
      ["registration", "cloneSuspectedAt", "failedAttempts"],
    ],
    [
      "a key the verifier flagged shows when, from the record",
      { record: securityKey({ ...registered, cloneSuspectedAt: EARLIER }), outcome: outcome("CloneSuspected") },
      { bound: true, cloneSuspectedAt: EARLIER },
      [],
    ],
  ];
  it.each(cases)("%s", (_name, input, shown, hidden) => {
    const status = desiredStatus({ device: key(), ...input, now: NOW });
    expect(status).toMatchObject(shown);
    for (const field of hidden) expect(status).not.toHaveProperty(field);
  });
});

describe("the Events of an MfaDevice's status changes", () => {
  const previous = (reason: string): MfaDeviceStatus => ({ conditions: [readyCondition("False", reason)] });
  const warned = ["DeviceLimitExceeded", "SecretConflict", "BindingLocked", "CloneSuspected"] as const;

  it.each(warned)("warns once when the device lands in %s", (reason) => {
    const next = outcome(reason);
    expect(transitionEvents(undefined, {}, next)).toEqual([{ type: "Warning", reason, message: next.message }]);
    expect(transitionEvents(previous("Pending"), {}, next)).toEqual([{ type: "Warning", reason, message: next.message }]);
    expect(transitionEvents(previous(reason), {}, next)).toEqual([]);
  });

  // Binding and its refusals are announced by the step that records them, not by the status.
  it.each(["Pending", "Bound", "BindingFailed", "Issued"] as const)("says nothing on %s", (reason) => {
    expect(transitionEvents(previous("DeviceLimitExceeded"), {}, outcome(reason, reason === "Bound"))).toEqual([]);
    expect(transitionEvents(undefined, {}, outcome(reason, reason === "Bound"))).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import type { MfaDevice } from "../../../../src/api/mfadevice.js";
import type { MfaRecord } from "../../../../src/keystore/mfa-record.js";
import { decideMfa, type MfaObservation } from "../../../../src/kinds/mfadevice/decide.js";
import { livingDevices } from "../../../../src/kinds/mfadevice/limits.js";
import { FINALIZER } from "../../../../src/labels.js";
import { hotp, stepAt } from "../../../../src/otp/totp.js";

const SEED = Buffer.from("0123456789abcdef0123", "ascii");
// Fifteen seconds into a 30-second step, so the codes around it are unambiguous.
const NOW = new Date(1_800_000_015_000);
const STEP = stepAt(NOW.getTime());
const code = (step: number): string => hotp(SEED, step);
const LOCKOUT_MS = 5 * 60 * 1000;

function device(name: string, spec: Partial<MfaDevice["spec"]> = {}, meta: Partial<MfaDevice["metadata"]> = {}): MfaDevice {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "MfaDevice",
    metadata: {
      name,
      namespace: "team-a",
      uid: `uid-${name}`,
      creationTimestamp: "2027-01-15T08:00:00Z",
      finalizers: [FINALIZER],
      generation: 2,
      ...meta,
    },
    spec: { user: "alice", type: "Virtual", deviceName: "phone", ...spec },
  };
}

function record(overrides: Partial<MfaRecord> = {}): MfaRecord {
  return {
    ownerUid: "uid-m1",
    namespace: "team-a",
    user: "alice",
    deviceName: "phone",
    createdAt: "2027-01-15T08:00:01Z",
    sealed: "kgs1.1.x.y.z",
    bound: false,
    lastAcceptedStep: 0,
    failedAttempts: 0,
    issuedSecret: "m1-credentials",
    ...overrides,
  };
}

function observe(d: MfaDevice, extra: Partial<MfaObservation> = {}): MfaObservation {
  return { device: d, peers: [d], secret: "owned", seed: SEED, now: NOW, ...extra };
}

const good = { code1: code(STEP - 1), code2: code(STEP) };
const wrong = { code1: "000000", code2: "111111" };
const deleting = { deletionTimestamp: NOW.toISOString() };

describe("deciding the next step for an MfaDevice", () => {
  const cases: Array<[string, MfaObservation, Record<string, unknown>]> = [
    ["a new device first gets the finalizer", observe(device("m1", {}, { finalizers: [] })), { kind: "addFinalizer" }],
    [
      "a deleted device whose finalizer is gone only says it is going",
      observe(device("m1", {}, { ...deleting, finalizers: [] }), { record: record() }),
      { kind: "none", outcome: { ready: false, reason: "Deleting" } },
    ],
    [
      "a deleted device with a record deletes the record (its seed) first",
      observe(device("m1", {}, deleting), { record: record() }),
      { kind: "deleteRecord", record: record() },
    ],
    ["a deleted device without a record lets go of its finalizer", observe(device("m1", {}, deleting)), { kind: "removeFinalizer" }],
    [
      "a device without a record generates one when it is the user's virtual device",
      observe(device("m1"), { secret: "absent", seed: undefined }),
      { kind: "generateRecord" },
    ],
    [
      "a record whose seed Secret was never written writes it",
      observe(device("m1"), { record: record({ issuedSecret: undefined }), secret: "absent" }),
      { kind: "writeSecret", record: record({ issuedSecret: undefined }), secretName: "m1-credentials" },
    ],
    [
      "a spec.secretName is where the seed is written",
      observe(device("m1", { secretName: "my-phone" }), { record: record({ issuedSecret: undefined }), secret: "absent" }),
      { kind: "writeSecret", secretName: "my-phone" },
    ],
    [
      "an owned Secret found after a crash is recorded as issued, not rewritten",
      observe(device("m1"), { record: record({ issuedSecret: undefined }), secret: "owned" }),
      { kind: "updateRecord", record: record({ issuedSecret: "m1-credentials" }) },
    ],
    [
      "a foreign Secret before issue is a conflict and is left alone",
      observe(device("m1"), { record: record({ issuedSecret: undefined }), secret: "foreign" }),
      { kind: "none", outcome: { ready: false, reason: "SecretConflict" } },
    ],
    [
      "a foreign Secret after issue is a conflict too",
      observe(device("m1"), { record: record(), secret: "foreign" }),
      { kind: "none", outcome: { ready: false, reason: "SecretConflict" } },
    ],
    [
      "a seed Secret deleted after issue is never written again",
      observe(device("m1"), { record: record(), secret: "absent" }),
      { kind: "none", outcome: { ready: false, reason: "Pending" } },
    ],
    [
      "a bound device whose seed Secret is still there removes it",
      observe(device("m1", { verification: good }), { record: record({ bound: true, boundAt: NOW.toISOString() }) }),
      { kind: "removeSeedSecret", secretName: "m1-credentials", secret: "owned" },
    ],
    [
      "a bound device whose seed Secret went before the removal was recorded (a crash) records it",
      observe(device("m1"), { record: record({ bound: true }), secret: "absent" }),
      { kind: "removeSeedSecret", secretName: "m1-credentials", secret: "absent" },
    ],
    [
      "a bound device finding a foreign Secret at the seed's name passes it on as foreign, to be left alone",
      observe(device("m1"), { record: record({ bound: true }), secret: "foreign" }),
      { kind: "removeSeedSecret", secret: "foreign" },
    ],
    [
      "a bound device whose seed Secret was removed is ready, and says the seed Secret is gone",
      observe(device("m1"), { record: record({ bound: true, seedSecretRemovedAt: NOW.toISOString() }), secret: "absent" }),
      { kind: "none", outcome: { ready: true, reason: "Bound", message: "device phone is bound; its seed Secret was removed after binding" } },
    ],
    [
      "a removed seed Secret is never written again, and a foreign Secret at its name is no conflict",
      observe(device("m1"), { record: record({ bound: true, seedSecretRemovedAt: NOW.toISOString() }), secret: "foreign" }),
      { kind: "none", outcome: { ready: true, reason: "Bound" } },
    ],
    [
      "a record whose seed cannot be opened waits",
      observe(device("m1", { verification: good }), { record: record(), seed: undefined }),
      { kind: "none", outcome: { ready: false, reason: "Pending", message: "the seed could not be read" } },
    ],
    [
      "a locked device refuses even good codes",
      observe(device("m1", { verification: good }), { record: record({ lockedUntil: "2027-01-15T08:20:00Z" }) }),
      { kind: "none", outcome: { ready: false, reason: "BindingLocked" } },
    ],
    [
      "a device with no codes yet is pending",
      observe(device("m1"), { record: record() }),
      { kind: "none", outcome: { ready: false, reason: "Pending", message: "waiting for two consecutive codes in spec.verification" } },
    ],
    [
      "codes of a generation already tried are not tried again, and the refusal is kept",
      observe(device("m1", { verification: wrong }), {
        record: record({ attemptedGeneration: 2, failedAttempts: 1, lastAttemptMessage: "code2 is not a current code of this device" }),
      }),
      { kind: "none", outcome: { ready: false, reason: "BindingFailed", message: "code2 is not a current code of this device" } },
    ],
    [
      "codes of a generation already tried, with no kept message, still say they were refused",
      observe(device("m1", { verification: wrong }), { record: record({ attemptedGeneration: 2 }) }),
      { kind: "none", outcome: { reason: "BindingFailed", message: "the codes in spec.verification were refused" } },
    ],
  ];
  it.each(cases)("%s", (_name, obs, expected) => {
    expect(decideMfa(obs)).toMatchObject(expected);
  });
});

describe("binding with two consecutive codes", () => {
  it("binds on the right codes, moving the accepted step on, with a Normal Bound event", () => {
    const before = record({ failedAttempts: 3, lastAttemptMessage: "earlier refusal", attemptedGeneration: 1 });
    const step = decideMfa(observe(device("m1", { verification: good }), { record: before }));
    expect(step).toEqual({
      kind: "updateRecord",
      record: {
        ...before,
        bound: true,
        boundAt: NOW.toISOString(),
        lastAcceptedStep: STEP,
        failedAttempts: 0,
        lockedUntil: undefined,
        attemptedGeneration: 2,
        lastAttemptMessage: undefined,
      },
      event: { type: "Normal", reason: "Bound", message: "device phone bound" },
    });
  });

  it("binds once a lock has run out", () => {
    const step = decideMfa(observe(device("m1", { verification: good }), { record: record({ lockedUntil: "2020-01-01T00:00:00Z" }) }));
    expect(step).toMatchObject({ kind: "updateRecord", record: { bound: true, lockedUntil: undefined } });
  });

  const refusals: Array<[string, { code1: string; code2: string }, Partial<MfaRecord>, RegExp]> = [
    ["refuses codes of another seed", wrong, {}, /code2 is not a current code/],
    ["refuses codes that are not consecutive", { code1: code(STEP - 1), code2: code(STEP + 1) }, {}, /consecutive/],
    ["refuses codes already used", good, { lastAcceptedStep: STEP }, /already used/],
  ];
  it.each(refusals)("%s, counting the failure against this generation with a Warning", (_name, verification, state, message) => {
    const step = decideMfa(observe(device("m1", { verification }), { record: record({ failedAttempts: 1, ...state }) }));
    expect(step).toMatchObject({
      kind: "updateRecord",
      record: { bound: false, failedAttempts: 2, attemptedGeneration: 2, lastAttemptMessage: expect.stringMatching(message) as unknown },
      event: { type: "Warning", reason: "BindingFailed", message: expect.stringMatching(message) as unknown },
    });
    if (step.kind === "updateRecord") expect(step.record.lockedUntil).toBeUndefined();
  });

  it("locks binding for five minutes on the fifth failure in a row, and starts the count again", () => {
    const step = decideMfa(observe(device("m1", { verification: wrong }), { record: record({ failedAttempts: 4 }) }));
    expect(step).toMatchObject({
      kind: "updateRecord",
      record: { failedAttempts: 0, lockedUntil: new Date(NOW.getTime() + LOCKOUT_MS).toISOString() },
      event: { type: "Warning", reason: "BindingFailed" },
    });
  });

  it("names the lock's end while it lasts", () => {
    const lockedUntil = new Date(NOW.getTime() + LOCKOUT_MS).toISOString();
    const step = decideMfa(observe(device("m1", { verification: good }), { record: record({ lockedUntil }) }));
    expect(step).toMatchObject({ kind: "none", outcome: { reason: "BindingLocked", message: expect.stringContaining(lockedUntil) as unknown } });
  });
});

describe("the one-virtual-device cap", () => {
  const first = device("m1", {}, { creationTimestamp: "2027-01-15T08:00:01Z" });
  const second = device("m2", {}, { creationTimestamp: "2027-01-15T08:00:02Z" });
  const fresh = { secret: "absent" as const, seed: undefined };

  it("lets the oldest device live and refuses a second, naming the first", () => {
    const step = decideMfa(observe(second, { ...fresh, peers: [second, first] }));
    expect(step).toMatchObject({
      kind: "none",
      outcome: { ready: false, reason: "DeviceLimitExceeded", message: "user alice already has a virtual MFA device (m1); delete it first" },
    });
    expect(decideMfa(observe(first, { ...fresh, peers: [second, first] }))).toEqual({ kind: "generateRecord" });
  });

  it("does not count a device that is being deleted", () => {
    const leaving = device("m1", {}, { creationTimestamp: "2027-01-15T08:00:01Z", ...deleting });
    expect(decideMfa(observe(second, { ...fresh, peers: [leaving, second] }))).toEqual({ kind: "generateRecord" });
  });

  it("does not count security keys, which have their own cap", () => {
    // A security key counts toward its own limit, not the virtual device's.
    const securityKey = device("k1", { type: "SecurityKey" }, { creationTimestamp: "2027-01-15T08:00:00Z" });
    expect(decideMfa(observe(second, { ...fresh, peers: [securityKey, second] }))).toEqual({ kind: "generateRecord" });
  });

  it("never takes the seed away from a device that already has its record", () => {
    const step = decideMfa(observe(second, { peers: [first, second], record: record({ ownerUid: "uid-m2" }) }));
    expect(step).toMatchObject({ kind: "none", outcome: { reason: "Pending" } });
  });

  it("picks the oldest, then the first by name, the same way on every replica", () => {
    const x = device("x", {}, { creationTimestamp: "2027-01-15T08:00:00Z" });
    const y = device("y", {}, { creationTimestamp: "2027-01-15T08:00:00Z" });
    expect(livingDevices([y, x], "Virtual").map((d) => d.metadata.name)).toEqual(["x"]);
    expect(livingDevices([x, y], "Virtual").map((d) => d.metadata.name)).toEqual(["x"]);
    expect(livingDevices([second, first], "Virtual").map((d) => d.metadata.name)).toEqual(["m1"]);
    expect(livingDevices([], "Virtual")).toEqual([]);
  });
});

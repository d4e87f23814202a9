import { describe, expect, it } from "vitest";
import type { MfaDevice } from "../../../../src/api/mfadevice.js";
import type { MfaRecord } from "../../../../src/keystore/mfa-record.js";
import { decideMfa, type MfaObservation } from "../../../../src/kinds/mfadevice/decide.js";
import { FINALIZER } from "../../../../src/labels.js";
import { refusal } from "../../../../src/webauthn/ceremony.js";

const NOW = new Date("2027-01-15T08:00:00.000Z");
const LATER = "2027-01-15T08:05:00.000Z";
const EARLIER = "2027-01-15T07:55:00.000Z";
const LOCKOUT_MS = 5 * 60 * 1000;

const registration = { id: "Y3JlZA", rawId: "Y3JlZA", type: "public-key" as const, response: { clientDataJSON: "eyJ9", attestationObject: "o2Nm" } };

function key(name: string, overrides: { spec?: Partial<MfaDevice["spec"]>; meta?: Partial<MfaDevice["metadata"]>; status?: MfaDevice["status"] } = {}): MfaDevice {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "MfaDevice",
    metadata: { name, namespace: "team-a", uid: `uid-${name}`, creationTimestamp: "2027-01-15T07:00:00Z", finalizers: [FINALIZER], generation: 2, ...overrides.meta },
    spec: { user: "alice", type: "SecurityKey", deviceName: `${name}-yubikey`, ...overrides.spec },
    status: overrides.status,
  };
}

const answered = (name = "k1") => key(name, { spec: { registration } });

function pending(overrides: Partial<MfaRecord> = {}): MfaRecord {
  return {
    ownerUid: "uid-k1",
    namespace: "team-a",
    user: "alice",
    deviceName: "k1-yubikey",
    deviceType: "SecurityKey",
    objectName: "k1",
    createdAt: EARLIER,
    sealed: "kgs1.1.x.y.z",
    bound: false,
    lastAcceptedStep: 0,
    failedAttempts: 0,
    registration: { challenge: "Y2hhbGxlbmdl", expiresAt: LATER, rpId: "localhost", options: "{}" },
    ...overrides,
  };
}

const registeredRecord = pending({ bound: true, boundAt: EARLIER, registration: undefined, credentialId: "Y3JlZA", signCount: 3 });
const verified = { ok: true as const, id: "Y3JlZA", publicKey: "cHVi", counter: 0, transports: ["usb"] };

function observe(device: MfaDevice, extra: Partial<MfaObservation> = {}): MfaObservation {
  return { device, peers: [device], secret: "absent", now: NOW, ...extra };
}

// Ten keys created in the same second: the first eight by name may live.
const tenKeys = Array.from({ length: 10 }, (_, index) => key(`k${String(index).padStart(2, "0")}`));

describe("deciding the next step for a security key", () => {
  const cases: Array<[string, MfaObservation, Record<string, unknown>]> = [
    ["a new key first gets the finalizer", observe(key("k1", { meta: { finalizers: [] } })), { kind: "addFinalizer" }],
    ["a key without a record starts a registration ceremony", observe(key("k1")), { kind: "startRegistration", exclude: [] }],
    [
      "the ceremony excludes the user's other registered keys, so one authenticator is not registered twice",
      observe(key("k1"), { peers: [key("k1"), key("k0", { status: { credentialId: "b3RoZXI" } }), key("v", { spec: { type: "Virtual" } })] }),
      { kind: "startRegistration", exclude: [{ id: "b3RoZXI" }] },
    ],
    [
      "the ninth key by age gets no ceremony, naming the eight that hold the slots",
      observe(tenKeys[8] as MfaDevice, { peers: tenKeys }),
      {
        kind: "none",
        outcome: { ready: false, reason: "DeviceLimitExceeded", message: "user alice already has 8 security keys (k00, k01, k02, k03, k04, k05, k06, k07); delete one before registering another" },
      },
    ],
    [
      "a key that started its ceremony before an older key was seen stops when over the limit",
      observe(tenKeys[9] as MfaDevice, { peers: tenKeys, record: pending() }),
      { kind: "none", outcome: { reason: "DeviceLimitExceeded" } },
    ],
    ["the eighth key by age gets its ceremony", observe(tenKeys[7] as MfaDevice, { peers: tenKeys }), { kind: "startRegistration" }],
    [
      "a pending key waits for the answer until the challenge expires, and looks again then",
      observe(key("k1"), { record: pending() }),
      { kind: "none", outcome: { ready: false, reason: "Pending", requeueAt: Date.parse(LATER) } },
    ],
    [
      "an expired unanswered challenge is renewed",
      observe(key("k1"), { record: pending({ registration: { challenge: "b2xk", expiresAt: EARLIER, rpId: "localhost", options: "{}" } }) }),
      { kind: "renewRegistration", record: pending({ registration: { challenge: "b2xk", expiresAt: EARLIER, rpId: "localhost", options: "{}" } }), exclude: [] },
    ],
    [
      "a verified answer registers the key: credential, counter and relying party kept, ceremony cleared",
      observe(answered(), { record: pending(), registrationCheck: verified, registeredElsewhere: [] }),
      {
        kind: "registerKey",
        publicKey: "cHVi",
        record: pending({
          bound: true,
          boundAt: NOW.toISOString(),
          credentialId: "Y3JlZA",
          transports: ["usb"],
          rpId: "localhost",
          signCount: 0,
          registration: undefined,
          attemptedGeneration: 2,
          lockedUntil: undefined,
          lastAttemptMessage: undefined,
        }),
        event: { type: "Normal", reason: "Bound", message: "security key k1-yubikey registered" },
      },
    ],
    [
      "a credential already registered to another key of the user is refused",
      observe(answered(), { record: pending(), registrationCheck: verified, registeredElsewhere: [{ credentialId: "Y3JlZA", deviceName: "office-key" }] }),
      {
        kind: "updateRecord",
        record: pending({ failedAttempts: 1, attemptedGeneration: 2, lastAttemptMessage: expect.stringMatching(/^CredentialAlreadyRegistered: .*office-key/) as unknown as string }),
        event: { type: "Warning", reason: "RegistrationFailed", message: expect.stringContaining("CredentialAlreadyRegistered") as unknown },
      },
    ],
    [
      "a refused answer counts a failure and says the ceremony's code",
      observe(answered(), { record: pending(), registrationCheck: refusal("OriginNotAllowed", 'origin "http://localhost:1" is not one keygate accepts') }),
      {
        kind: "updateRecord",
        record: pending({ failedAttempts: 1, attemptedGeneration: 2, lastAttemptMessage: 'OriginNotAllowed: origin "http://localhost:1" is not one keygate accepts' }),
        event: { type: "Warning", reason: "RegistrationFailed", message: 'OriginNotAllowed: origin "http://localhost:1" is not one keygate accepts' },
      },
    ],
    [
      "the fifth refusal locks registration for five minutes",
      observe(answered(), { record: pending({ failedAttempts: 4 }), registrationCheck: refusal("ChallengeMismatch", "another challenge") }),
      { kind: "updateRecord", record: pending({ failedAttempts: 0, lockedUntil: new Date(NOW.getTime() + LOCKOUT_MS).toISOString(), attemptedGeneration: 2, lastAttemptMessage: "ChallengeMismatch: another challenge" }) },
    ],
    [
      "an answer judged already is not judged again: the refusal stands until a new answer",
      observe(answered(), { record: pending({ attemptedGeneration: 2, failedAttempts: 1, lastAttemptMessage: "OriginNotAllowed: nope" }) }),
      { kind: "none", outcome: { ready: false, reason: "RegistrationFailed", message: "OriginNotAllowed: nope", requeueAt: Date.parse(LATER) } },
    ],
    [
      "an answer during a lockout waits for the lock to end",
      observe(answered(), { record: pending({ lockedUntil: LATER }), registrationCheck: verified }),
      { kind: "none", outcome: { ready: false, reason: "BindingLocked", requeueAt: Date.parse(LATER) } },
    ],
    ["a registered key is ready", observe(key("k1"), { record: registeredRecord }), { kind: "none", outcome: { ready: true, reason: "Bound" } }],
    [
      "a registered key stays registered whatever its peers, even over the limit",
      observe(tenKeys[9] as MfaDevice, { peers: tenKeys, record: registeredRecord }),
      { kind: "none", outcome: { ready: true, reason: "Bound" } },
    ],
    [
      "a key flagged as cloned is not ready and says how to register again",
      observe(key("k1"), { record: { ...registeredRecord, cloneSuspectedAt: NOW.toISOString() } }),
      { kind: "none", outcome: { ready: false, reason: "CloneSuspected", message: expect.stringContaining("iam.keygate.dev/confirm-delete=YES") as unknown } },
    ],
    [
      "a deleted key with a record removes the record first",
      observe(key("k1", { meta: { deletionTimestamp: NOW.toISOString() } }), { record: registeredRecord }),
      { kind: "deleteRecord", record: registeredRecord },
    ],
  ];

  it.each(cases)("%s", (_name, observation, expected) => {
    expect(decideMfa(observation)).toMatchObject(expected);
  });

  it("registers each key's answer once per spec generation, whichever replica judges it", () => {
    const judged = decideMfa(observe(answered(), { record: pending(), registrationCheck: verified, registeredElsewhere: [] }));
    expect(judged).toMatchObject({ kind: "registerKey" });
    const next = (judged as { record: MfaRecord }).record;
    expect(decideMfa(observe(answered(), { record: next }))).toMatchObject({ kind: "none", outcome: { ready: true, reason: "Bound" } });
  });
});

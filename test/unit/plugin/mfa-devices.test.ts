import { describe, expect, it } from "vitest";
import type { MfaDevice } from "../../../src/api/mfadevice.js";
import { bindingOutcome, defaultDeviceName, mfaDeviceRow, registrationOffer, registrationOutcome, seedIssuance } from "../../../src/plugin/mfa-devices.js";
import type { KeygateObject } from "../../../src/plugin/resources.js";

// As the API server answers it: timestamps are strings, whatever the client's types say.
const device = (status: object, generation = 2): KeygateObject & MfaDevice => ({
  apiVersion: "iam.keygate.dev/v1alpha1",
  kind: "MfaDevice",
  metadata: { name: "alice-mfa-x", generation, creationTimestamp: "2026-11-29T06:00:00Z" },
  spec: { user: "alice", type: "Virtual", deviceName: "alice-phone" },
  status,
}) as unknown as KeygateObject & MfaDevice;
const ready = (status: string, reason: string, observedGeneration = 2) => [{ type: "Ready", status, reason, message: "why", observedGeneration, lastTransitionTime: "2026-11-29T06:00:00Z" }];

describe("mfa add's waiting", () => {
  it("has the seed once the device names its Secret, and fails when the device gets none", () => {
    expect(seedIssuance(device({ conditions: ready("False", "Pending") }))).toBeUndefined();
    expect(seedIssuance(device({ secretRef: { name: "s" } }))).toEqual({ done: "s" });
    expect(seedIssuance(device({ conditions: ready("False", "DeviceLimitExceeded") }))).toEqual({ failed: "mfadevice/alice-mfa-x got no seed (DeviceLimitExceeded): why" });
  });

  it("ignores a verdict on the codes of an earlier generation", () => {
    expect(bindingOutcome(device({ conditions: ready("False", "BindingFailed", 1) }))).toBeUndefined();
  });

  it("is bound on Ready=True, and refused with the reason on BindingFailed or BindingLocked", () => {
    expect(bindingOutcome(device({ bound: true, conditions: ready("True", "Bound") }))).toMatchObject({ done: { spec: { deviceName: "alice-phone" } } });
    expect(bindingOutcome(device({ conditions: ready("False", "BindingLocked") }))).toEqual({ failed: "mfadevice/alice-mfa-x was not bound (BindingLocked): why" });
  });
});

describe("mfa add-key's waiting", () => {
  const ceremony = { challenge: "Y2g", expiresAt: "2026-11-29T06:05:00Z", rpId: "localhost", options: '{"challenge":"Y2g"}' };

  it("has the ceremony once the key shows one, and fails when the key is over the limit", () => {
    expect(registrationOffer(device({ conditions: ready("False", "Pending") }))).toBeUndefined();
    expect(registrationOffer(device({ registration: ceremony, conditions: ready("False", "Pending") }))).toEqual({ done: ceremony.options });
    expect(registrationOffer(device({ conditions: ready("False", "DeviceLimitExceeded") }))).toEqual({
      failed: "mfadevice/alice-mfa-x got no registration challenge (DeviceLimitExceeded): why",
    });
  });

  it("is registered on Ready=True, refused with the reason otherwise, and ignores an earlier generation's verdict", () => {
    expect(registrationOutcome(device({ conditions: ready("False", "RegistrationFailed", 1) }))).toBeUndefined();
    expect(registrationOutcome(device({ bound: true, conditions: ready("True", "Bound") }))).toMatchObject({ done: { metadata: { name: "alice-mfa-x" } } });
    expect(registrationOutcome(device({ conditions: ready("False", "RegistrationFailed") }))).toEqual({ failed: "mfadevice/alice-mfa-x was not registered (RegistrationFailed): why" });
    expect(registrationOutcome(device({ conditions: ready("False", "BindingLocked") }))).toEqual({ failed: "mfadevice/alice-mfa-x was not registered (BindingLocked): why" });
  });
});

describe("mfa list's rows", () => {
  const now = Date.parse("2026-11-29T09:00:00Z");
  it("shows name, user, type, device, bound and age, and wide adds when bound and the reason", () => {
    const bound = device({ bound: true, boundAt: "2026-11-29T06:01:00Z", conditions: ready("True", "Bound") });
    expect(mfaDeviceRow(bound, now, false)).toEqual(["alice-mfa-x", "alice", "Virtual", "alice-phone", "true", "3h"]);
    expect(mfaDeviceRow(bound, now, true).slice(6)).toEqual(["2026-11-29T06:01:00Z", "Bound"]);
  });

  it("says the age is unknown without a creation time", () => {
    const unborn = { ...device({}), metadata: { name: "alice-mfa-x" } };
    expect(mfaDeviceRow(unborn, now, false)[5]).toBe("<unknown>");
  });

  it("names a new device after its user, within the field's characters", () => {
    expect(defaultDeviceName("alice.smith@example.com")).toBe("alice-smith-example-com-phone");
    expect(defaultDeviceName("alice", "key")).toBe("alice-key");
  });
});

import { describe, expect, it } from "vitest";
import type { MfaRecord } from "../../../src/keystore/mfa-record.js";
import { type CodeCandidate, type CodeDevice, deviceForCode, recordCandidate } from "../../../src/otp/code-device.js";

const virtual = (deviceName: string): CodeCandidate => ({ deviceName, securityKey: false });
const key = (deviceName: string): CodeCandidate => ({ deviceName, securityKey: true });
const itself = (device: CodeCandidate): CodeCandidate => device;

describe("which device a TOTP code is for", () => {
  const phone = virtual("phone");
  const sharedKey = key("phone");
  const yubikey = key("yubikey");
  const rows: Array<[string, CodeCandidate[], string | undefined, CodeDevice<CodeCandidate>]> = [
    ["a name only the virtual device has names it", [yubikey, phone], "phone", { found: true, device: phone }],
    ["a name a security key shares with the virtual device names the virtual device, whatever the order", [sharedKey, phone], "phone", { found: true, device: phone }],
    ["the same, the virtual device listed first", [phone, sharedKey], "phone", { found: true, device: phone }],
    ["a name only a security key has is told apart, to ask for an assertion", [phone, yubikey], "yubikey", { found: false, securityKey: true }],
    ["a name no device has names none", [phone, yubikey], "tablet", { found: false, securityKey: false }],
    ["without a name, the code is for the virtual device", [yubikey, phone], undefined, { found: true, device: phone }],
    ["without a name, a user with security keys only has no device for codes", [yubikey], undefined, { found: false, securityKey: true }],
    ["without a name or a device, none", [], undefined, { found: false, securityKey: false }],
  ];

  it.each(rows)("%s", (_, devices, deviceName, expected) => {
    expect(deviceForCode(devices, itself, deviceName)).toEqual(expected);
  });

  it("reads a keystore record's type from the record", () => {
    const record = { deviceName: "phone", deviceType: "SecurityKey" } as MfaRecord;
    expect(recordCandidate(record)).toEqual({ deviceName: "phone", securityKey: true });
    expect(recordCandidate({ ...record, deviceType: undefined })).toEqual({ deviceName: "phone", securityKey: false });
  });
});

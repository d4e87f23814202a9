import { describe, expect, it } from "vitest";
import type { MfaDevice, MfaDeviceType } from "../../../../src/api/mfadevice.js";
import { admitMfaDevice } from "../../../../src/kinds/mfadevice/admission.js";
import type { AdmissionRequest } from "../../../../src/runtime/admission.js";
import { fakeContext } from "../support/admission-context.js";

function device(name: string, type: MfaDeviceType, extra: { user?: string; bound?: boolean; annotations?: Record<string, string> } = {}): MfaDevice {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "MfaDevice",
    metadata: { name, namespace: "ns", uid: `uid-${name}`, creationTimestamp: "2026-11-22T00:00:00Z", annotations: extra.annotations },
    spec: { user: extra.user ?? "alice", type, deviceName: name },
    status: extra.bound === undefined ? undefined : { bound: extra.bound },
  };
}

function keys(count: number, user = "alice"): MfaDevice[] {
  return Array.from({ length: count }, (_, index) => device(`key-${index + 1}`, "SecurityKey", { user }));
}

function create(object: MfaDevice): AdmissionRequest {
  return { uid: "r1", operation: "CREATE", namespace: "ns", name: object.metadata.name, object, userInfo: { username: "alice" } };
}

function remove(oldObject: MfaDevice): AdmissionRequest {
  return { uid: "r2", operation: "DELETE", namespace: "ns", name: oldObject.metadata.name, oldObject, userInfo: { username: "alice" } };
}

function update(oldObject: MfaDevice, object: MfaDevice, username: string): AdmissionRequest {
  return { uid: "r3", operation: "UPDATE", namespace: "ns", name: object.metadata.name, oldObject, object, userInfo: { username } };
}

const admitAmong = (existing: MfaDevice[], request: AdmissionRequest) => admitMfaDevice(request, fakeContext({ objects: { mfadevices: existing } }));

const registration = {
  id: "AAAA",
  rawId: "AAAA",
  type: "public-key" as const,
  response: { clientDataJSON: "eyJ9", attestationObject: "o2Nm" },
};

describe("MfaDevice admission", () => {
  it("admits an eighth security key beside a virtual device", async () => {
    expect((await admitAmong([...keys(7), device("phone", "Virtual")], create(device("key-8", "SecurityKey")))).allowed).toBe(true);
  });

  it("refuses a ninth security key, naming the eight and the rule", async () => {
    const verdict = await admitAmong(keys(8), create(device("key-9", "SecurityKey")));
    expect(verdict.allowed).toBe(false);
    expect(verdict.message).toBe(
      "user alice already has 8 security keys (key-1, key-2, key-3, key-4, key-5, key-6, key-7, key-8) in namespace ns; at most 8 per user. Delete one first to register another.",
    );
  });

  it("counts security keys and the virtual device apart", async () => {
    expect((await admitAmong(keys(8), create(device("phone", "Virtual")))).allowed).toBe(true);
    expect((await admitAmong([device("phone", "Virtual")], create(device("key-1", "SecurityKey")))).allowed).toBe(true);
    const second = await admitAmong([device("phone", "Virtual")], create(device("tablet", "Virtual")));
    expect(second.message).toContain("user alice already has a virtual MFA device (phone) in namespace ns; at most one per user");
  });

  it("does not count another user's keys", async () => {
    expect((await admitAmong(keys(8, "bob"), create(device("key-9", "SecurityKey")))).allowed).toBe(true);
  });

  it("holds the delete of a registered key until it carries the YES confirmation", async () => {
    const unconfirmed = await admitAmong([], remove(device("key-1", "SecurityKey", { bound: true })));
    expect(unconfirmed.allowed).toBe(false);
    expect(unconfirmed.message).toContain("kubectl annotate mfadevice key-1 -n ns iam.keygate.dev/confirm-delete=YES");
    const confirmed = device("key-1", "SecurityKey", { bound: true, annotations: { "iam.keygate.dev/confirm-delete": "YES" } });
    expect((await admitAmong([], remove(confirmed))).allowed).toBe(true);
    expect((await admitAmong([], remove(device("key-2", "SecurityKey", { bound: false })))).allowed).toBe(true);
  });

  it("treats answering the challenge as acting for the key's user", async () => {
    const before = device("key-1", "SecurityKey");
    const after: MfaDevice = { ...before, spec: { ...before.spec, registration } };
    expect((await admitAmong([], update(before, after, "alice"))).allowed).toBe(true);
    const verdict = await admitAmong([], update(before, after, "mallory"));
    expect(verdict.allowed).toBe(false);
    expect(verdict.message).toContain("register a security key");
  });
});

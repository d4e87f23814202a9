import { describe, expect, it } from "vitest";
import type { AccessKey } from "../../../src/api/accesskey.js";
import type { MfaDevice } from "../../../src/api/mfadevice.js";
import type { TemporaryCredential } from "../../../src/api/temporarycredential.js";
import { admitAccessKey, mutateAccessKey } from "../../../src/kinds/accesskey/admission.js";
import { stampedAnnotations } from "../../../src/kinds/identity-stamps.js";
import { admitMfaDevice, mutateMfaDevice } from "../../../src/kinds/mfadevice/admission.js";
import { admitTemporaryCredential } from "../../../src/kinds/temporarycredential/admission.js";
import type { AdmissionRequest } from "../../../src/runtime/admission.js";
import { fakeContext, OPERATOR } from "./support/admission-context.js";

const API = "iam.keygate.dev/v1alpha1" as const;

function key(name: string, user: string, extra: { state?: "Active" | "Inactive"; annotations?: Record<string, string>; status?: AccessKey["status"] } = {}): AccessKey {
  return {
    apiVersion: API,
    kind: "AccessKey",
    metadata: { name, namespace: "ns", uid: `uid-${name}`, annotations: extra.annotations },
    spec: { user, state: extra.state ?? "Active" },
    status: extra.status,
  };
}

function policy(spec: Record<string, unknown>) {
  return { apiVersion: API, kind: "AccountPolicy", metadata: { name: "default", namespace: "ns" }, spec: { keyManagement: "SelfService", requireMfa: false, operationProtection: false, ...spec } };
}

function request(operation: AdmissionRequest["operation"], username: string, object?: unknown, oldObject?: unknown): AdmissionRequest {
  return { uid: "u", operation, namespace: "ns", name: "k", object, oldObject, userInfo: { username, groups: ["system:authenticated"] } };
}

function dryRun(base: AdmissionRequest): AdmissionRequest {
  return { ...base, dryRun: true };
}

describe("who may act for a user", () => {
  it("lets a user create their own key without asking RBAC", async () => {
    const context = fakeContext();
    expect((await admitAccessKey(request("CREATE", "oidc:alice", key("k", "alice")), context)).allowed).toBe(true);
    expect(context.asked).toEqual([]);
  });

  it("refuses another user's key, saying who may", async () => {
    const verdict = await admitAccessKey(request("CREATE", "oidc:bob", key("k", "alice")), fakeContext());
    expect(verdict.allowed).toBe(false);
    expect(verdict.message).toContain("oidc:bob may not create an access key for user alice in namespace ns");
    expect(verdict.message).toContain("the verb manage on users/alice in iam.keygate.dev");
  });

  it("lets whoever RBAC grants manage on users/<name> act for that user only", async () => {
    const context = fakeContext({ grants: ["oidc:bob manage users/alice"] });
    expect((await admitAccessKey(request("CREATE", "oidc:bob", key("k", "alice")), context)).allowed).toBe(true);
    expect(context.asked).toEqual([{ namespace: "ns", verb: "manage", resource: "users", name: "alice" }]);
    expect((await admitAccessKey(request("CREATE", "oidc:bob", key("k", "carol")), context)).allowed).toBe(false);
  });

  it("reads a ServiceAccount of another namespace as nobody's user", async () => {
    const verdict = await admitAccessKey(request("CREATE", "system:serviceaccount:other:alice", key("k", "alice")), fakeContext());
    expect(verdict.allowed).toBe(false);
    expect((await admitAccessKey(request("CREATE", "system:serviceaccount:ns:alice", key("k", "alice")), fakeContext())).allowed).toBe(true);
  });

  it("lets metadata-only updates and the operator's own writes through", async () => {
    const before = key("k", "alice");
    const labelled = { ...before, metadata: { ...before.metadata, labels: { team: "a" } } };
    expect((await admitAccessKey(request("UPDATE", "oidc:bob", labelled, before), fakeContext())).allowed).toBe(true);
    const disabled = key("k", "alice", { state: "Inactive" });
    expect((await admitAccessKey(request("UPDATE", "oidc:bob", disabled, before), fakeContext())).message).toContain("may not disable an access key for user alice");
    expect((await admitAccessKey(request("UPDATE", OPERATOR, disabled, before), fakeContext())).allowed).toBe(true);
  });

  it("under access key protection, refuses the user's own key changes and allows managers", async () => {
    const objects = { accountpolicies: [policy({ keyManagement: "AdminsOnly" })] };
    const own = await admitAccessKey(request("CREATE", "alice", key("k", "alice")), fakeContext({ objects }));
    expect(own.allowed).toBe(false);
    expect(own.message).toContain("access key protection is on in namespace ns");
    const managed = await admitAccessKey(request("CREATE", "admin", key("k", "alice")), fakeContext({ objects, grants: ["admin manage users/alice"] }));
    expect(managed.allowed).toBe(true);
    const described = { ...key("k", "alice"), spec: { user: "alice", state: "Active" as const, description: "ci" } };
    expect((await admitAccessKey(request("UPDATE", "alice", described, key("k", "alice")), fakeContext({ objects }))).allowed).toBe(true);
  });
});

describe("changes that act for a user without saying so", () => {
  it("treats setting owners as acting for the user: the garbage collector's delete skips admission", async () => {
    const before = key("k", "alice");
    const owned = { ...before, metadata: { ...before.metadata, ownerReferences: [{ apiVersion: "v1", kind: "ConfigMap", name: "gone", uid: "0" }] } };
    expect((await admitAccessKey(request("UPDATE", "oidc:bob", owned, before), fakeContext())).message).toContain("may not set the owners of an access key for user alice");
    expect((await admitAccessKey(request("UPDATE", "alice", owned, before), fakeContext())).allowed).toBe(true);
  });

  it("still decides who acts for whom when the object does not parse", async () => {
    const odd = { apiVersion: API, kind: "AccessKey", metadata: { name: "k", namespace: "ns" }, spec: { user: "alice", futureField: true } };
    expect((await admitAccessKey(request("CREATE", "oidc:bob", odd), fakeContext())).message).toContain("may not create an access key for user alice");
    expect((await admitAccessKey(request("DELETE", "oidc:bob", undefined, odd), fakeContext())).allowed).toBe(false);
  });
});

describe("deleting an access key", () => {
  const now = new Date("2026-11-29T12:00:00Z");

  it("records who deleted it, except on a dry run", async () => {
    const context = fakeContext({ now });
    const inactive = key("k", "alice", { state: "Inactive" });
    expect((await admitAccessKey(request("DELETE", "alice", undefined, inactive), context)).allowed).toBe(true);
    expect((await admitAccessKey(dryRun(request("DELETE", "alice", undefined, inactive)), context)).allowed).toBe(true);
    expect(context.deleters).toEqual(["k alice"]);
  });

  it("warns when the key was used in the last 7 days, and not otherwise", async () => {
    const status = { createdAt: "2026-11-01T00:00:00Z", lastUsed: { time: "2026-11-29T09:30:00Z", service: "s3", region: "us-east-1", sourceIP: "10.0.0.7" } };
    const used = await admitAccessKey(request("DELETE", "alice", undefined, key("k", "alice", { state: "Inactive", status })), fakeContext({ now }));
    expect(used.warnings).toEqual([expect.stringContaining("was used 2 hours ago (service s3, region us-east-1, from 10.0.0.7)")]);
    const old = { createdAt: "2026-11-01T00:00:00Z", lastUsed: { time: "2026-11-20T00:00:00Z", service: "s3" } };
    expect((await admitAccessKey(request("DELETE", "alice", undefined, key("k", "alice", { state: "Inactive", status: old })), fakeContext({ now }))).warnings).toBeUndefined();
    const neverUsed = { createdAt: "2026-11-29T11:00:00Z", lastUsed: { time: "2026-11-29T11:00:00Z" } };
    expect((await admitAccessKey(request("DELETE", "alice", undefined, key("k", "alice", { state: "Inactive", status: neverUsed })), fakeContext({ now }))).warnings).toBeUndefined();
  });
});

describe("operation protection", () => {
  const objects = { accountpolicies: [policy({ operationProtection: true })] };
  const withCode = (code: string) => key("k", "alice", { annotations: { "iam.keygate.dev/mfa-code": code } });

  it("asks for a code, naming the annotation", async () => {
    const verdict = await mutateAccessKey(request("CREATE", "alice", key("k", "alice")), fakeContext({ objects }));
    expect(verdict.allowed).toBe(false);
    expect(verdict.message).toContain("iam.keygate.dev/mfa-code=<code>");
  });

  it("accepts a valid code, uses it up, and removes it from the stored object", async () => {
    const context = fakeContext({ objects, validCode: "123456" });
    const verdict = await mutateAccessKey(request("CREATE", "alice", withCode("123456")), context);
    expect(verdict.allowed).toBe(true);
    expect(context.consumed).toEqual(["alice 123456"]);
    const stored = verdict.patch?.find((op) => op.path === "/metadata/annotations");
    expect(stored).toEqual({ op: "add", path: "/metadata/annotations", value: { "iam.keygate.dev/created-by": "alice" } });
  });

  it("refuses a wrong code; a dry run checks only the code's form, so it cannot be used to guess codes", async () => {
    const context = fakeContext({ objects, validCode: "123456" });
    expect((await mutateAccessKey(request("CREATE", "alice", withCode("000000")), context)).message).toContain("was refused (InvalidCode)");
    expect((await mutateAccessKey(dryRun(request("CREATE", "alice", withCode("654321"))), context)).allowed).toBe(true);
    expect((await mutateAccessKey(dryRun(request("CREATE", "alice", withCode("12345x"))), context)).message).toContain("must be a 6-digit code");
    expect(context.consumed).toEqual(["alice 000000"]);
  });

  it("refuses what validation would refuse before using a code up", async () => {
    const context = fakeContext({ objects, validCode: "123456" });
    const forBob = { ...withCode("123456"), spec: { user: "bob", state: "Active" as const } };
    expect((await mutateAccessKey(request("CREATE", "alice", forBob), context)).message).toContain("alice may not create an access key for user bob");
    expect(context.consumed).toEqual([]);
  });

  it("covers state changes, not other edits, and exempts those granted bypass", async () => {
    const before = key("k", "alice");
    const described = { ...before, spec: { ...before.spec, description: "x" } };
    expect((await mutateAccessKey(request("UPDATE", "alice", described, before), fakeContext({ objects }))).allowed).toBe(true);
    const disabled = key("k", "alice", { state: "Inactive" });
    expect((await mutateAccessKey(request("UPDATE", "alice", disabled, before), fakeContext({ objects }))).message).toContain("disabling an access key needs");
    const gitops = "system:serviceaccount:argocd:argocd-application-controller";
    const manage = `${gitops} manage users/alice`;
    expect((await mutateAccessKey(request("CREATE", gitops, key("k", "alice")), fakeContext({ objects, grants: [manage] }))).message).toContain("is no keygate user");
    expect((await mutateAccessKey(request("CREATE", gitops, key("k", "alice")), fakeContext({ objects, grants: [manage, `${gitops} bypass operationprotection`] }))).allowed).toBe(true);
  });
});

describe("created-by and deleted-by", () => {
  it("stamps the requester on create, whatever was sent", () => {
    const sent = key("k", "alice", { annotations: { "iam.keygate.dev/created-by": "root", "iam.keygate.dev/deleted-by": "x", team: "a" } });
    expect(stampedAnnotations(request("CREATE", "oidc:bob", sent), OPERATOR)).toEqual({ "iam.keygate.dev/created-by": "oidc:bob", team: "a" });
  });

  it("keeps the stored values on update, except for the operator's writes", () => {
    const before = key("k", "alice", { annotations: { "iam.keygate.dev/created-by": "oidc:bob" } });
    const forged = key("k", "alice", { annotations: { "iam.keygate.dev/created-by": "root", "iam.keygate.dev/deleted-by": "eve" } });
    expect(stampedAnnotations(request("UPDATE", "oidc:bob", forged, before), OPERATOR)).toEqual({ "iam.keygate.dev/created-by": "oidc:bob" });
    const deleting = key("k", "alice", { annotations: { "iam.keygate.dev/created-by": "oidc:bob", "iam.keygate.dev/deleted-by": "oidc:bob" } });
    expect(stampedAnnotations(request("UPDATE", OPERATOR, deleting, before), OPERATOR)["iam.keygate.dev/deleted-by"]).toBe("oidc:bob");
  });

  it("removes an MFA code from kubectl's last-applied copy too", () => {
    const lastApplied = JSON.stringify({ metadata: { annotations: { "iam.keygate.dev/mfa-code": "123456" } }, spec: { user: "alice" } });
    const sent = key("k", "alice", { annotations: { "kubectl.kubernetes.io/last-applied-configuration": lastApplied, "iam.keygate.dev/mfa-code": "123456" } });
    const stamped = stampedAnnotations(request("CREATE", "alice", sent), OPERATOR);
    expect(JSON.stringify(stamped)).not.toContain("123456");
  });
});

describe("deleting a bound MFA device", () => {
  const device = (bound: boolean, annotations?: Record<string, string>): MfaDevice => ({
    apiVersion: API,
    kind: "MfaDevice",
    metadata: { name: "phone", namespace: "ns", annotations },
    spec: { user: "alice", type: "Virtual", deviceName: "phone" },
    status: { bound },
  });

  it("needs the typed confirmation, and says how to give it", async () => {
    const verdict = await admitMfaDevice(request("DELETE", "alice", undefined, device(true)), fakeContext());
    expect(verdict.allowed).toBe(false);
    expect(verdict.message).toContain("kubectl annotate mfadevice phone -n ns iam.keygate.dev/confirm-delete=YES");
    expect((await admitMfaDevice(request("DELETE", "alice", undefined, device(true, { "iam.keygate.dev/confirm-delete": "YES" })), fakeContext())).allowed).toBe(true);
    expect((await admitMfaDevice(request("DELETE", "alice", undefined, device(true, { "iam.keygate.dev/confirm-delete": "yes" })), fakeContext())).allowed).toBe(false);
    expect((await admitMfaDevice(request("DELETE", "alice", undefined, device(false)), fakeContext())).allowed).toBe(true);
  });

  it("lets only who may act for the user confirm, and under operation protection only with a fresh code", async () => {
    const confirmed = device(true, { "iam.keygate.dev/confirm-delete": "YES" });
    expect((await admitMfaDevice(request("UPDATE", "oidc:bob", confirmed, device(true)), fakeContext())).message).toContain("may not confirm the removal of an MFA device");
    const objects = { accountpolicies: [policy({ operationProtection: true })] };
    expect((await mutateMfaDevice(request("UPDATE", "alice", confirmed, device(true)), fakeContext({ objects }))).message).toContain("confirming the removal of a bound MFA device needs");
    const withCode = device(true, { "iam.keygate.dev/confirm-delete": "YES", "iam.keygate.dev/mfa-code": "123456" });
    const context = fakeContext({ objects, validCode: "123456" });
    expect((await mutateMfaDevice(request("UPDATE", "alice", withCode, device(true)), context)).allowed).toBe(true);
    expect(context.consumed).toEqual(["alice 123456"]);
  });
});

describe("operation protection of MFA devices", () => {
  const objects = { accountpolicies: [policy({ operationProtection: true })] };
  const code = (annotations: Record<string, string> = {}, value = "123456") => ({ ...annotations, "iam.keygate.dev/mfa-code": value });
  const device = (type: "Virtual" | "SecurityKey", annotations?: Record<string, string>, spec: Partial<MfaDevice["spec"]> = {}): MfaDevice => ({
    apiVersion: API,
    kind: "MfaDevice",
    metadata: { name: "d", namespace: "ns", annotations },
    spec: { user: "alice", type, deviceName: "d", ...spec },
  });
  const verification = { code1: "111111", code2: "222222" };
  const registration = { id: "AAAA", rawId: "AAAA", type: "public-key" as const, response: { clientDataJSON: "eyJ9", attestationObject: "o2Nm" } };

  it("asks for a code to add a device of either type, naming the annotation", async () => {
    for (const [type, doing] of [
      ["Virtual", "adding an MFA device needs"],
      ["SecurityKey", "adding a security key needs"],
    ] as const) {
      const verdict = await mutateMfaDevice(request("CREATE", "alice", device(type)), fakeContext({ objects }));
      expect(verdict.allowed).toBe(false);
      expect(verdict.message).toContain(doing);
      expect(verdict.message).toContain("a fresh code of an MFA device of user alice");
      expect(verdict.message).toContain("iam.keygate.dev/mfa-code=<code>");
    }
  });

  it("adds a device with a valid code, uses it up, and never stores it", async () => {
    const context = fakeContext({ objects, validCode: "123456" });
    const verdict = await mutateMfaDevice(request("CREATE", "alice", device("SecurityKey", code())), context);
    expect(verdict.allowed).toBe(true);
    expect(context.consumed).toEqual(["alice 123456"]);
    expect(verdict.patch).toEqual([{ op: "add", path: "/metadata/annotations", value: { "iam.keygate.dev/created-by": "alice" } }]);
  });

  it("asks for a new code to answer the ceremony: the codes that bind a phone, a key's registration", async () => {
    const bind = await mutateMfaDevice(request("UPDATE", "alice", device("Virtual", undefined, { verification }), device("Virtual")), fakeContext({ objects }));
    expect(bind.message).toContain("binding an MFA device needs a fresh code");
    const register = await mutateMfaDevice(request("UPDATE", "alice", device("SecurityKey", undefined, { registration }), device("SecurityKey")), fakeContext({ objects }));
    expect(register.message).toContain("registering a security key needs a fresh code");
    const again = { ...registration, id: "BBBB", rawId: "BBBB" };
    const changed = request("UPDATE", "alice", device("SecurityKey", undefined, { registration: again }), device("SecurityKey", undefined, { registration }));
    expect((await mutateMfaDevice(changed, fakeContext({ objects }))).allowed).toBe(false);
    const context = fakeContext({ objects, validCode: "654321" });
    const answered = request("UPDATE", "alice", device("SecurityKey", code({}, "654321"), { registration }), device("SecurityKey"));
    expect((await mutateMfaDevice(answered, context)).allowed).toBe(true);
    expect(context.consumed).toEqual(["alice 654321"]);
  });

  it("lets other updates, the operator's writes and the protection being off through without a code", async () => {
    const labelled = { ...device("SecurityKey", undefined, { registration }), metadata: { name: "d", namespace: "ns", labels: { team: "a" } } };
    expect((await mutateMfaDevice(request("UPDATE", "alice", labelled, device("SecurityKey", undefined, { registration })), fakeContext({ objects }))).allowed).toBe(true);
    expect((await mutateMfaDevice(request("UPDATE", OPERATOR, device("Virtual", undefined, { verification }), device("Virtual")), fakeContext({ objects }))).allowed).toBe(true);
    expect((await mutateMfaDevice(request("CREATE", "alice", device("Virtual")), fakeContext())).allowed).toBe(true);
  });

  it("follows the key rules: a dry run checks the form only, bypass exempts, validation refuses first", async () => {
    const context = fakeContext({ objects, validCode: "123456" });
    expect((await mutateMfaDevice(dryRun(request("CREATE", "alice", device("Virtual", code({}, "000000")))), context)).allowed).toBe(true);
    expect((await mutateMfaDevice(dryRun(request("CREATE", "alice", device("Virtual", code({}, "12345")))), context)).message).toContain("must be a 6-digit code");
    const forBob = { ...device("SecurityKey", code()), spec: { user: "bob", type: "SecurityKey" as const, deviceName: "d" } };
    expect((await mutateMfaDevice(request("CREATE", "alice", forBob), context)).message).toContain("alice may not add an MFA device for user bob");
    expect(context.consumed).toEqual([]);
    const gitops = "system:serviceaccount:argocd:argocd-application-controller";
    const grants = [`${gitops} manage users/alice`, `${gitops} bypass operationprotection`];
    expect((await mutateMfaDevice(request("CREATE", gitops, device("SecurityKey")), fakeContext({ objects, grants }))).allowed).toBe(true);
  });

  it("refuses the first device of a person who has none: there is no code to give", async () => {
    const context = { ...fakeContext({ objects }), checkMfaCode: () => Promise.resolve({ valid: false as const, reason: "MfaDeviceNotFound" }) };
    const verdict = await mutateMfaDevice(request("CREATE", "alice", device("Virtual", code())), context);
    expect(verdict.message).toContain("the MFA code of user alice was refused (MfaDeviceNotFound); nothing was changed");
  });
});

describe("requireMfa", () => {
  const session = (mfa?: { deviceName: string; code: string }): TemporaryCredential => ({
    apiVersion: API,
    kind: "TemporaryCredential",
    metadata: { name: "s", namespace: "ns" },
    spec: { user: "alice", durationSeconds: 3600, mfa },
  });
  const bound = { apiVersion: API, kind: "MfaDevice", metadata: { name: "phone", namespace: "ns" }, spec: { user: "alice", type: "Virtual", deviceName: "phone" }, status: { bound: true } };

  it("refuses a session without a code when the user has a bound device", async () => {
    const objects = { accountpolicies: [policy({ requireMfa: true })], mfadevices: [bound] };
    const verdict = await admitTemporaryCredential(request("CREATE", "alice", session()), fakeContext({ objects }));
    expect(verdict.allowed).toBe(false);
    expect(verdict.message).toContain("set spec.mfa {deviceName, code}");
    expect((await admitTemporaryCredential(request("CREATE", "alice", session({ deviceName: "phone", code: "123456" })), fakeContext({ objects }))).allowed).toBe(true);
  });

  it("refuses a code naming a security key, which answers with an assertion", async () => {
    const key = { ...bound, metadata: { name: "yubikey", namespace: "ns" }, spec: { user: "alice", type: "SecurityKey", deviceName: "yubikey" } };
    const verdict = await admitTemporaryCredential(request("CREATE", "alice", session({ deviceName: "yubikey", code: "123456" })), fakeContext({ objects: { mfadevices: [bound, key] } }));
    expect(verdict).toEqual({
      allowed: false,
      message: "MFA device yubikey of user alice is a security key, which takes no code: set spec.mfa {assertion} with its answer to a challenge from the verifier's POST /v1/mfa/challenge with purpose session",
    });
    expect((await admitTemporaryCredential(request("CREATE", "alice", session({ deviceName: "phone", code: "123456" })), fakeContext({ objects: { mfadevices: [bound, key] } }))).allowed).toBe(true);
  });

  it("checks a code against the virtual device when a security key has the same device name", async () => {
    const twin = { ...bound, metadata: { name: "phone-key", namespace: "ns" }, spec: { user: "alice", type: "SecurityKey", deviceName: "phone" } };
    const verdict = await admitTemporaryCredential(request("CREATE", "alice", session({ deviceName: "phone", code: "123456" })), fakeContext({ objects: { mfadevices: [twin, bound] } }));
    expect(verdict.allowed).toBe(true);
  });

  it("allows a session without a code to a user with no bound device", async () => {
    const objects = { accountpolicies: [policy({ requireMfa: true })] };
    expect((await admitTemporaryCredential(request("CREATE", "alice", session()), fakeContext({ objects }))).allowed).toBe(true);
  });
});

import { describe, expect, it } from "vitest";
import { signAcs3 } from "../../support/signers/acs3.js";
import { signHuawei } from "../../support/signers/huawei.js";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { signSigV4 } from "../../support/signers/sigv4.js";
import { parseClientIp } from "../../../src/verifier/ip.js";
import { MemoryReplayStore } from "../../../src/replay/memory.js";
import { Verification, type VerificationPolicy } from "../../../src/verifier/verification.js";
import { FakeKeys, KEY_ID, type KeyShape, SECRET } from "./fake-keys.js";

const NOW = new Date("2024-05-01T12:00:00Z");
const base: HttpRequestDescription = { method: "GET", rawPath: "/things", rawQuery: "a=1", headers: [["Host", "api.example.test"]] };
const aws = { accessKeyId: KEY_ID, secret: SECRET, region: "eu-west-1", service: "things" };

function verifier(shape: KeyShape = {}, policy?: VerificationPolicy): { keys: FakeKeys; verification: Verification } {
  const keys = new FakeKeys(shape);
  return { keys, verification: new Verification(keys, new MemoryReplayStore(() => NOW.getTime()), () => NOW, policy) };
}

const UNSIGNED: HttpRequestDescription = { ...base, method: "PUT", headers: [...base.headers, ["x-amz-content-sha256", "UNSIGNED-PAYLOAD"]], body: Buffer.from("any body at all") };
const HUAWEI_UNSIGNED: HttpRequestDescription = { ...UNSIGNED, headers: [...base.headers, ["X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD"]] };

function ip(text: string) {
  return parseClientIp(text) ?? (() => { throw new Error(text); })();
}

describe("verification after the signature", () => {
  it.each([
    ["AWS4-HMAC-SHA256", signSigV4(base, aws, NOW)],
    ["AWS4-HMAC-SHA256", signSigV4(base, { ...aws, presignExpires: 300 }, NOW)],
    ["ACS3-HMAC-SHA256", signAcs3(base, { accessKeyId: KEY_ID, secret: SECRET }, NOW)],
    ["SDK-HMAC-SHA256", signHuawei(base, { accessKeyId: KEY_ID, secret: SECRET }, NOW)],
  ])("allows a genuine %s request and names its principal", async (scheme, request) => {
    const outcome = await verifier().verification.verify(request, undefined);
    expect(outcome).toMatchObject({
      allowed: true,
      scheme,
      principal: { namespace: "team", user: "alice", accessKeyId: KEY_ID, credentialType: "AccessKey", mfaAuthenticated: false },
      accessKey: { uid: "uid-alpha" },
    });
  });

  it("reports the SigV4 credential scope for last-used", async () => {
    expect(await verifier().verification.verify(signSigV4(base, aws, NOW), ip("10.0.0.1"))).toMatchObject({
      service: "things",
      region: "eu-west-1",
      sourceIp: "10.0.0.1",
    });
  });

  it("answers the signing date with every allowed request, and the scope where the scheme has one", async () => {
    expect(await verifier().verification.verify(signSigV4(base, aws, NOW), undefined)).toMatchObject({ service: "things", region: "eu-west-1", date: NOW.toISOString() });
    const huawei = await verifier().verification.verify(signHuawei(base, { accessKeyId: KEY_ID, secret: SECRET }, NOW), undefined);
    expect(huawei).toMatchObject({ allowed: true, date: NOW.toISOString() });
    expect(huawei).not.toHaveProperty("service", expect.anything());
  });

  it.each([
    ["an s3 scope, by default", signSigV4(UNSIGNED, { ...aws, service: "s3" }, NOW), undefined, "allowed"],
    ["a presigned s3 URL, by default", signSigV4({ ...base, body: undefined }, { ...aws, service: "s3", presignExpires: 60 }, NOW), undefined, "allowed"],
    ["another service, by default", signSigV4(UNSIGNED, aws, NOW), undefined, "InvalidArgument"],
    ["a Huawei request, by default (it has no scope)", signHuawei(HUAWEI_UNSIGNED, { accessKeyId: KEY_ID, secret: SECRET }, NOW), undefined, "InvalidArgument"],
    ["a service the policy lists", signSigV4(UNSIGNED, aws, NOW), { unsignedPayloadServices: new Set(["s3", "things"]) }, "allowed"],
    ["s3, when the policy lists none", signSigV4(UNSIGNED, { ...aws, service: "s3" }, NOW), { unsignedPayloadServices: new Set<string>() }, "InvalidArgument"],
    ["a Huawei request, when the policy says *", signHuawei(HUAWEI_UNSIGNED, { accessKeyId: KEY_ID, secret: SECRET }, NOW), { unsignedPayloadServices: new Set(["*"]) }, "allowed"],
  ] as Array<[string, HttpRequestDescription, VerificationPolicy | undefined, string]>)("UNSIGNED-PAYLOAD for %s: %s", async (_case, request, policy, expected) => {
    const outcome = await verifier({}, policy).verification.verify(request, undefined);
    expect(outcome.allowed ? "allowed" : outcome.code).toBe(expected);
    if (outcome.allowed) expect(outcome.payloadVerified).toBe(false);
  });

  it("refuses every request until the index has synced", async () => {
    const { keys, verification } = verifier();
    keys.isReady = false;
    expect(await verification.verify(signSigV4(base, aws, NOW), undefined)).toMatchObject({ code: "ServiceUnavailable", httpStatus: 503 });
  });

  it("refuses an inactive key, but only to someone holding its secret", async () => {
    const { verification } = verifier({ active: false });
    expect(await verification.verify(signSigV4(base, aws, NOW), undefined)).toMatchObject({ code: "InvalidClientTokenId", httpStatus: 403 });
    const forged = signSigV4(base, { ...aws, secret: "wrong" }, NOW);
    expect(await verification.verify(forged, undefined)).toMatchObject({ code: "SignatureDoesNotMatch" });
  });

  it("refuses an unknown key with InvalidAccessKeyId", async () => {
    const request = signSigV4(base, { ...aws, accessKeyId: "KGAKUNKNOWNUNKNOWNUN" }, NOW);
    expect(await verifier().verification.verify(request, undefined)).toMatchObject({ code: "InvalidAccessKeyId", httpStatus: 403 });
  });

  it("refuses a session token sent with a long-term key", async () => {
    const request = signSigV4(base, { ...aws, sessionToken: "token" }, NOW);
    expect(await verifier().verification.verify(request, undefined)).toMatchObject({ code: "InvalidClientTokenId" });
  });

  it.each([
    ["inside the policy", "10.1.2.3", true],
    ["IPv4-mapped inside the policy", "::ffff:10.1.2.3", true],
    ["IPv6 inside the policy", "2001:db8::7", true],
    ["outside the policy", "10.2.0.1", false],
    ["IPv6 outside the policy", "2001:db9::7", false],
  ])("applies allowedSourceCIDRs to a client %s", async (_name, address, allowed) => {
    const { verification } = verifier({ cidrs: ["10.1.0.0/16", "2001:db8::/32"] });
    const outcome = await verification.verify(signSigV4(base, aws, NOW), ip(address));
    expect(outcome.allowed ? "allowed" : outcome.code).toBe(allowed ? "allowed" : "AccessDenied");
  });

  it("refuses a key with a network policy when the client address is unknown", async () => {
    const { verification } = verifier({ cidrs: ["0.0.0.0/0"] });
    expect(await verification.verify(signSigV4(base, aws, NOW), undefined)).toMatchObject({
      code: "AccessDenied",
      message: expect.stringContaining("unknown") as unknown,
    });
  });

  it("lets an empty policy allow no address at all", async () => {
    const { verification } = verifier({ cidrs: [] });
    expect(await verification.verify(signSigV4(base, aws, NOW), ip("10.0.0.1"))).toMatchObject({ code: "AccessDenied" });
  });
});

import { describe, expect, it } from "vitest";
import { signAcs3, type Acs3SigningInput } from "../../support/signers/acs3.js";
import { NonceCache } from "../../../src/signing/nonce-cache.js";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { verifySignedRequest } from "../../../src/signing/verify.js";
import { depsFor, headerOf, minutes, setHeader, verifyWith, withHeaders, withoutHeader } from "./helpers.js";

const KEYS = { LTAI5tTest: "alibaba-secret", LTAI5tOther: "other-secret" };
const NOW = new Date("2024-05-01T10:00:00Z");
const SIGNER: Acs3SigningInput = { accessKeyId: "LTAI5tTest", secret: KEYS.LTAI5tTest, nonce: "9f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f" };
const BASE: HttpRequestDescription = {
  method: "POST",
  rawPath: "/",
  rawQuery: "RegionId=cn-hangzhou",
  headers: [
    ["Host", "ecs.cn-hangzhou.aliyuncs.com"],
    ["Content-Type", "application/json"],
    ["x-acs-action", "DescribeInstances"],
    ["x-acs-version", "2014-05-26"],
  ],
  body: Buffer.from('{"PageSize":10}'),
};

function sign(input: Partial<Acs3SigningInput> = {}, at: Date = NOW, req: HttpRequestDescription = BASE): HttpRequestDescription {
  return signAcs3(req, { ...SIGNER, ...input }, at);
}

function verify(req: HttpRequestDescription, now: Date = NOW) {
  return verifyWith(KEYS, req, now);
}

function editSignedHeaders(req: HttpRequestDescription, edit: (list: string) => string): HttpRequestDescription {
  return setHeader(req, "authorization", headerOf(req, "authorization").replace(/SignedHeaders=([^,]+)/, (_m, list: string) => `SignedHeaders=${edit(list)}`));
}

describe("Alibaba Cloud V3 signatures", () => {
  it("a request signed the SDK way verifies, body included", () => {
    expect(verify(sign())).toMatchObject({ allowed: true, scheme: "ACS3-HMAC-SHA256", accessKeyId: "LTAI5tTest", payloadVerified: true });
  });

  it("an Authorization header with spaces after its commas verifies too", () => {
    const req = sign();
    expect(verify(setHeader(req, "authorization", headerOf(req, "authorization").replaceAll(",", ", ")))).toMatchObject({ allowed: true });
  });

  it("another body breaks the signature", () => {
    expect(verify({ ...sign(), body: Buffer.from('{"PageSize":100}') })).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
  });

  it("without the body (forward-auth) the signed x-acs-content-sha256 stands for it", () => {
    expect(verify({ ...sign(), body: undefined })).toMatchObject({ allowed: true, payloadVerified: false });
  });

  it.each(["host", "x-acs-date", "x-acs-signature-nonce"])("%s must be signed", (name) => {
    const req = editSignedHeaders(sign(), (list) => list.split(";").filter((n) => n !== name).join(";"));
    expect(verify(req)).toMatchObject({ allowed: false, code: "AccessDenied", message: `the ${name} header must be signed` });
  });

  it.each([
    ["an x-acs-* header", "x-acs-resource-group-id", "rg-1"],
    ["a session token", "x-acs-security-token", "STS.token"],
  ])("%s added after signing is denied", (_kind, name, value) => {
    expect(verify(withHeaders(sign(), [name, value]))).toMatchObject({ allowed: false, code: "AccessDenied" });
  });

  it("a signed session token is handed back to the caller", () => {
    expect(verify(sign({ securityToken: "STS.NUgYrLnoC37mZZCNnAbez2Zmp" }))).toMatchObject({ allowed: true, securityToken: "STS.NUgYrLnoC37mZZCNnAbez2Zmp" });
  });

  it.each([
    ["no x-acs-date", (req: HttpRequestDescription) => withoutHeader(req, "x-acs-date")],
    ["an x-acs-date in the compact form", (req: HttpRequestDescription) => setHeader(req, "x-acs-date", "20240501T100000Z")],
    ["no nonce", (req: HttpRequestDescription) => withoutHeader(req, "x-acs-signature-nonce")],
    ["an empty nonce", (req: HttpRequestDescription) => setHeader(req, "x-acs-signature-nonce", "")],
    ["a nonce longer than 128 characters", (req: HttpRequestDescription) => setHeader(req, "x-acs-signature-nonce", "n".repeat(129))],
    ["an empty Credential", (req: HttpRequestDescription) => setHeader(req, "authorization", headerOf(req, "authorization").replace(/Credential=\w+/, "Credential="))],
  ])("a request with %s is AuthorizationHeaderMalformed", (_problem, edit) => {
    expect(verify(edit(sign()))).toMatchObject({ allowed: false, code: "AuthorizationHeaderMalformed", httpStatus: 400 });
  });

  it("a request without Signature is IncompleteSignature", () => {
    const req = sign();
    expect(verify(setHeader(req, "authorization", headerOf(req, "authorization").replace(/,Signature=\w+/, "")))).toMatchObject({ allowed: false, code: "IncompleteSignature" });
  });

  it.each([
    ["15 minutes old", -15, true],
    ["15 minutes ahead", 15, true],
    ["more than 15 minutes old", -15.02, false],
    ["more than 15 minutes ahead", 15.02, false],
  ])("a request %s: allowed is %s", (_when, offset, allowed) => {
    expect(verify(sign({}, minutes(NOW, offset)))).toMatchObject(allowed ? { allowed } : { allowed, code: "RequestTimeTooSkewed" });
  });
});

describe("Alibaba nonce replay", () => {
  it("the same signed request is accepted once, then SignatureNonceUsed (400)", () => {
    const deps = depsFor(KEYS);
    const req = sign();
    expect(verifySignedRequest(req, deps, NOW)).toMatchObject({ allowed: true });
    expect(verifySignedRequest(req, deps, minutes(NOW, 5))).toMatchObject({ allowed: false, code: "SignatureNonceUsed", httpStatus: 400 });
  });

  it("a replay after the window is refused for its age, and the nonce has been forgotten", () => {
    const nonces = new NonceCache();
    const deps = depsFor(KEYS, nonces);
    const req = sign();
    expect(verifySignedRequest(req, deps, NOW)).toMatchObject({ allowed: true });
    expect(verifySignedRequest(req, deps, minutes(NOW, 15.02))).toMatchObject({ allowed: false, code: "RequestTimeTooSkewed" });
    expect(verifySignedRequest(sign({ nonce: "another" }, minutes(NOW, 16)), deps, minutes(NOW, 16))).toMatchObject({ allowed: true });
    expect(nonces.size).toBe(1);
  });

  it("a request with a bad signature does not use up its nonce", () => {
    const deps = depsFor(KEYS);
    const req = sign();
    const forged = { ...req, body: Buffer.from("{}") };
    expect(verifySignedRequest(forged, deps, NOW)).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
    expect(verifySignedRequest(req, deps, NOW)).toMatchObject({ allowed: true });
  });

  it("nonces are per access key: another key may use the same nonce", () => {
    const deps = depsFor(KEYS);
    expect(verifySignedRequest(sign(), deps, NOW)).toMatchObject({ allowed: true });
    expect(verifySignedRequest(sign({ accessKeyId: "LTAI5tOther", secret: KEYS.LTAI5tOther }), deps, NOW)).toMatchObject({ allowed: true });
  });

  it("a replay cache full of live nonces refuses new requests (503) rather than forget one", () => {
    const deps = depsFor(KEYS, new NonceCache(1));
    expect(verifySignedRequest(sign({ nonce: "first" }), deps, NOW)).toMatchObject({ allowed: true });
    expect(verifySignedRequest(sign({ nonce: "second" }), deps, NOW)).toMatchObject({ allowed: false, code: "ServiceUnavailable", httpStatus: 503 });
    expect(verifySignedRequest(sign({ nonce: "first" }), deps, NOW)).toMatchObject({ allowed: false, code: "SignatureNonceUsed" });
  });
});

import { describe, expect, it } from "vitest";
import { signAcs3, type Acs3SigningInput } from "../../support/signers/acs3.js";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { headerOf, minutes, setHeader, verifyWith, withHeaders, withoutHeader } from "./helpers.js";

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

describe("Alibaba nonce (claimed once by the verifier's replay store)", () => {
  it("a verified request carries its nonce, remembered until the request would be too old anyway", () => {
    expect(verify(sign())).toMatchObject({ allowed: true, nonce: { value: SIGNER.nonce, expiresAtMs: NOW.getTime() + 15 * 60_000 } });
  });

  it("the core keeps no state: the same request verifies again, and the replay store refuses it", () => {
    const req = sign();
    expect(verify(req)).toMatchObject({ allowed: true });
    expect(verify(req, minutes(NOW, 5))).toMatchObject({ allowed: true });
  });

  it("a request with a bad signature yields no nonce to claim", () => {
    const forged = { ...sign(), body: Buffer.from("{}") };
    expect(verify(forged)).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
  });
});

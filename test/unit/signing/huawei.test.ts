import { describe, expect, it } from "vitest";
import { signHuawei, type HuaweiSigningInput } from "../../support/signers/huawei.js";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { headerOf, minutes, setHeader, verifyWith, withHeaders, withoutHeader } from "./helpers.js";

const KEYS = { HPUATESTKEY: "huawei-secret" };
const NOW = new Date("2024-05-01T10:00:00Z");
const SIGNER: HuaweiSigningInput = { accessKeyId: "HPUATESTKEY", secret: KEYS.HPUATESTKEY };
const BASE: HttpRequestDescription = {
  method: "POST",
  rawPath: "/v2/0123456789abcdef/servers",
  rawQuery: "limit=2",
  headers: [
    ["Host", "ecs.cn-north-4.myhuaweicloud.com"],
    ["Content-Type", "application/json"],
  ],
  body: Buffer.from('{"server":{}}'),
};

function sign(req: HttpRequestDescription = BASE, input: Partial<HuaweiSigningInput> = {}, at: Date = NOW): HttpRequestDescription {
  return signHuawei(req, { ...SIGNER, ...input }, at);
}

function verify(req: HttpRequestDescription, now: Date = NOW) {
  return verifyWith(KEYS, req, now);
}

describe("Huawei Cloud SDK-HMAC-SHA256 signatures", () => {
  it.each(["%FF", "%C3", "%ED%A0%80", "%C3%28"])("refuses a query escape %s that does not decode as UTF-8 with InvalidArgument, without throwing", (bad) => {
    // Checked before the signature: a known key id and a fresh date are all it takes.
    const signed = sign({ ...BASE, rawQuery: "limit=2" });
    expect(verify({ ...signed, rawQuery: `limit=2&marker=${bad}` })).toMatchObject({ allowed: false, code: "InvalidArgument", httpStatus: 400 });
  });

  it("a request signed the SDK way verifies, body included", () => {
    expect(verify(sign())).toMatchObject({ allowed: true, scheme: "SDK-HMAC-SHA256", accessKeyId: "HPUATESTKEY", payloadVerified: true });
  });

  it("another body breaks the signature", () => {
    expect(verify({ ...sign(), body: Buffer.from('{"server":{"name":"x"}}') })).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
  });

  it("X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD verifies and reports the body as not verified", () => {
    const req = sign({ ...BASE, headers: [...BASE.headers, ["X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD"]] });
    expect(verify({ ...req, body: Buffer.from("anything") })).toMatchObject({ allowed: true, payloadVerified: false });
  });

  it("a body that differs from its declared X-Sdk-Content-Sha256 is denied", () => {
    const declared = "6c7ba9c5a141421e1c03cb9807c97c74130a18f8b9ca9e2b6f2cb1e5ac8fe4f1";
    const req = sign({ ...BASE, body: undefined, headers: [...BASE.headers, ["X-Sdk-Content-Sha256", declared]] });
    expect(verify({ ...req, body: Buffer.from("something else") })).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
  });

  it("the path is encoded once more, so the same path sent decoded does not verify", () => {
    const req = sign({ ...BASE, rawPath: "/v1/a%20b" });
    expect(verify(req)).toMatchObject({ allowed: true });
    expect(verify({ ...req, rawPath: "/v1/a b" })).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
  });

  it.each(["host", "x-sdk-date"])("%s must be signed", (name) => {
    const req = sign();
    const edited = setHeader(req, "authorization", headerOf(req, "authorization").replace(/SignedHeaders=([^,]+)/, (_m, list: string) => `SignedHeaders=${list.split(";").filter((n) => n !== name).join(";")}`));
    expect(verify(edited)).toMatchObject({ allowed: false, code: "AccessDenied", message: `the ${name} header must be signed` });
  });

  it.each([
    ["an x-sdk-* header", "X-Sdk-Request-Id", "1"],
    ["a session token", "X-Security-Token", "token"],
  ])("%s added after signing is denied", (_kind, name, value) => {
    expect(verify(withHeaders(sign(), [name, value]))).toMatchObject({ allowed: false, code: "AccessDenied" });
  });

  it("a signed session token is handed back to the caller", () => {
    expect(verify(sign(BASE, { securityToken: "gQpjbi1ub3J0aC00" }))).toMatchObject({ allowed: true, securityToken: "gQpjbi1ub3J0aC00" });
  });

  it.each([
    ["no X-Sdk-Date", (req: HttpRequestDescription) => withoutHeader(req, "x-sdk-date")],
    ["an X-Sdk-Date in the extended form", (req: HttpRequestDescription) => setHeader(req, "x-sdk-date", "2024-05-01T10:00:00Z")],
    ["an empty Access", (req: HttpRequestDescription) => setHeader(req, "authorization", headerOf(req, "authorization").replace(/Access=\w+/, "Access="))],
  ])("a request with %s is AuthorizationHeaderMalformed", (_problem, edit) => {
    expect(verify(edit(sign()))).toMatchObject({ allowed: false, code: "AuthorizationHeaderMalformed" });
  });

  it("a request without Access is IncompleteSignature", () => {
    const req = sign();
    expect(verify(setHeader(req, "authorization", headerOf(req, "authorization").replace(/Access=\w+, /, "")))).toMatchObject({ allowed: false, code: "IncompleteSignature" });
  });

  it.each([
    ["15 minutes old", -15, true],
    ["15 minutes ahead", 15, true],
    ["more than 15 minutes old", -15.02, false],
    ["more than 15 minutes ahead", 15.02, false],
  ])("a request %s: allowed is %s", (_when, offset, allowed) => {
    expect(verify(sign(BASE, {}, minutes(NOW, offset)))).toMatchObject(allowed ? { allowed } : { allowed, code: "RequestTimeTooSkewed" });
  });
});

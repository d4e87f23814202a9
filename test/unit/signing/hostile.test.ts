import { describe, expect, it } from "vitest";
import { signAcs3 } from "../../support/signers/acs3.js";
import { signHuawei } from "../../support/signers/huawei.js";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { signSigV4 } from "../../support/signers/sigv4.js";
import { verifySignedRequest } from "../../../src/signing/verify.js";
import { depsFor, headerOf, setHeader, withHeaders } from "./helpers.js";

const SECRET = "hostile-test-secret";
const TOKEN = "session-token-that-must-stay-private";
const KEYS = { AKIDHOSTILE: SECRET };
const NOW = new Date("2024-05-01T10:00:00Z");
const BASE: HttpRequestDescription = { method: "GET", rawPath: "/", rawQuery: "a=1", headers: [["Host", "example.com"]] };
const SIGNED = signSigV4(BASE, { accessKeyId: "AKIDHOSTILE", secret: SECRET, region: "us-east-1", service: "sts", sessionToken: TOKEN }, NOW);

function verify(req: HttpRequestDescription) {
  return verifySignedRequest(req, depsFor(KEYS), NOW);
}

describe("huge or hostile input is denied, never thrown", () => {
  it.each([
    ["a 100 KiB header value", withHeaders(SIGNED, ["X-Padding", "x".repeat(100 * 1024)]), "RequestHeaderSectionTooLarge"],
    ["201 headers", withHeaders(SIGNED, ...Array.from({ length: 201 }, (_, i): [string, string] => [`X-H${i}`, "v"])), "RequestHeaderSectionTooLarge"],
    ["10 000 query parameters", { ...SIGNED, rawQuery: Array.from({ length: 10_000 }, (_, i) => `p${i}=1`).join("&") }, "InvalidArgument"],
    ["a 20 KiB path", { ...SIGNED, rawPath: `/${"a".repeat(20 * 1024)}` }, "InvalidArgument"],
    ["invalid percent-encoding in the query", { ...SIGNED, rawQuery: `${SIGNED.rawQuery}&b=%zz` }, "InvalidArgument"],
    ["a truncated escape at the end of the query", { ...SIGNED, rawQuery: "a=%" }, "InvalidArgument"],
    ["a line break in a header value", withHeaders(SIGNED, ["X-Custom", "a\r\nx-amz-date:20240501T100000Z"]), "InvalidArgument"],
    ["a line break in the path", { ...SIGNED, rawPath: "/a\nb" }, "InvalidArgument"],
    ["a NUL in the query", { ...SIGNED, rawQuery: "a=\u0000" }, "InvalidArgument"],
    ["a header name with a colon", withHeaders(SIGNED, ["X-A:b", "v"]), "InvalidArgument"],
    ["an empty header name", withHeaders(SIGNED, ["", "v"]), "InvalidArgument"],
    ["a method with a space", { ...SIGNED, method: "GE T" }, "InvalidArgument"],
    ["a 64 KiB Authorization header", setHeader(SIGNED, "authorization", `AWS4-HMAC-SHA256 ${"Credential=x, ".repeat(4000)}`), "AuthorizationHeaderMalformed"],
    ["an Authorization header of commas", setHeader(SIGNED, "authorization", `AWS4-HMAC-SHA256 ${",".repeat(10_000)}`), "AuthorizationHeaderMalformed"],
    ["a credential of 10 000 slashes", setHeader(SIGNED, "authorization", headerOf(SIGNED, "authorization").replace(/Credential=[^,]+/, `Credential=${"/".repeat(10_000)}`)), "AuthorizationHeaderMalformed"],
  ])("%s", (_input, req, code) => {
    expect(verify(req)).toMatchObject({ allowed: false, code });
  });

  it.each([
    ["a missing method", { ...SIGNED, method: undefined }],
    ["a numeric path", { ...SIGNED, rawPath: 42 }],
    ["a missing query", { ...SIGNED, rawQuery: undefined }],
    ["headers that are not a list", { ...SIGNED, headers: { host: "example.com" } }],
    ["a header that is not a pair", { ...SIGNED, headers: [["Host"]] }],
    ["a header value that is a number", { ...SIGNED, headers: [["Host", 1]] }],
    ["a null header", { ...SIGNED, headers: [null] }],
    ["a body that is a number", { ...SIGNED, body: 42 }],
    ["a body that is text", { ...SIGNED, body: "text" }],
  ])("%s (from untyped JSON) is InvalidArgument", (_input, req) => {
    expect(verify(req as unknown as HttpRequestDescription)).toMatchObject({ allowed: false, code: "InvalidArgument" });
  });
});

describe("denial messages", () => {
  const acs3 = signAcs3({ ...BASE, body: Buffer.alloc(0) }, { accessKeyId: "AKIDHOSTILE", secret: SECRET, securityToken: TOKEN, nonce: "n-1" }, NOW);
  const huawei = signHuawei(BASE, { accessKeyId: "AKIDHOSTILE", secret: SECRET, securityToken: TOKEN }, NOW);
  const signatureOf = (req: HttpRequestDescription) => /Signature=(\w+)/.exec(headerOf(req, "authorization"))?.[1] ?? "";
  const denials: Array<[string, HttpRequestDescription]> = [
    ["a wrong signature", { ...SIGNED, rawQuery: "a=2" }],
    ["a stale request", setHeader(SIGNED, "x-amz-date", "20240501T080000Z")],
    ["an unsigned token", withHeaders(SIGNED, ["x-acs-security-token", TOKEN])],
    ["a malformed header", setHeader(SIGNED, "authorization", headerOf(SIGNED, "authorization").replace("SignedHeaders", "Signed"))],
    ["a wrong Alibaba signature", { ...acs3, rawQuery: "a=2" }],
    ["a wrong Huawei signature", { ...huawei, rawQuery: "a=2" }],
  ];

  it.each(denials)("for %s name neither the secret, the session token nor the signature", (_case, req) => {
    const result = verifySignedRequest(req, depsFor(KEYS), NOW);
    expect(result.allowed).toBe(false);
    const text = JSON.stringify(result);
    for (const secretValue of [SECRET, TOKEN, signatureOf(req), signatureOf(SIGNED)]) expect(text).not.toContain(secretValue);
  });
});

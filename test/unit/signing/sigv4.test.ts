import { describe, expect, it } from "vitest";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { signSigV4, type SigV4SigningInput } from "../../support/signers/sigv4.js";
import { headerOf, minutes, setHeader, verifyWith, withHeaders, withoutHeader } from "./helpers.js";

const KEYS = { AKIDTEST: "test-secret/with+chars" };
const NOW = new Date("2024-05-01T10:00:00Z");
const STS: SigV4SigningInput = { accessKeyId: "AKIDTEST", secret: KEYS.AKIDTEST, region: "eu-west-1", service: "sts" };
const S3: SigV4SigningInput = { ...STS, service: "s3" };
const BASE: HttpRequestDescription = {
  method: "GET",
  rawPath: "/",
  rawQuery: "Action=GetCallerIdentity&Version=2011-06-15",
  headers: [["Host", "sts.eu-west-1.amazonaws.com"]],
};

function sign(req: HttpRequestDescription = BASE, input: SigV4SigningInput = STS, at: Date = NOW): HttpRequestDescription {
  return signSigV4(req, input, at);
}

function verify(req: HttpRequestDescription, now: Date = NOW) {
  return verifyWith(KEYS, req, now);
}

function editAuthorization(req: HttpRequestDescription, edit: (value: string) => string): HttpRequestDescription {
  return setHeader(req, "authorization", edit(headerOf(req, "authorization")));
}

/** Sets (or with undefined removes) every occurrence of a raw query parameter. */
function setParam(req: HttpRequestDescription, key: string, value: string | undefined): HttpRequestDescription {
  const parts = req.rawQuery.split("&").filter((part) => part.split("=")[0] !== key);
  if (value !== undefined) parts.push(`${key}=${value}`);
  return { ...req, rawQuery: parts.join("&") };
}

function presigned(expires = 3600, req: HttpRequestDescription = BASE, input: SigV4SigningInput = STS, at: Date = NOW): HttpRequestDescription {
  return sign(req, { ...input, presignExpires: expires }, at);
}

describe("SigV4 Authorization header", () => {
  it("a request signed the SDK way verifies and names its scope", () => {
    expect(verify(sign())).toMatchObject({ allowed: true, accessKeyId: "AKIDTEST", region: "eu-west-1", service: "sts", presigned: false, key: { owner: "owner-of-AKIDTEST" } });
  });

  it.each([
    ["no space after the commas", (value: string) => value.replaceAll(", ", ",")],
    ["several spaces after the commas", (value: string) => value.replaceAll(", ", ",   ")],
  ])("verifies with %s", (_form, edit) => {
    expect(verify(editAuthorization(sign(), edit))).toMatchObject({ allowed: true });
  });

  it.each([
    ["a missing Signature", (v: string) => v.replace(/, Signature=\w+/, ""), "IncompleteSignature"],
    ["a missing SignedHeaders", (v: string) => v.replace(/, SignedHeaders=[^,]+/, ""), "IncompleteSignature"],
    ["an unknown parameter", (v: string) => `${v}, Extra=1`, "AuthorizationHeaderMalformed"],
    ["a repeated parameter", (v: string) => v.replace(/, Signature=/, ", SignedHeaders=host, Signature="), "AuthorizationHeaderMalformed"],
    ["a credential with four parts", (v: string) => v.replace("/sts/aws4_request", "/aws4_request"), "AuthorizationHeaderMalformed"],
    ["a credential not ending in aws4_request", (v: string) => v.replace("aws4_request", "aws5_request"), "AuthorizationHeaderMalformed"],
    ["uppercase signed header names", (v: string) => v.replace("host;", "Host;"), "AuthorizationHeaderMalformed"],
    ["a repeated signed header name", (v: string) => v.replace("host;", "host;host;"), "AuthorizationHeaderMalformed"],
    ["a scope date that is not the X-Amz-Date date", (v: string) => v.replace("/20240501/", "/20240430/"), "AuthorizationHeaderMalformed"],
    ["a 65-character region", (v: string) => v.replace("/eu-west-1/", `/${"r".repeat(65)}/`), "AuthorizationHeaderMalformed"],
    ["a 60 KB region", (v: string) => v.replace("/eu-west-1/", `/${"r".repeat(60_000)}/`), "AuthorizationHeaderMalformed"],
    ["a 65-character service", (v: string) => v.replace("/sts/", `/${"s".repeat(65)}/`), "AuthorizationHeaderMalformed"],
    ["a region with a space", (v: string) => v.replace("/eu-west-1/", "/eu west/"), "AuthorizationHeaderMalformed"],
    ["a service with a non-ASCII letter", (v: string) => v.replace("/sts/", "/stś/"), "AuthorizationHeaderMalformed"],
    ["an unknown algorithm", (v: string) => v.replace("AWS4-HMAC-SHA256", "AWS4-HMAC-SHA512"), "AuthorizationHeaderMalformed"],
    ["Signature Version 2", () => "AWS AKIDTEST:frJIUN8DYpKDtOLCwo//yllqDzg=", "AuthorizationHeaderMalformed"],
    ["an empty value", () => "", "AuthorizationHeaderMalformed"],
    ["a signature one hex digit short", (v: string) => v.slice(0, -1), "SignatureDoesNotMatch"],
    ["a signature one hex digit long", (v: string) => `${v}0`, "SignatureDoesNotMatch"],
    ["a signature that is not hex", (v: string) => v.replace(/Signature=\w+/, `Signature=${"z".repeat(64)}`), "SignatureDoesNotMatch"],
    ["an empty signature", (v: string) => v.replace(/Signature=\w+/, "Signature="), "SignatureDoesNotMatch"],
    ["a 10 000-character signature", (v: string) => v.replace(/Signature=\w+/, `Signature=${"a".repeat(10_000)}`), "SignatureDoesNotMatch"],
  ])("is denied with %s", (_problem, edit, code) => {
    expect(verify(editAuthorization(sign(), edit))).toMatchObject({ allowed: false, code });
  });
});

describe("deny by default", () => {
  it.each([
    ["a request without any signature", BASE, "MissingAuthenticationToken", 403],
    ["two Authorization headers", withHeaders(sign(), ["Authorization", headerOf(sign(), "authorization")]), "InvalidArgument", 400],
    ["an Authorization header and presigned query parameters together", withHeaders(presigned(), ["Authorization", headerOf(sign(), "authorization")]), "InvalidArgument", 400],
    ["a session token in the query of a header-signed request", { ...sign(), rawQuery: `${BASE.rawQuery}&X-Amz-Security-Token=t` }, "InvalidArgument", 400],
    ["an unknown access key", editAuthorization(sign(), (v) => v.replace("AKIDTEST", "AKIDOTHER")), "InvalidAccessKeyId", 403],
  ])("%s is denied", (_case, req, code, httpStatus) => {
    expect(verify(req)).toMatchObject({ allowed: false, code, httpStatus });
  });
});

describe("authorizing on exactly what was signed", () => {
  it("host must be signed", () => {
    const signedWithoutHost = sign({ ...BASE, headers: [["X-Custom", "1"]] });
    expect(verify(withHeaders(signedWithoutHost, ["Host", "sts.eu-west-1.amazonaws.com"]))).toMatchObject({ allowed: false, code: "AccessDenied" });
  });

  it("x-amz-date must be signed in the header form", () => {
    const req = editAuthorization(sign(), (v) => v.replace(";x-amz-date", ""));
    expect(verify(req)).toMatchObject({ allowed: false, code: "AccessDenied", message: "the x-amz-date header must be signed" });
  });

  it.each([
    ["an x-amz-* header", "X-Amz-Target", "AWSSecurityTokenServiceV20110615.GetCallerIdentity"],
    ["a session token header", "X-Amz-Security-Token", "token"],
    ["an x-acs-* header", "x-acs-action", "RunInstances"],
    ["an x-sdk-* header", "X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD"],
    ["Alibaba's session token header", "x-acs-security-token", "token"],
    ["Huawei's session token header", "X-Security-Token", "token"],
  ])("%s added after signing is denied", (_kind, name, value) => {
    expect(verify(withHeaders(sign(), [name, value]))).toMatchObject({ allowed: false, code: "AccessDenied", httpStatus: 403 });
  });

  it("a header no cloud acts on may be added after signing", () => {
    expect(verify(withHeaders(sign(), ["User-Agent", "curl/8"]))).toMatchObject({ allowed: true });
  });

  it("a signed header missing from the request is SignatureDoesNotMatch", () => {
    const req = withoutHeader(sign({ ...BASE, headers: [...BASE.headers, ["X-Custom", "1"]] }), "x-custom");
    expect(verify(req)).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
  });

  it("repeated headers are signed in arrival order", () => {
    const req = sign({ ...BASE, headers: [...BASE.headers, ["X-Custom", "first"], ["X-Custom", "second"]] });
    expect(verify(req)).toMatchObject({ allowed: true });
    const swapped = { ...req, headers: req.headers.map(([n, v]): [string, string] => [n, v === "first" ? "second" : v === "second" ? "first" : v]) };
    expect(verify(swapped)).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
  });

  it("a signed session token is handed back to the caller", () => {
    expect(verify(sign(BASE, { ...STS, sessionToken: "FwoGZXIvYXdzEJr//token" }))).toMatchObject({ allowed: true, securityToken: "FwoGZXIvYXdzEJr//token" });
  });
});

describe("the request as received", () => {
  it("a path whose %2E%2E a proxy decoded into .. no longer verifies", () => {
    const req = sign({ ...BASE, rawPath: "/a/%2E%2E/b" });
    expect(verify(req)).toMatchObject({ allowed: true });
    expect(verify({ ...req, rawPath: "/a/../b" })).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
  });

  it("a + in the query is not read as a space", () => {
    const req = sign({ ...BASE, rawQuery: "a=b%20c" });
    expect(verify({ ...req, rawQuery: "a=b+c" })).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
  });

  it("a non-S3 path is normalised, so a dot segment signs like the path without it", () => {
    const req = sign({ ...BASE, rawPath: "/a/./b" });
    expect(verify({ ...req, rawPath: "/a/b" })).toMatchObject({ allowed: true });
  });

  it("an S3 path is taken exactly as sent, dot segments included", () => {
    const req = sign({ ...BASE, rawPath: "/bucket/a/../key" }, S3);
    expect(verify(req)).toMatchObject({ allowed: true, service: "s3" });
    expect(verify({ ...req, rawPath: "/bucket/key" })).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
  });
});

describe("SigV4 time", () => {
  it.each([
    ["exactly 15 minutes behind", -15, true],
    ["exactly 15 minutes ahead", 15, true],
  ])("a request %s of the server clock verifies", (_when, offset, allowed) => {
    expect(verify(sign(BASE, STS, minutes(NOW, offset)))).toMatchObject({ allowed });
  });

  it.each([
    ["more than 15 minutes behind", -15.02],
    ["more than 15 minutes ahead", 15.02],
  ])("a request %s is RequestTimeTooSkewed", (_when, offset) => {
    expect(verify(sign(BASE, STS, minutes(NOW, offset)))).toMatchObject({ allowed: false, code: "RequestTimeTooSkewed", httpStatus: 403 });
  });

  it.each([
    ["an ISO 8601 extended date", "2024-05-01T10:00:00Z"],
    ["a date that does not exist", "20240231T100000Z"],
    ["no date at all", undefined],
  ])("%s in X-Amz-Date is AuthorizationHeaderMalformed", (_kind, value) => {
    const req = value === undefined ? withoutHeader(sign(), "x-amz-date") : setHeader(sign(), "x-amz-date", value);
    expect(verify(req)).toMatchObject({ allowed: false, code: "AuthorizationHeaderMalformed" });
  });
});

describe("an invalid server clock", () => {
  it.each([
    ["a header-signed request", sign()],
    ["a presigned request", presigned()],
  ])("fails %s closed instead of skipping the time checks", (_kind, req) => {
    expect(verify(req, new Date(Number.NaN))).toMatchObject({ allowed: false, code: "RequestTimeTooSkewed" });
  });
});

describe("SigV4 presigned URLs", () => {
  it("a presigned request verifies and reports its expiry", () => {
    expect(verify(presigned(3600))).toMatchObject({ allowed: true, presigned: true, expiresAt: minutes(NOW, 60) });
  });

  it.each([
    ["at the last second of its validity", 60, true],
    ["a second after it expired", 60 + 1 / 60, false],
  ])("a presigned request %s: allowed is %s", (_when, offset, allowed) => {
    const result = verify(presigned(3600), minutes(NOW, offset));
    expect(result).toMatchObject(allowed ? { allowed: true } : { allowed: false, code: "AccessDenied", message: "the presigned request has expired" });
  });

  it("a presigned request two days old with a week of validity verifies: past skew does not apply", () => {
    expect(verify(presigned(604_800), minutes(NOW, 2 * 24 * 60))).toMatchObject({ allowed: true });
  });

  it("a presigned request dated more than 15 minutes ahead is RequestTimeTooSkewed", () => {
    expect(verify(presigned(3600, BASE, STS, minutes(NOW, 16)))).toMatchObject({ allowed: false, code: "RequestTimeTooSkewed" });
  });

  it.each([1, 604_800])("X-Amz-Expires=%s is within bounds", (expires) => {
    expect(verify(presigned(expires))).toMatchObject({ allowed: true });
  });

  it.each(["0", "604801", "-1", "1.5", "abc", "", "99999999999"])("X-Amz-Expires=%j is AuthorizationQueryParametersError", (expires) => {
    expect(verify(setParam(presigned(), "X-Amz-Expires", expires))).toMatchObject({ allowed: false, code: "AuthorizationQueryParametersError", httpStatus: 400 });
  });

  it.each(["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"])(
    "a presigned request without %s is AuthorizationQueryParametersError",
    (param) => {
      expect(verify(setParam(presigned(), param, undefined))).toMatchObject({ allowed: false, code: "AuthorizationQueryParametersError" });
    },
  );

  it.each([
    ["a repeated X-Amz-Signature", (req: HttpRequestDescription) => ({ ...req, rawQuery: `${req.rawQuery}&X-Amz-Signature=${"0".repeat(64)}` })],
    ["another algorithm", (req: HttpRequestDescription) => setParam(req, "X-Amz-Algorithm", "AWS4-ECDSA-P256-SHA256")],
    ["a scope date that is not the X-Amz-Date date", (req: HttpRequestDescription) => ({ ...req, rawQuery: req.rawQuery.replace("%2F20240501%2F", "%2F20240502%2F") })],
    ["a session token both in the query and in a header", (req: HttpRequestDescription) => withHeaders(req, ["X-Amz-Security-Token", "t"])],
  ])("a presigned request with %s is AuthorizationQueryParametersError", (_problem, edit) => {
    expect(verify(edit(presigned(3600, BASE, { ...STS, sessionToken: "t" })))).toMatchObject({ allowed: false, code: "AuthorizationQueryParametersError" });
  });

  it("a presigned request with an unsigned X-Amz-Date header is denied", () => {
    expect(verify(withHeaders(presigned(), ["X-Amz-Date", "20240501T100000Z"]))).toMatchObject({ allowed: false, code: "AccessDenied" });
  });

  it("a presigned session token is handed back to the caller", () => {
    expect(verify(presigned(3600, BASE, { ...STS, sessionToken: "tok/en+1" }))).toMatchObject({ allowed: true, securityToken: "tok/en+1" });
  });

  it("a query parameter changed after presigning is SignatureDoesNotMatch", () => {
    expect(verify(setParam(presigned(), "Action", "AssumeRole"))).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
  });
});

describe("SigV4 payload", () => {
  const put: HttpRequestDescription = { method: "PUT", rawPath: "/bucket/key", rawQuery: "", headers: [["Host", "s3.eu-west-1.amazonaws.com"]], body: Buffer.from("hello") };
  const withDeclared = (value: string) => ({ ...put, headers: [...put.headers, ["x-amz-content-sha256", value] as [string, string]] });
  const helloSha = "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824";

  it("UNSIGNED-PAYLOAD verifies and reports the body as not verified", () => {
    expect(verify(sign(withDeclared("UNSIGNED-PAYLOAD"), S3))).toMatchObject({ allowed: true, payloadVerified: false });
  });

  it("a declared SHA-256 that matches the body verifies it", () => {
    expect(verify(sign(withDeclared(helloSha), S3))).toMatchObject({ allowed: true, payloadVerified: true });
  });

  it("a body that differs from its declared SHA-256 is XAmzContentSHA256Mismatch", () => {
    expect(verify({ ...sign(withDeclared(helloSha), S3), body: Buffer.from("HELLO") })).toMatchObject({ allowed: false, code: "XAmzContentSHA256Mismatch", httpStatus: 400 });
  });

  it("without the body (forward-auth) a declared SHA-256 verifies the signature but not the body", () => {
    expect(verify({ ...sign(withDeclared(helloSha), S3), body: undefined })).toMatchObject({ allowed: true, payloadVerified: false });
  });

  it("without a declared hash the body itself is hashed, so another body breaks the signature", () => {
    const req = sign(put, S3);
    expect(verify(req)).toMatchObject({ allowed: true, payloadVerified: true });
    expect(verify({ ...req, body: Buffer.from("HELLO") })).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
  });

  it.each(["STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"])(
    "a %s upload is refused explicitly with NotImplemented",
    (streaming) => {
      const req = setHeader(sign(withDeclared("UNSIGNED-PAYLOAD"), S3), "x-amz-content-sha256", streaming);
      expect(verify(req)).toMatchObject({ allowed: false, code: "NotImplemented", httpStatus: 400 });
    },
  );

  it("a content hash that is neither UNSIGNED-PAYLOAD nor a SHA-256 is InvalidArgument", () => {
    const req = setHeader(sign(withDeclared("UNSIGNED-PAYLOAD"), S3), "x-amz-content-sha256", "not-a-hash");
    expect(verify(req)).toMatchObject({ allowed: false, code: "InvalidArgument" });
  });
});

import { describe, expect, it } from "vitest";
import { allowedBody, allowedText } from "../../../src/verifier/server.js";
import type { Allowed } from "../../../src/verifier/verification.js";

const principal = { namespace: "team-a", user: "alice", accessKeyId: "KGAKEXAMPLE000000001", credentialType: "AccessKey", mfaAuthenticated: false } as const;

const base: Allowed = {
  allowed: true,
  scheme: "AWS4-HMAC-SHA256",
  principal,
  payloadVerified: true,
  service: "s3",
  region: "eu-west-1",
  date: "2024-05-01T12:00:00.000Z",
};

describe("the pre-serialised answer of an allowed /v1/verify", () => {
  const cases: Array<[string, Allowed]> = [
    ["a SigV4 request with its scope", base],
    ["a scheme without a scope leaves service and region out, as JSON.stringify does", { ...base, scheme: "SDK-HMAC-SHA256", service: undefined, region: undefined }],
    ["an unverified payload", { ...base, payloadVerified: false }],
    ["a temporary credential with MFA", { ...base, principal: { ...principal, credentialType: "TemporaryCredential", mfaAuthenticated: true } }],
    ["names that JSON must escape", { ...base, principal: { ...principal, user: 'a"b\\c\u2028' }, service: 'x"y' }],
    ["fields the answer never shows (key, source address)", { ...base, accessKey: { namespace: "n", name: "k", uid: "u" }, sourceIp: "10.0.0.1" }],
  ];

  it.each(cases)("is byte for byte JSON.stringify of the answer: %s", (_name, outcome) => {
    expect(allowedText(outcome)).toBe(JSON.stringify(allowedBody(outcome)));
  });

  it("answers the principal it is given when the same principal object is serialised again", () => {
    const first = allowedText(base);
    expect(allowedText({ ...base, date: "2024-05-01T12:00:01.000Z" })).toBe(first.replace("12:00:00", "12:00:01"));
  });
});

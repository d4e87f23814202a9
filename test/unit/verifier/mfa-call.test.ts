import { describe, expect, it } from "vitest";
import { parseChallengeCall, parseMfaCall } from "../../../src/verifier/mfa-call.js";

const assertion = {
  id: "Y3JlZGVudGlhbC1pZA",
  rawId: "Y3JlZGVudGlhbC1pZA",
  type: "public-key",
  response: { clientDataJSON: "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0In0", authenticatorData: "SZYN5YgOjGh0NBcP", signature: "MEUCIQ" },
};

const text = (body: unknown): string => JSON.stringify(body);
const refused = (field: string) => ({ code: "InvalidRequest", httpStatus: 400, message: expect.stringMatching(new RegExp(`^${field.replaceAll(".", "\\.")}: `)) as unknown });

describe("a POST /v1/mfa/verify body", () => {
  const cases: Array<[string, unknown, unknown]> = [
    ["a code of the virtual device is a code call", { namespace: "team", user: "alice", code: "123456" }, { namespace: "team", user: "alice", code: "123456" }],
    ["a security key's assertion is an assertion call", { namespace: "team", user: "alice", assertion }, { namespace: "team", user: "alice", assertion }],
    [
      "fields a browser adds to the assertion (clientExtensionResults) are dropped, not refused",
      { namespace: "team", user: "alice", assertion: { ...assertion, clientExtensionResults: {} } },
      { namespace: "team", user: "alice", assertion },
    ],
    ["both a code and an assertion are refused", { namespace: "team", user: "alice", code: "123456", assertion }, refused("code/assertion")],
    ["neither a code nor an assertion is refused", { namespace: "team", user: "alice" }, refused("code/assertion")],
    ["a code of five digits is refused, naming the rule", { namespace: "team", user: "alice", code: "12345" }, { message: "code: must be a 6-digit code" }],
    ["a namespace that is no namespace name is refused", { namespace: "Team", user: "alice", code: "123456" }, refused("namespace")],
    ["a user that is no IAM user name is refused", { namespace: "team", user: "al ice", code: "123456" }, refused("user")],
    [
      "an assertion whose signature is not base64url is refused, naming the field and the rule",
      { namespace: "team", user: "alice", assertion: { ...assertion, response: { ...assertion.response, signature: "MEUC+Q==" } } },
      { message: "assertion.response.signature: must be base64url without padding" },
    ],
    ["an assertion without rawId is refused, naming the field", { namespace: "team", user: "alice", assertion: { ...assertion, rawId: undefined } }, refused("assertion.rawId")],
    ["an assertion of another credential type is refused", { namespace: "team", user: "alice", assertion: { ...assertion, type: "password" } }, refused("assertion.type")],
    ["an assertion that is not an object is refused", { namespace: "team", user: "alice", assertion: "eyJ9" }, refused("assertion")],
  ];
  it.each(cases)("%s", (_name, body, expected) => {
    expect(parseMfaCall(text(body))).toMatchObject(expected as object);
  });

  it("refuses what is not a JSON object, saying what it must be", () => {
    for (const body of ["[]", "null", "not json", '"text"']) {
      expect(parseMfaCall(body)).toMatchObject({ code: "InvalidRequest", message: 'body: must be a JSON object {"namespace", "user", and "code" or "assertion"}' });
    }
  });

  it("never repeats the value sent in its message", () => {
    const answer = parseMfaCall(text({ namespace: "team", user: "alice", assertion: { ...assertion, id: "secret value!" } }));
    expect(answer).toMatchObject({ code: "InvalidRequest" });
    expect(JSON.stringify(answer)).not.toContain("secret value!");
  });
});

describe("a POST /v1/mfa/challenge body", () => {
  it("names a user of a namespace, for /v1/mfa/verify unless the purpose says a session", () => {
    expect(parseChallengeCall(text({ namespace: "team", user: "alice" }))).toEqual({ namespace: "team", user: "alice", purpose: "verify" });
    expect(parseChallengeCall(text({ namespace: "team", user: "alice", purpose: "verify" }))).toEqual({ namespace: "team", user: "alice", purpose: "verify" });
    expect(parseChallengeCall(text({ namespace: "team", user: "alice", purpose: "session" }))).toEqual({ namespace: "team", user: "alice", purpose: "session" });
  });

  it("refuses a body without a user, with another purpose, or not an object", () => {
    expect(parseChallengeCall(text({ namespace: "team" }))).toMatchObject(refused("user"));
    for (const purpose of ["Session", "login", null, ["session"]]) {
      expect(parseChallengeCall(text({ namespace: "team", user: "alice", purpose }))).toMatchObject({
        code: "InvalidRequest",
        message: 'purpose: must be "verify" (POST /v1/mfa/verify, the default) or "session" (a TemporaryCredential)',
      });
    }
    expect(parseChallengeCall("[]")).toMatchObject({ message: 'body: must be a JSON object {"namespace", "user", "purpose" (optional)}' });
  });
});

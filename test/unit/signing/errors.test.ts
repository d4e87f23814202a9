import { describe, expect, it } from "vitest";
import { deny, isDenial, type DenialCode } from "../../../src/signing/errors.js";

describe("denial codes", () => {
  it.each<[DenialCode, number]>([
    ["SignatureDoesNotMatch", 403],
    ["InvalidAccessKeyId", 403],
    ["RequestTimeTooSkewed", 403],
    ["AccessDenied", 403],
    ["InvalidClientTokenId", 403],
    ["ExpiredToken", 400],
    ["AuthorizationHeaderMalformed", 400],
    ["AuthorizationQueryParametersError", 400],
    ["IncompleteSignature", 400],
    ["SignatureNonceUsed", 400],
    ["MissingAuthenticationToken", 403],
  ])("%s answers HTTP %i, as the clouds do", (code, httpStatus) => {
    expect(deny(code, "m")).toEqual({ allowed: false, code, message: "m", httpStatus });
  });

  it.each([
    ["a denial", deny("AccessDenied", "m"), true],
    ["an allowed result", { allowed: true }, false],
    ["null", null, false],
    ["a string", "AccessDenied", false],
  ])("%s is recognised as a denial: %s", (_what, value, expected) => {
    expect(isDenial(value)).toBe(expected);
  });
});

import { describe, expect, it } from "vitest";
import { DEFAULT_RELYING_PARTY, originAllowed, originPatternProblem, relyingPartyProblem, type RelyingParty } from "../../../src/webauthn/relying-party.js";

const rp = (origins: string[], id = "localhost"): RelyingParty => ({ id, name: "keygate", origins });

describe("which origins a ceremony is accepted from", () => {
  const cases: Array<[string, string, RelyingParty, boolean]> = [
    ["any port of localhost matches :*", "http://localhost:41235", DEFAULT_RELYING_PARTY, true],
    ["localhost without a port does not match :*", "http://localhost", DEFAULT_RELYING_PARTY, false],
    ["another host does not match localhost:*", "http://127.0.0.1:41235", DEFAULT_RELYING_PARTY, false],
    ["a host under localhost does not match localhost:*", "http://evil.localhost:41235", DEFAULT_RELYING_PARTY, false],
    ["https does not match an http pattern", "https://localhost:41235", DEFAULT_RELYING_PARTY, false],
    ["a literal * port is no port", "http://localhost:*", DEFAULT_RELYING_PARTY, false],
    ["a path after the port is no origin", "http://localhost:41235/x", DEFAULT_RELYING_PARTY, false],
    ["an exact origin matches itself", "http://localhost:8080", rp(["http://localhost:8080"]), true],
    ["an exact origin matches no other port", "http://localhost:8081", rp(["http://localhost:8080"]), false],
    ["an exact https origin without a port", "https://keys.example.com", rp(["https://keys.example.com"], "example.com"), true],
    ["an https origin is not its http twin", "http://keys.example.com", rp(["https://keys.example.com"], "example.com"), false],
    ["any of several patterns", "https://keys.example.com:8443", rp(["http://localhost:*", "https://keys.example.com:*"], "example.com"), true],
  ];
  it.each(cases)("%s", (_name, origin, party, allowed) => {
    expect(originAllowed(origin, party)).toBe(allowed);
  });
});

describe("origin patterns keygate can be configured with", () => {
  it("takes http on localhost only: WebAuthn needs a secure context", () => {
    expect(originPatternProblem("http://localhost:*")).toBeUndefined();
    expect(originPatternProblem("https://keys.example.com")).toBeUndefined();
    expect(originPatternProblem("http://keys.example.com")).toBe('"http://keys.example.com": WebAuthn needs https, except on localhost');
  });

  it("refuses what is not scheme://host[:port]", () => {
    for (const pattern of ["localhost:8080", "ftp://localhost", "https://keys.example.com/", "https://Keys.example.com", "https://*.example.com"]) {
      expect(originPatternProblem(pattern)).toMatch(/is not an origin/);
    }
  });
});

describe("a relying party id and its origins", () => {
  const cases: Array<[string, RelyingParty, string | undefined]> = [
    ["the default (localhost, any port) is usable", DEFAULT_RELYING_PARTY, undefined],
    ["origins on the id's host are usable", rp(["https://example.com"], "example.com"), undefined],
    ["origins under the id are usable", rp(["https://keys.example.com:8443"], "example.com"), undefined],
    ["an origin on another host is refused", rp(["https://example.org"], "example.com"), "origin https://example.org is not on relying party id example.com or under it"],
    ["a host that only ends like the id is refused", rp(["https://notexample.com"], "example.com"), "origin https://notexample.com is not on relying party id example.com or under it"],
    ["an id that is a URL is refused", rp(["https://example.com"], "https://example.com"), 'relying party id "https://example.com" must be a host name'],
    ["no origin at all is refused", rp([], "example.com"), "at least one WebAuthn origin is needed"],
    ["an insecure origin is refused", rp(["http://keys.example.com"], "example.com"), '"http://keys.example.com": WebAuthn needs https, except on localhost'],
  ];
  it.each(cases)("%s", (_name, party, problem) => {
    expect(relyingPartyProblem(party)).toBe(problem);
  });
});

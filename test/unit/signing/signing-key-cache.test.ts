import { describe, expect, it } from "vitest";
import { deriveSigV4Key, SigningKeyCache } from "../../../src/signing/signing-key-cache.js";

const SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

describe("the SigV4 signing key", () => {
  it("derives the key of AWS's documented example (20120215, us-east-1, iam)", () => {
    expect(deriveSigV4Key(SECRET, { date: "20120215", region: "us-east-1", service: "iam" }).toString("hex")).toBe(
      "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d",
    );
  });

  it("is derived once per secret, date, region and service, then served from the cache", () => {
    const cache = new SigningKeyCache();
    const scope = { date: "20240501", region: "eu-west-1", service: "s3" };
    const first = cache.get(SECRET, scope);
    expect(cache.get(SECRET, { ...scope })).toBe(first);
    expect(first.equals(deriveSigV4Key(SECRET, scope))).toBe(true);
  });

  it.each([
    ["another date", { date: "20240502" }],
    ["another region", { region: "eu-west-2" }],
    ["another service", { service: "sts" }],
  ])("%s gets another key", (_what, change) => {
    const cache = new SigningKeyCache();
    const scope = { date: "20240501", region: "eu-west-1", service: "s3" };
    expect(cache.get(SECRET, { ...scope, ...change }).equals(cache.get(SECRET, scope))).toBe(false);
  });

  it("another secret for the same scope gets another key", () => {
    const cache = new SigningKeyCache();
    const scope = { date: "20240501", region: "eu-west-1", service: "s3" };
    expect(cache.get("secret-a", scope).equals(cache.get("secret-b", scope))).toBe(false);
  });

  it("fields cannot run into each other, whatever a client puts in its scope", () => {
    const cache = new SigningKeyCache();
    const a = cache.get(SECRET, { date: "20240501", region: "eu\nwest", service: "s3" });
    const b = cache.get(SECRET, { date: "20240501", region: "eu", service: "west\ns3" });
    expect(a.equals(b)).toBe(false);
  });

  it("stays within its bound, dropping the oldest key first", () => {
    const cache = new SigningKeyCache(2);
    const scope = (date: string) => ({ date, region: "r", service: "s" });
    const first = cache.get(SECRET, scope("20240501"));
    cache.get(SECRET, scope("20240502"));
    cache.get(SECRET, scope("20240503"));
    expect(cache.size).toBe(2);
    expect(cache.get(SECRET, scope("20240501"))).not.toBe(first);
  });
});

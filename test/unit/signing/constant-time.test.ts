import { timingSafeEqual } from "node:crypto";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { signSigV4 } from "../../support/signers/sigv4.js";
import { headerOf, setHeader, verifyWith } from "./helpers.js";

// Spy on the comparison the verifier uses, keeping its real behaviour.
vi.mock("node:crypto", async (importOriginal) => {
  const actual = await importOriginal<typeof import("node:crypto")>();
  return { ...actual, timingSafeEqual: vi.fn(actual.timingSafeEqual) };
});

const KEYS = { AKIDCT: "constant-time-secret" };
const NOW = new Date("2024-05-01T10:00:00Z");
const SIGNED = signSigV4({ method: "GET", rawPath: "/", rawQuery: "", headers: [["Host", "example.com"]] }, { accessKeyId: "AKIDCT", secret: KEYS.AKIDCT, region: "us-east-1", service: "sts" }, NOW);
const compare = vi.mocked(timingSafeEqual);

function withSignature(signature: string): HttpRequestDescription {
  return setHeader(SIGNED, "authorization", headerOf(SIGNED, "authorization").replace(/Signature=\w+/, `Signature=${signature}`));
}

describe("signature comparison", () => {
  beforeEach(() => {
    compare.mockClear();
  });

  it("a matching signature is compared with timingSafeEqual on two 32-byte buffers", () => {
    expect(verifyWith(KEYS, SIGNED, NOW)).toMatchObject({ allowed: true });
    expect(compare).toHaveBeenCalledTimes(1);
    const [given, expected] = compare.mock.calls[0] as [Buffer, Buffer];
    expect([given.length, expected.length]).toEqual([32, 32]);
  });

  it("a wrong signature of the right shape goes through the same comparison", () => {
    expect(verifyWith(KEYS, withSignature("0".repeat(64)), NOW)).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
    expect(compare).toHaveBeenCalledTimes(1);
  });

  it.each([
    ["too short", "ab".repeat(31)],
    ["too long", "ab".repeat(33)],
    ["not hex", "g".repeat(64)],
    ["odd-length hex", "a".repeat(63)],
  ])("a signature that is %s is a plain denial that never reaches the comparison", (_shape, signature) => {
    expect(verifyWith(KEYS, withSignature(signature), NOW)).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
    expect(compare).not.toHaveBeenCalled();
  });
});

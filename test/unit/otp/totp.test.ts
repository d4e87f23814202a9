import { describe, expect, it } from "vitest";
import { hotp, matchStep, otpauthUri, seedToBase32, stepAt, totp } from "../../../src/otp/totp.js";

// RFC 6238 appendix B, SHA-1 rows: the seed is the ASCII string "12345678901234567890", 8 digits.
const RFC_SEED = Buffer.from("12345678901234567890", "ascii");
const RFC_VECTORS: Array<[number, string]> = [
  [59, "94287082"],
  [1111111109, "07081804"],
  [1111111111, "14050471"],
  [1234567890, "89005924"],
  [2000000000, "69279037"],
  [20000000000, "65353130"],
];

// RFC 4226 appendix D: HOTP values for counters 0..9 with the same seed, 6 digits.
const HOTP_VECTORS = ["755224", "287082", "359152", "969429", "338314", "254676", "287922", "162583", "399871", "520489"];

describe("TOTP", () => {
  it.each(RFC_VECTORS)("matches RFC 6238 appendix B at T=%d", (seconds, code) => {
    expect(totp(RFC_SEED, seconds * 1000, 8)).toBe(code);
  });

  it("matches RFC 4226 appendix D for counters 0 to 9", () => {
    expect(HOTP_VECTORS.map((_, counter) => hotp(RFC_SEED, counter))).toEqual(HOTP_VECTORS);
  });

  it("accepts a code of the previous, current or next step and no other", () => {
    const now = 1_800_000_000_000;
    const step = stepAt(now);
    for (const offset of [-1, 0, 1]) expect(matchStep(RFC_SEED, hotp(RFC_SEED, step + offset), now)).toBe(step + offset);
    expect(matchStep(RFC_SEED, hotp(RFC_SEED, step - 2), now)).toBeUndefined();
    expect(matchStep(RFC_SEED, hotp(RFC_SEED, step + 2), now)).toBeUndefined();
  });

  it.each(["", "12345", "1234567", "12345a", " 123456"])("refuses the malformed code %j", (code) => {
    expect(matchStep(RFC_SEED, code, 0)).toBeUndefined();
  });

  it("encodes the seed in base32 as apps expect", () => {
    expect(seedToBase32(RFC_SEED)).toBe("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
  });

  it("builds the otpauth URI with issuer, account label and parameters", () => {
    const uri = otpauthUri({ issuer: "keygate", namespace: "team-a", user: "alice@example.com" }, RFC_SEED);
    expect(uri).toBe(
      "otpauth://totp/team-a:alice%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=keygate&algorithm=SHA1&digits=6&period=30",
    );
  });
});

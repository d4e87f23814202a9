import { describe, expect, it } from "vitest";
import { encodeBits } from "../../../src/credentials/encode.js";
import { BASE32_ALPHABET, SECRET_ALPHABET } from "../../../src/credentials/format.js";

describe("bit slicing onto an alphabet", () => {
  it("reads bits most significant first, k bits per symbol", () => {
    // A test vector of RFC 4648, section 10.
    expect(encodeBits(Buffer.from("fooba"), BASE32_ALPHABET)).toBe("MZXW6YTB");
  });

  it("agrees with Node's base64url encoder on the secret alphabet", () => {
    const bytes = Buffer.from(Array.from({ length: 30 }, (_, i) => (i * 37 + 11) & 0xff));
    expect(encodeBits(bytes, SECRET_ALPHABET)).toBe(bytes.toString("base64url"));
  });

  it("refuses an alphabet whose size is not a power of two", () => {
    expect(() => encodeBits(new Uint8Array(3), "ABCDEFGHIJ")).toThrow(RangeError);
  });

  it("refuses input whose bits do not split evenly into symbols", () => {
    expect(() => encodeBits(new Uint8Array(3), BASE32_ALPHABET)).toThrow(RangeError);
  });
});

import { describe, expect, it } from "vitest";
import { BASE32_ALPHABET, isAccessKeyId, isSecretAccessKey } from "../../../src/credentials/format.js";

describe("credential validators", () => {
  it.each([
    ["a long-term id", "KGAKABCDEFGHIJKLMNOP", true],
    ["a temporary id", "KGASQRSTUVWXYZ234567", true],
    ["an id with a foreign prefix", "AKIAABCDEFGHIJKLMNOP", false],
    ["an id with lower-case letters", "KGAKabcdefghijklmnop", false],
    ["an id with the digit 1, outside base32", "KGAK1BCDEFGHIJKLMNOP", false],
    ["an id one character short", "KGAKABCDEFGHIJKLMNO", false],
    ["an id one character long", "KGAKABCDEFGHIJKLMNOPQ", false],
  ])("tell %s apart", (_what, id, valid) => {
    expect(isAccessKeyId(id)).toBe(valid);
  });

  it.each([
    ["a base64url secret", "A".repeat(39) + "-", true],
    ["a secret with '+', outside base64url", "A".repeat(39) + "+", false],
    ["a 39-character secret", "A".repeat(39), false],
    ["a 41-character secret", "A".repeat(41), false],
  ])("tell %s apart", (_what, secret, valid) => {
    expect(isSecretAccessKey(secret)).toBe(valid);
  });

  it("accept exactly the symbols of the id alphabet after the prefix", () => {
    for (const symbol of BASE32_ALPHABET) expect(isAccessKeyId(`KGAK${symbol.repeat(16)}`)).toBe(true);
  });
});

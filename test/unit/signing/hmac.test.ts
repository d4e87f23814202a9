import { createHmac, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { HmacSha256Key, hmacSha256 } from "../../../src/signing/digest.js";
import { SecretKeyCache } from "../../../src/signing/signing-key-cache.js";

const hex = (value: string) => Buffer.from(value, "hex");
const reference = (key: Buffer, data: string) => createHmac("sha256", key).update(data, "utf8").digest();

// RFC 4231, HMAC-SHA-256, the cases with text messages (3 and 4 sign binary data, 5 truncates).
const RFC_4231: Array<[string, Buffer, string, string]> = [
  ["1: a 20-byte key", hex("0b".repeat(20)), "Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"],
  ["2: a key shorter than the output", Buffer.from("Jefe"), "what do ya want for nothing?", "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"],
  ["6: a 131-byte key, hashed first", hex("aa".repeat(131)), "Test Using Larger Than Block-Size Key - Hash Key First", "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"],
  [
    "7: a 131-byte key and a message longer than the block",
    hex("aa".repeat(131)),
    "This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.",
    "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2",
  ],
];

describe("HMAC-SHA256 from precomputed key blocks", () => {
  it.each(RFC_4231)("gives RFC 4231 test case %s", (_name, key, data, expected) => {
    expect(new HmacSha256Key(key).sign(data).toString("hex")).toBe(expected);
    expect(hmacSha256(new HmacSha256Key(key), data).toString("hex")).toBe(expected);
  });

  it("gives what createHmac gives, for every key length around the block size and message lengths around it", () => {
    for (const keyLength of [0, 1, 20, 32, 40, 63, 64, 65, 128, 200]) {
      const key = randomBytes(keyLength);
      const signer = new HmacSha256Key(key);
      for (const dataLength of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128, 300, 1000]) {
        const data = randomBytes(dataLength).toString("base64").slice(0, dataLength);
        expect(signer.sign(data).equals(reference(key, data))).toBe(true);
      }
    }
  });

  it("hashes text as UTF-8, as Hmac#update does, lone surrogates included", () => {
    const key = randomBytes(32);
    for (const data of ["é", "日本語", "😀 emoji", "\ud800 lone", "tail \udfff", "a\u0000b"]) {
      expect(new HmacSha256Key(key).sign(data).equals(reference(key, data))).toBe(true);
    }
  });

  it("signs a message too long for its scratch buffer with createHmac, the same way", () => {
    const key = randomBytes(32);
    const data = "x".repeat(100_000);
    expect(new HmacSha256Key(key).sign(data).equals(reference(key, data))).toBe(true);
  });

  it("answers a buffer of its own each time: one signature does not change another", () => {
    const signer = new HmacSha256Key(randomBytes(32));
    const first = signer.sign("first");
    const copy = Buffer.from(first);
    signer.sign("second");
    new HmacSha256Key(randomBytes(32)).sign("third");
    expect(first.equals(copy)).toBe(true);
  });
});

describe("the secret key cache (ACS3, Huawei)", () => {
  it("keeps one key per secret, within its bound, dropping the oldest first", () => {
    const cache = new SecretKeyCache(2);
    const first = cache.get("secret-a");
    expect(cache.get("secret-a")).toBe(first);
    expect(first.key.toString()).toBe("secret-a");
    cache.get("secret-b");
    cache.get("secret-c");
    expect(cache.size).toBe(2);
    expect(cache.get("secret-a")).not.toBe(first);
  });
});

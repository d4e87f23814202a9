import { createHmac, hash, timingSafeEqual } from "node:crypto";

// One-shot hashing (no Hash object per call) is the cheapest SHA-256 Node offers for inputs of a
// request's size; strings are hashed as UTF-8, as Hash#update does.
export function sha256Hex(data: string | Buffer): string {
  return hash("sha256", data, "hex");
}

export function hmacSha256(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

export const EMPTY_SHA256 = sha256Hex("");

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}

// Decoding target for the signature a client sent, allocated once: verification is synchronous,
// so no two comparisons can share it at the same time.
const given = Buffer.alloc(32);

/**
 * Constant-time comparison of a computed HMAC with the hex signature a client sent. Anything
 * that is not 64 hex digits is simply "no match": checking the shape first keeps
 * `timingSafeEqual` on equal-length buffers, where it cannot throw.
 */
export function signatureMatches(expected: Buffer, givenHex: string): boolean {
  if (!isSha256Hex(givenHex) || expected.length !== given.length) return false;
  // 64 hex digits always decode to exactly 32 bytes, so every byte of `given` is overwritten.
  given.write(givenHex, "hex");
  return timingSafeEqual(given, expected);
}

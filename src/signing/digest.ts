import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

export function hmacSha256(key: string | Buffer, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

export const EMPTY_SHA256 = sha256Hex("");

const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

export function isSha256Hex(value: string): boolean {
  return SHA256_HEX.test(value);
}

/**
 * Constant-time comparison of a computed HMAC with the hex signature a client sent. Anything
 * that is not 64 hex digits is simply "no match": checking the shape first keeps
 * `timingSafeEqual` on equal-length buffers, where it cannot throw.
 */
export function signatureMatches(expected: Buffer, givenHex: string): boolean {
  if (!isSha256Hex(givenHex)) return false;
  const given = Buffer.from(givenHex, "hex");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

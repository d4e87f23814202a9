import { createHmac, hash, timingSafeEqual } from "node:crypto";

// One-shot hashing (no Hash object per call) is the cheapest SHA-256 Node offers for inputs of a
// request's size; strings are hashed as UTF-8, as Hash#update does.
export function sha256Hex(data: string | Buffer): string {
  return hash("sha256", data, "hex");
}

const BLOCK_BYTES = 64;
const DIGEST_BYTES = 32;
// Room for the key block and a string to sign of any request within the signing core's limits;
// a longer message takes createHmac instead. UTF-8 needs at most 3 bytes per UTF-16 code unit.
const SCRATCH_BYTES = 64 * 1024;
const inner = Buffer.alloc(SCRATCH_BYTES);
const outer = Buffer.alloc(BLOCK_BYTES + DIGEST_BYTES);

/**
 * An HMAC-SHA256 key with its two padded blocks (RFC 2104: K xor ipad, K xor opad) worked out
 * once, so that each message costs two one-shot SHA-256 and no Hmac object:
 * HMAC(K, m) = H((K ^ opad) || H((K ^ ipad) || m)). Node's Hmac cannot be copied once keyed;
 * this is the same computation, checked against createHmac and the RFC 4231 vectors in tests.
 * Messages are hashed in scratch buffers shared by every key: signing is synchronous, so no two
 * messages are ever in them at once.
 */
export class HmacSha256Key {
  private readonly innerPad = Buffer.alloc(BLOCK_BYTES, 0x36);
  private readonly outerPad = Buffer.alloc(BLOCK_BYTES, 0x5c);

  constructor(readonly key: Buffer) {
    // A key longer than the block is replaced by its digest; a shorter one is padded with zeros.
    const block = key.length > BLOCK_BYTES ? hash("sha256", key, "buffer") : key;
    for (let i = 0; i < block.length; i++) {
      this.innerPad[i] = 0x36 ^ (block[i] as number);
      this.outerPad[i] = 0x5c ^ (block[i] as number);
    }
  }

  sign(data: string): Buffer {
    if (data.length * 3 > SCRATCH_BYTES - BLOCK_BYTES) return createHmac("sha256", this.key).update(data, "utf8").digest();
    inner.set(this.innerPad, 0);
    const length = inner.write(data, BLOCK_BYTES, "utf8");
    const innerDigest = hash("sha256", inner.subarray(0, BLOCK_BYTES + length), "buffer");
    outer.set(this.outerPad, 0);
    outer.set(innerDigest, BLOCK_BYTES);
    return hash("sha256", outer, "buffer");
  }
}

export function hmacSha256(key: string | Buffer | HmacSha256Key, data: string): Buffer {
  if (key instanceof HmacSha256Key) return key.sign(data);
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

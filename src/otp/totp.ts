import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { BASE32_ALPHABET } from "../credentials/format.js";
import { encodeBits } from "../credentials/encode.js";

// RFC 6238 as authenticator apps implement it: HMAC-SHA1, 30 s steps, 6 digits.
export const STEP_SECONDS = 30;
export const DIGITS = 6;
// 160 bits, the HMAC-SHA1 output size RFC 4226 recommends for the shared secret.
export const SEED_BYTES = 20;

export function generateSeed(random: (size: number) => Uint8Array = randomBytes): Buffer {
  return Buffer.from(random(SEED_BYTES));
}

/** The seed as apps take it: RFC 4648 base32 without padding (20 bytes → 32 characters). */
export function seedToBase32(seed: Buffer): string {
  return encodeBits(seed, BASE32_ALPHABET);
}

export function stepAt(unixMs: number): number {
  return Math.floor(unixMs / 1000 / STEP_SECONDS);
}

/** HOTP (RFC 4226 §5.3) of one counter value, with dynamic truncation. */
export function hotp(seed: Buffer, counter: number, digits = DIGITS): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac("sha1", seed).update(message).digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

export function totp(seed: Buffer, unixMs: number, digits = DIGITS): string {
  return hotp(seed, stepAt(unixMs), digits);
}

function sameCode(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * The time step a code belongs to, searching the current step and `window` steps either side
 * (clock drift between phone and cluster), or undefined. Every candidate is compared, so the
 * time taken does not tell which step matched.
 */
export function matchStep(seed: Buffer, code: string, unixMs: number, window = 1): number | undefined {
  if (!/^\d{6}$/.test(code)) return undefined;
  const now = stepAt(unixMs);
  let matched: number | undefined;
  for (let step = now - window; step <= now + window; step++) {
    if (sameCode(hotp(seed, step), code) && matched === undefined) matched = step;
  }
  return matched;
}

export interface OtpauthLabel {
  issuer: string;
  namespace: string;
  user: string;
}

/** The Key URI Format authenticator apps scan: otpauth://totp/<label>?secret=…&issuer=… */
export function otpauthUri(label: OtpauthLabel, seed: Buffer): string {
  const name = `${encodeURIComponent(label.namespace)}:${encodeURIComponent(label.user)}`;
  const query = new URLSearchParams({
    secret: seedToBase32(seed),
    issuer: label.issuer,
    algorithm: "SHA1",
    digits: String(DIGITS),
    period: String(STEP_SECONDS),
  });
  return `otpauth://totp/${name}?${query.toString()}`;
}

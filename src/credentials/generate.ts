import { randomBytes } from "node:crypto";
import { encodeBits } from "./encode.js";
import {
  type AccessKeyKind,
  BASE32_ALPHABET,
  LONG_TERM_PREFIX,
  SECRET_ALPHABET,
  TEMPORARY_PREFIX,
} from "./format.js";

// Injected only by tests; production always draws from the operating system's CSPRNG.
export type RandomSource = (size: number) => Uint8Array;

// 16 base32 characters × 5 bits = 80 random bits = 10 bytes, all used.
const ID_RANDOM_BYTES = 10;

// 40 base64url characters × 6 bits = 240 random bits = 30 bytes, all used: each character is
// built from 6 fresh bits of the CSPRNG output, so the secret carries exactly 240 bits of entropy.
const SECRET_RANDOM_BYTES = 30;

export function generateAccessKeyId(kind: AccessKeyKind, random: RandomSource = randomBytes): string {
  const prefix = kind === "long-term" ? LONG_TERM_PREFIX : TEMPORARY_PREFIX;
  return prefix + encodeBits(random(ID_RANDOM_BYTES), BASE32_ALPHABET);
}

export function generateSecretAccessKey(random: RandomSource = randomBytes): string {
  return encodeBits(random(SECRET_RANDOM_BYTES), SECRET_ALPHABET);
}

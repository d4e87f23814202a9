// The public shapes of keygate credentials. Pure, so that schemas and validators can use them
// without pulling in a random source.

// RFC 4648 base32: upper-case letters and the digits 2-7, with no 0 or 1 to mistake for O or I
// when an id is read aloud or copied from a screen; the clouds' own ids (AKIA…) look the same.
export const BASE32_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

// base64url: 64 symbols, so each character carries exactly 6 bits, and none needs quoting or
// escaping in URLs, env files, INI or CSV files.
export const SECRET_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// The prefix tells, from the id alone, whether a key is long-term or a session's, as AKIA and
// ASIA do; "KG" names the issuer so that secret scanners can attribute a leaked id.
export const LONG_TERM_PREFIX = "KGAK";
export const TEMPORARY_PREFIX = "KGAS";

export const ACCESS_KEY_ID_LENGTH = 20;
export const ACCESS_KEY_ID_RANDOM_LENGTH = ACCESS_KEY_ID_LENGTH - LONG_TERM_PREFIX.length;
export const SECRET_ACCESS_KEY_LENGTH = 40;

export const LONG_TERM_ACCESS_KEY_ID = new RegExp(`^${LONG_TERM_PREFIX}[A-Z2-7]{${ACCESS_KEY_ID_RANDOM_LENGTH}}$`);
export const TEMPORARY_ACCESS_KEY_ID = new RegExp(`^${TEMPORARY_PREFIX}[A-Z2-7]{${ACCESS_KEY_ID_RANDOM_LENGTH}}$`);
export const SECRET_ACCESS_KEY = new RegExp(`^[A-Za-z0-9_-]{${SECRET_ACCESS_KEY_LENGTH}}$`);

export type AccessKeyKind = "long-term" | "temporary";

export function accessKeyKind(id: string): AccessKeyKind | undefined {
  if (LONG_TERM_ACCESS_KEY_ID.test(id)) return "long-term";
  if (TEMPORARY_ACCESS_KEY_ID.test(id)) return "temporary";
  return undefined;
}

export function isAccessKeyId(id: string): boolean {
  return accessKeyKind(id) !== undefined;
}

export function isSecretAccessKey(secret: string): boolean {
  return SECRET_ACCESS_KEY.test(secret);
}

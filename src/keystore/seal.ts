import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";

// AES-256-GCM envelope for keystore records, under a versioned key-encryption key (KEK).
//
// Sealed form: `kgs1.<kek version>.<iv>.<ciphertext>.<tag>`, the binary parts in unpadded
// base64url: a plain string, so it fits a Secret or ConfigMap value as is.
//
// The data GCM authenticates besides the ciphertext is the format tag, the KEK version and the
// caller's AAD (the record's identity, e.g. `namespace/accessKeyId`). A blob therefore opens only
// as the record it was sealed for, and only under the version written in its header.

export interface Kek {
  // Positive integer; higher is newer. Stored in every sealed blob so the KEK can be rotated.
  readonly version: number;
  readonly key: Buffer;
}

// Every KEK still able to open old records, by version.
export type KekRing = ReadonlyMap<number, Buffer>;

export type SealErrorCode =
  | "KG_ERR_SEAL_INVALID_KEK"
  | "KG_ERR_SEAL_MALFORMED"
  | "KG_ERR_SEAL_UNKNOWN_KEK_VERSION"
  | "KG_ERR_SEAL_AUTHENTICATION_FAILED";

// Messages never include plaintext, keys or the sealed blob.
export class SealError extends Error {
  constructor(
    readonly code: SealErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "SealError";
  }
}

const FORMAT = "kgs1";
const KEY_BYTES = 32;
// 96 bits is the IV length GCM is specified for; random IVs keep the collision risk negligible
// below 2^32 seals per KEK, far beyond one record per credential.
const IV_BYTES = 12;
const TAG_BYTES = 16;
const VERSION_TEXT = /^[1-9][0-9]{0,9}$/;

function checkKek({ version, key }: Kek): void {
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new SealError("KG_ERR_SEAL_INVALID_KEK", "KEK version must be a positive integer");
  }
  if (key.length !== KEY_BYTES) {
    throw new SealError("KG_ERR_SEAL_INVALID_KEK", `KEK must be ${KEY_BYTES} bytes`);
  }
}

function associatedData(version: number, aad: string): Buffer {
  // The version has no "." in it, so the concatenation is unambiguous whatever the AAD holds.
  return Buffer.from(`${FORMAT}.${version}.${aad}`, "utf8");
}

export function seal(plaintext: Buffer, kek: Kek, aad: string): string {
  checkKek(kek);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv("aes-256-gcm", kek.key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(associatedData(kek.version, aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  const parts = [iv, ciphertext, cipher.getAuthTag()].map((part) => part.toString("base64url"));
  return [FORMAT, String(kek.version), ...parts].join(".");
}

// Node's base64url decoder skips characters it does not know; re-encoding proves the text was
// canonical, so a sealed string has exactly one spelling.
function decodePart(text: string, expectedBytes?: number): Buffer {
  const bytes = Buffer.from(text, "base64url");
  const canonical = bytes.toString("base64url") === text;
  if (!canonical || (expectedBytes !== undefined && bytes.length !== expectedBytes)) {
    throw new SealError("KG_ERR_SEAL_MALFORMED", "sealed record is malformed");
  }
  return bytes;
}

interface Envelope {
  readonly version: number;
  readonly iv: Buffer;
  readonly ciphertext: Buffer;
  readonly tag: Buffer;
}

function parseEnvelope(sealed: string): Envelope {
  const [format, version = "", iv = "", ciphertext = "", tag = "", ...extra] = sealed.split(".");
  if (format !== FORMAT || !VERSION_TEXT.test(version) || extra.length > 0) {
    throw new SealError("KG_ERR_SEAL_MALFORMED", "sealed record is malformed");
  }
  return {
    version: Number(version),
    iv: decodePart(iv, IV_BYTES),
    ciphertext: decodePart(ciphertext),
    tag: decodePart(tag, TAG_BYTES),
  };
}

// Wrong KEK, altered bytes and wrong AAD are indistinguishable by design of GCM, and are
// reported as one error.
export function open(sealed: string, ring: KekRing, aad: string): Buffer {
  const envelope = parseEnvelope(sealed);
  const key = ring.get(envelope.version);
  if (key === undefined) {
    throw new SealError("KG_ERR_SEAL_UNKNOWN_KEK_VERSION", `no KEK with version ${envelope.version}`);
  }
  checkKek({ version: envelope.version, key });
  const decipher = createDecipheriv("aes-256-gcm", key, envelope.iv, { authTagLength: TAG_BYTES });
  decipher.setAAD(associatedData(envelope.version, aad));
  decipher.setAuthTag(envelope.tag);
  const plaintext = decipher.update(envelope.ciphertext);
  try {
    return Buffer.concat([plaintext, decipher.final()]);
  } catch {
    // The unauthenticated output is wiped, not merely dropped, so it cannot leak later.
    plaintext.fill(0);
    throw new SealError("KG_ERR_SEAL_AUTHENTICATION_FAILED", "sealed record failed authentication");
  }
}

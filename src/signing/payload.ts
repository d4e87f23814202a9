import { EMPTY_SHA256, isSha256Hex, sha256Hex } from "./digest.js";
import { deny, type Denial, type DenialCode } from "./errors.js";

export const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

export interface PayloadHash {
  readonly hash: string;
  readonly verified: boolean;
}

export interface DeclaredPayload {
  /** The content-hash header (or presigned parameter) the request carries, if any. */
  readonly declared: string | undefined;
  readonly body: Buffer | undefined;
  /** What stands for the payload when nothing is declared (S3 presigned URLs: UNSIGNED-PAYLOAD). */
  readonly whenAbsent: "body" | "unsigned";
  readonly mismatchCode: DenialCode;
}

/**
 * The payload line of the canonical request for schemes that sign the *declared* hash (SigV4,
 * Huawei). A declared digest is checked against the body whenever the body is available, since
 * the signature alone only covers the declaration.
 */
export function declaredPayloadHash(input: DeclaredPayload): PayloadHash | Denial {
  const { declared, body } = input;
  if (declared === undefined) return undeclared(input);
  if (declared.startsWith("STREAMING-")) {
    return deny("NotImplemented", "streaming (chunk-signed) payloads are not supported; sign the whole payload or use UNSIGNED-PAYLOAD");
  }
  if (declared === UNSIGNED_PAYLOAD) return { hash: declared, verified: false };
  if (!isSha256Hex(declared)) return deny("InvalidArgument", "the content hash header must be UNSIGNED-PAYLOAD or a hex SHA-256 digest");
  if (body === undefined) return { hash: declared, verified: false };
  if (sha256Hex(body) !== declared.toLowerCase()) return deny(input.mismatchCode, "the body does not match its declared SHA-256");
  return { hash: declared, verified: true };
}

function undeclared({ body, whenAbsent }: DeclaredPayload): PayloadHash {
  if (whenAbsent === "unsigned") return { hash: UNSIGNED_PAYLOAD, verified: false };
  return body === undefined ? { hash: EMPTY_SHA256, verified: false } : { hash: sha256Hex(body), verified: true };
}

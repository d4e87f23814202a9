import type { QueryPair } from "./canonical.js";
import type { HmacSha256Key } from "./digest.js";
import type { Denial } from "./errors.js";
import type { HeaderIndex, HttpRequestDescription } from "./request.js";

export type Scheme = "AWS4-HMAC-SHA256" | "ACS3-HMAC-SHA256" | "SDK-HMAC-SHA256";

/** A request after its shape was checked, with headers indexed and the query parsed once. */
export interface RequestView {
  readonly req: HttpRequestDescription;
  readonly headers: HeaderIndex;
  readonly query: readonly QueryPair[];
}

export interface StringToSign {
  readonly value: string;
  /** True only when the body itself was hashed and matched what was signed. */
  readonly payloadVerified: boolean;
  /** The client signed UNSIGNED-PAYLOAD: the body is not covered at all. */
  readonly unsignedPayload: boolean;
}

/**
 * What a request claims about its signature, in a scheme-neutral form: verify.ts runs the
 * checks shared by every scheme on it, and only the two functions below differ per scheme.
 */
export interface SignatureClaim {
  readonly scheme: Scheme;
  readonly accessKeyId: string;
  readonly signature: string;
  readonly signedHeaders: readonly string[];
  /** Headers this scheme requires to be under the signature. */
  readonly mustSign: readonly string[];
  readonly requestTimeMs: number;
  /** Presigned requests only: the end of their validity. */
  readonly expiresAtMs?: number;
  readonly securityToken?: string;
  readonly nonce?: string;
  readonly scope?: { readonly region: string; readonly service: string };
  readonly presigned: boolean;
  /** Canonical request → string to sign; may deny (payload problems). */
  stringToSign(): StringToSign | Denial;
  signingKey(secret: string): HmacSha256Key;
}

import { parseKeyedAuthParams } from "./auth-header.js";
import { canonicalHeaders, canonicalQuery, pathAsSent } from "./canonical.js";
import type { RequestView, SignatureClaim, StringToSign } from "./claim.js";
import { EMPTY_SHA256, type HmacSha256Key, isSha256Hex, sha256Hex } from "./digest.js";
import { deny, isDenial, type Denial } from "./errors.js";
import { headerValue } from "./request.js";
import { parseIsoUtc } from "./time.js";
import { secretKeys } from "./signing-key-cache.js";

export const ACS3 = "ACS3-HMAC-SHA256";

// SDK nonces are 32 hex digits or a UUID; the bound keeps the replay cache's memory bounded too.
const NONCE = /^[\x21-\x7e]{1,128}$/;
const PARAMS = ["Credential", "SignedHeaders", "Signature"];
const MUST_SIGN: readonly string[] = ["host", "x-acs-date", "x-acs-signature-nonce"];

interface Acs3Fields {
  readonly accessKeyId: string;
  readonly signature: string;
  readonly signedHeaders: readonly string[];
  readonly requestTimeMs: number;
  readonly securityToken: string | undefined;
  readonly nonce: string;
}

/** A class rather than an object of closures: nothing is allocated per request beyond the instance. */
class Acs3Claim implements SignatureClaim {
  readonly scheme = ACS3;
  readonly mustSign = MUST_SIGN;
  readonly presigned = false;
  readonly accessKeyId: string;
  readonly signature: string;
  readonly signedHeaders: readonly string[];
  readonly requestTimeMs: number;
  readonly securityToken: string | undefined;
  readonly nonce: string;

  constructor(
    private readonly view: RequestView,
    fields: Acs3Fields,
  ) {
    this.accessKeyId = fields.accessKeyId;
    this.signature = fields.signature;
    this.signedHeaders = fields.signedHeaders;
    this.requestTimeMs = fields.requestTimeMs;
    this.securityToken = fields.securityToken;
    this.nonce = fields.nonce;
  }

  stringToSign(): StringToSign {
    return acs3StringToSign(this.view, this.signedHeaders);
  }

  // No key derivation: the secret itself is the HMAC key.
  signingKey(secret: string): HmacSha256Key {
    return secretKeys.get(secret);
  }
}

/** `ACS3-HMAC-SHA256 Credential=AK,SignedHeaders=a;b,Signature=hex`. */
export function parseAcs3Header(view: RequestView, rest: string): SignatureClaim | Denial {
  const auth = parseKeyedAuthParams(rest, PARAMS, "Credential");
  if (isDenial(auth)) return auth;
  // The string to sign holds no date, so the date and the nonce headers are what bound a replay.
  const requestTimeMs = parseIsoUtc(headerValue(view.headers, "x-acs-date") ?? "");
  if (requestTimeMs === undefined) return deny("AuthorizationHeaderMalformed", "x-acs-date is missing or not yyyy-MM-ddTHH:mm:ssZ");
  const nonce = headerValue(view.headers, "x-acs-signature-nonce") ?? "";
  if (!NONCE.test(nonce)) return deny("AuthorizationHeaderMalformed", "x-acs-signature-nonce is missing or longer than 128 characters");
  return new Acs3Claim(view, {
    ...auth,
    requestTimeMs,
    securityToken: headerValue(view.headers, "x-acs-security-token"),
    nonce,
  });
}

/**
 * The canonical request's payload line is the hash of the body itself when we have it: the
 * signed x-acs-content-sha256 header then has to agree with it for the signature to match.
 * Without the body (forward-auth), the signed declaration is all there is.
 */
function acs3PayloadHash(view: RequestView): { hash: string; verified: boolean } {
  const { body } = view.req;
  if (body !== undefined) return { hash: sha256Hex(body), verified: true };
  const declared = headerValue(view.headers, "x-acs-content-sha256");
  return { hash: declared !== undefined && isSha256Hex(declared) ? declared : EMPTY_SHA256, verified: false };
}

function acs3StringToSign(view: RequestView, signedHeaders: readonly string[]): StringToSign {
  const payload = acs3PayloadHash(view);
  const canonicalRequest =
    `${view.req.method}\n${pathAsSent(view.req.rawPath)}\n${canonicalQuery(view.query)}\n` +
    `${canonicalHeaders(view.headers, signedHeaders, false)}\n${signedHeaders.join(";")}\n${payload.hash}`;
  // ACS3 has no unsigned form: the payload line is always a hash.
  return { value: `${ACS3}\n${sha256Hex(canonicalRequest)}`, payloadVerified: payload.verified, unsignedPayload: false };
}

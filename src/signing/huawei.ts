import { parseKeyedAuthParams } from "./auth-header.js";
import { canonicalHeaders, canonicalQueryDecodedOrder, uriEncode } from "./canonical.js";
import type { RequestView, SignatureClaim, StringToSign } from "./claim.js";
import { type HmacSha256Key, sha256Hex } from "./digest.js";
import { deny, isDenial, type Denial } from "./errors.js";
import { declaredPayloadHash, UNSIGNED_PAYLOAD } from "./payload.js";
import { headerValue } from "./request.js";
import { parseCompactUtc } from "./time.js";
import { secretKeys } from "./signing-key-cache.js";

export const HUAWEI_SDK = "SDK-HMAC-SHA256";

const PARAMS = ["Access", "SignedHeaders", "Signature"];
const MUST_SIGN: readonly string[] = ["host", "x-sdk-date"];

interface HuaweiFields {
  readonly accessKeyId: string;
  readonly signature: string;
  readonly signedHeaders: readonly string[];
  readonly sdkDate: string;
  readonly requestTimeMs: number;
  readonly securityToken: string | undefined;
}

/** A class rather than an object of closures: nothing is allocated per request beyond the instance. */
class HuaweiClaim implements SignatureClaim {
  readonly scheme = HUAWEI_SDK;
  readonly mustSign = MUST_SIGN;
  readonly presigned = false;
  readonly accessKeyId: string;
  readonly signature: string;
  readonly signedHeaders: readonly string[];
  readonly requestTimeMs: number;
  readonly securityToken: string | undefined;
  private readonly sdkDate: string;

  constructor(
    private readonly view: RequestView,
    fields: HuaweiFields,
  ) {
    this.accessKeyId = fields.accessKeyId;
    this.signature = fields.signature;
    this.signedHeaders = fields.signedHeaders;
    this.requestTimeMs = fields.requestTimeMs;
    this.securityToken = fields.securityToken;
    this.sdkDate = fields.sdkDate;
  }

  stringToSign(): StringToSign | Denial {
    return huaweiStringToSign(this.view, this.signedHeaders, this.sdkDate);
  }

  // No key derivation: the secret itself is the HMAC key.
  signingKey(secret: string): HmacSha256Key {
    return secretKeys.get(secret);
  }
}

/** `SDK-HMAC-SHA256 Access=AK, SignedHeaders=a;b, Signature=hex`. */
export function parseHuaweiHeader(view: RequestView, rest: string): SignatureClaim | Denial {
  const auth = parseKeyedAuthParams(rest, PARAMS, "Access");
  if (isDenial(auth)) return auth;
  const sdkDate = headerValue(view.headers, "x-sdk-date") ?? "";
  const requestTimeMs = parseCompactUtc(sdkDate);
  if (requestTimeMs === undefined) return deny("AuthorizationHeaderMalformed", "X-Sdk-Date is missing or not YYYYMMDDTHHMMSSZ");
  return new HuaweiClaim(view, {
    ...auth,
    sdkDate,
    requestTimeMs,
    securityToken: headerValue(view.headers, "x-security-token"),
  });
}

/** Every segment encoded once more (the SDK encodes the already-encoded path) and always a trailing `/`. */
export function huaweiCanonicalUri(rawPath: string): string {
  // Encoding the whole path with its slashes kept is encoding each segment: the UTF-8 bytes of a
  // segment never include a slash.
  const encoded = uriEncode(rawPath, true);
  return encoded.endsWith("/") ? encoded : `${encoded}/`;
}

function huaweiStringToSign(view: RequestView, signedHeaders: readonly string[], sdkDate: string): StringToSign | Denial {
  const payload = declaredPayloadHash({
    declared: headerValue(view.headers, "x-sdk-content-sha256"),
    body: view.req.body,
    whenAbsent: "body",
    mismatchCode: "SignatureDoesNotMatch",
  });
  if (isDenial(payload)) return payload;
  const query = canonicalQueryDecodedOrder(view.query);
  if (query === undefined) return deny("InvalidArgument", "the query string has percent-escapes that do not decode as UTF-8");
  const canonicalRequest =
    `${view.req.method}\n${huaweiCanonicalUri(view.req.rawPath)}\n${query}\n` +
    `${canonicalHeaders(view.headers, signedHeaders, false)}\n${signedHeaders.join(";")}\n${payload.hash}`;
  return { value: `${HUAWEI_SDK}\n${sdkDate}\n${sha256Hex(canonicalRequest)}`, payloadVerified: payload.verified, unsignedPayload: payload.hash === UNSIGNED_PAYLOAD };
}

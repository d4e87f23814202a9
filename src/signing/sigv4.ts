import { authParam, parseAuthParams, parseSignedHeaderList } from "./auth-header.js";
import { canonicalHeaders, canonicalQuery, decodeComponent, pathAsSent, removeDotSegments, uriEncode, type QueryPair } from "./canonical.js";
import type { RequestView, SignatureClaim, StringToSign } from "./claim.js";
import { type HmacSha256Key, sha256Hex } from "./digest.js";
import { deny, isDenial, type Denial, type DenialCode } from "./errors.js";
import { declaredPayloadHash, UNSIGNED_PAYLOAD } from "./payload.js";
import { headerValue } from "./request.js";
import { SigningKeyCache, type SigV4Scope } from "./signing-key-cache.js";
import { parseCompactUtc } from "./time.js";

export const SIGV4 = "AWS4-HMAC-SHA256";
const TERMINATOR = "aws4_request";
const MAX_PRESIGN_SECONDS = 604_800;

const keyCache = new SigningKeyCache();

interface Credential extends SigV4Scope {
  readonly accessKeyId: string;
}

/** Everything the canonical request needs once the auth fields were validated. */
interface SigV4Auth {
  readonly credential: Credential;
  readonly signedHeaders: readonly string[];
  /** The same names joined with `;`, as the canonical request lists them. */
  readonly signedHeaderList: string;
  readonly amzDate: string;
  readonly presigned: boolean;
  readonly declaredPayload: string | undefined;
}

/** Raw auth fields, from the Authorization header or from the presigned query. */
interface SigV4Fields {
  readonly credential: string;
  readonly signedHeaders: string;
  readonly signature: string;
  readonly amzDate: string | undefined;
  readonly expires: string | undefined;
  readonly securityToken: string | undefined;
  readonly declaredPayload: string | undefined;
}

/** The two auth forms answer malformed input with different codes, as AWS does. */
interface Form {
  readonly presigned: boolean;
  readonly malformed: DenialCode;
}
const HEADER_FORM: Form = { presigned: false, malformed: "AuthorizationHeaderMalformed" };
const QUERY_FORM: Form = { presigned: true, malformed: "AuthorizationQueryParametersError" };

const SCOPE_END = `/${TERMINATOR}`;
const DATE_LENGTH = 8;

function isDate(value: string): boolean {
  if (value.length !== DATE_LENGTH) return false;
  for (let i = 0; i < DATE_LENGTH; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x30 || code > 0x39) return false;
  }
  return true;
}

// Region and service are the client's choice, and they key the signing-key cache and are written
// to status.lastUsed: bounded, and in the characters real ones use (us-gov-west-1,
// s3-object-lambda, execute-api), before either sees them.
const MAX_SCOPE_PART_LENGTH = 64;
const SCOPE_PART = /^[A-Za-z0-9._-]+$/;

function isScopePart(value: string): boolean {
  return value.length <= MAX_SCOPE_PART_LENGTH && SCOPE_PART.test(value);
}

/** `AK/yyyymmdd/region/service/aws4_request`: exactly five non-empty parts, a bounded scope. */
function parseCredential(value: string): Credential | undefined {
  if (!value.endsWith(SCOPE_END)) return undefined;
  const end = value.length - SCOPE_END.length;
  const first = value.indexOf("/");
  const second = value.indexOf("/", first + 1);
  const third = value.indexOf("/", second + 1);
  // Three slashes before the terminator's, each part non-empty.
  if (!(first > 0 && second > first + 1 && third > second + 1 && end > third + 1)) return undefined;
  if (value.indexOf("/", third + 1) !== end) return undefined;
  const date = value.slice(first + 1, second);
  const region = value.slice(second + 1, third);
  const service = value.slice(third + 1, end);
  if (!isDate(date) || !isScopePart(region) || !isScopePart(service)) return undefined;
  return { accessKeyId: value.slice(0, first), date, region, service };
}

function credentialScope(credential: SigV4Scope): string {
  return `${credential.date}/${credential.region}/${credential.service}/${TERMINATOR}`;
}

const HEADER_PARAMS = ["Credential", "SignedHeaders", "Signature"];

/** `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` (with or without spaces). */
export function parseSigV4Header(view: RequestView, rest: string): SignatureClaim | Denial {
  const parsed = parseAuthParams(rest, HEADER_PARAMS);
  if (!parsed.ok) {
    return deny(parsed.incomplete ? "IncompleteSignature" : "AuthorizationHeaderMalformed", `Authorization header: ${parsed.reason}`);
  }
  const { params } = parsed;
  const fields: SigV4Fields = {
    credential: authParam(params, "Credential"),
    signedHeaders: authParam(params, "SignedHeaders"),
    signature: authParam(params, "Signature"),
    amzDate: headerValue(view.headers, "x-amz-date"),
    expires: undefined,
    securityToken: headerValue(view.headers, "x-amz-security-token"),
    declaredPayload: headerValue(view.headers, "x-amz-content-sha256"),
  };
  return buildClaim(view, fields, HEADER_FORM);
}

const PRESIGN_REQUIRED = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature"];
const PRESIGN_SINGLE = [...PRESIGN_REQUIRED, "X-Amz-Security-Token", "X-Amz-Content-Sha256"];
// A session token in the query belongs to a presigned request; with an Authorization header it
// would be a second, unchecked credential, so it also counts as presigning (and then as mixed).
const PRESIGN_MARKERS = new Set(["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"]);

/** Any presigning parameter makes the request a presigned one, and then all of them are required. */
export function hasPresignParameters(query: readonly QueryPair[]): boolean {
  for (const [key] of query) if (PRESIGN_MARKERS.has(key)) return true;
  return false;
}

export function parseSigV4Query(view: RequestView): SignatureClaim | Denial {
  const params = presignParameters(view.query);
  if (isDenial(params)) return params;
  if (params.get("X-Amz-Algorithm") !== SIGV4) return deny("AuthorizationQueryParametersError", `X-Amz-Algorithm must be ${SIGV4}`);
  const headerToken = headerValue(view.headers, "x-amz-security-token");
  const queryToken = params.get("X-Amz-Security-Token");
  if (headerToken !== undefined && queryToken !== undefined) {
    return deny("AuthorizationQueryParametersError", "a session token is in both the query and the headers");
  }
  const fields: SigV4Fields = {
    credential: authParam(params, "X-Amz-Credential"),
    signedHeaders: authParam(params, "X-Amz-SignedHeaders"),
    signature: authParam(params, "X-Amz-Signature"),
    amzDate: authParam(params, "X-Amz-Date"),
    expires: authParam(params, "X-Amz-Expires"),
    securityToken: queryToken ?? headerToken,
    declaredPayload: headerValue(view.headers, "x-amz-content-sha256") ?? params.get("X-Amz-Content-Sha256"),
  };
  return buildClaim(view, fields, QUERY_FORM);
}

function presignParameters(query: readonly QueryPair[]): Map<string, string> | Denial {
  const params = new Map<string, string>();
  for (const [key, value] of query) {
    if (!PRESIGN_SINGLE.includes(key)) continue;
    if (params.has(key)) return deny("AuthorizationQueryParametersError", `${key} appears more than once`);
    params.set(key, decodeComponent(value));
  }
  const missing = PRESIGN_REQUIRED.filter((key) => !params.has(key));
  if (missing.length > 0) return deny("AuthorizationQueryParametersError", `presigned request is missing ${missing.join(", ")}`);
  return params;
}

interface ValidatedSigV4 extends SigV4Auth {
  readonly requestTimeMs: number;
  readonly expiresAtMs: number | undefined;
}

const MUST_SIGN_PRESIGNED: readonly string[] = ["host"];
const MUST_SIGN_HEADER: readonly string[] = ["host", "x-amz-date"];

/** A class rather than an object of closures: nothing is allocated per request beyond the instance. */
class SigV4Claim implements SignatureClaim {
  readonly scheme = SIGV4;
  readonly accessKeyId: string;
  readonly signature: string;
  readonly signedHeaders: readonly string[];
  readonly mustSign: readonly string[];
  readonly requestTimeMs: number;
  readonly expiresAtMs: number | undefined;
  readonly securityToken: string | undefined;
  readonly scope: { readonly region: string; readonly service: string };
  readonly presigned: boolean;

  constructor(
    private readonly view: RequestView,
    private readonly auth: ValidatedSigV4,
    fields: SigV4Fields,
  ) {
    const { accessKeyId, region, service } = auth.credential;
    this.accessKeyId = accessKeyId;
    this.signature = fields.signature;
    this.signedHeaders = auth.signedHeaders;
    this.mustSign = auth.presigned ? MUST_SIGN_PRESIGNED : MUST_SIGN_HEADER;
    this.requestTimeMs = auth.requestTimeMs;
    this.expiresAtMs = auth.expiresAtMs;
    this.securityToken = fields.securityToken;
    this.scope = { region, service };
    this.presigned = auth.presigned;
  }

  stringToSign(): StringToSign | Denial {
    return sigV4StringToSign(this.view, this.auth);
  }

  signingKey(secret: string): HmacSha256Key {
    return keyCache.hmacKey(secret, this.auth.credential);
  }
}

function buildClaim(view: RequestView, fields: SigV4Fields, form: Form): SignatureClaim | Denial {
  const auth = validate(fields, form);
  return isDenial(auth) ? auth : new SigV4Claim(view, auth, fields);
}

function validate(fields: SigV4Fields, form: Form): ValidatedSigV4 | Denial {
  const credential = parseCredential(fields.credential);
  if (!credential) {
    return deny(form.malformed, `the credential must be <access key>/<yyyymmdd>/<region>/<service>/${TERMINATOR}, region and service of at most ${MAX_SCOPE_PART_LENGTH} letters, digits, '.', '_' or '-'`);
  }
  const signedHeaders = parseSignedHeaderList(fields.signedHeaders);
  if (!signedHeaders) return deny(form.malformed, "SignedHeaders must be lowercase header names separated by ;");
  const amzDate = fields.amzDate ?? "";
  const requestTimeMs = parseCompactUtc(amzDate);
  if (requestTimeMs === undefined) return deny(form.malformed, "X-Amz-Date is missing or not YYYYMMDDTHHMMSSZ");
  if (amzDate.slice(0, 8) !== credential.date) {
    return deny(form.malformed, "Invalid credential date. Date is not the same as X-Amz-Date.");
  }
  const expiresAtMs = presignExpiry(fields.expires, requestTimeMs);
  if (isDenial(expiresAtMs)) return expiresAtMs;
  // A valid list is the names joined with `;` already: the canonical request can use it as sent.
  const signedHeaderList = fields.signedHeaders;
  return { credential, signedHeaders, signedHeaderList, amzDate, presigned: form.presigned, declaredPayload: fields.declaredPayload, requestTimeMs, expiresAtMs };
}

function presignExpiry(expires: string | undefined, requestTimeMs: number): number | undefined | Denial {
  if (expires === undefined) return undefined;
  const seconds = /^\d{1,7}$/.test(expires) ? Number(expires) : 0;
  if (seconds < 1 || seconds > MAX_PRESIGN_SECONDS) {
    return deny("AuthorizationQueryParametersError", `X-Amz-Expires must be a whole number of seconds from 1 to ${MAX_PRESIGN_SECONDS}`);
  }
  return requestTimeMs + seconds * 1000;
}

/**
 * Non-S3 services sign the normalised path encoded once more (the SDKs sign the path they
 * already encoded, so `%20` on the wire is `%2520` here); S3 signs the path exactly as sent.
 */
export function sigV4CanonicalUri(rawPath: string, service: string): string {
  return service === "s3" ? pathAsSent(rawPath) : uriEncode(removeDotSegments(rawPath), true);
}

function sigV4StringToSign(view: RequestView, auth: SigV4Auth): StringToSign | Denial {
  const { service } = auth.credential;
  const payload = declaredPayloadHash({
    declared: auth.declaredPayload,
    body: view.req.body,
    // S3 presigned URLs cannot carry a body hash, so their SDKs sign UNSIGNED-PAYLOAD.
    whenAbsent: auth.presigned && service === "s3" ? "unsigned" : "body",
    mismatchCode: "XAmzContentSHA256Mismatch",
  });
  if (isDenial(payload)) return payload;
  const canonicalRequest =
    `${view.req.method}\n${sigV4CanonicalUri(view.req.rawPath, service)}\n` +
    `${canonicalQuery(view.query, auth.presigned ? "X-Amz-Signature" : undefined)}\n` +
    `${canonicalHeaders(view.headers, auth.signedHeaders, true)}\n${auth.signedHeaderList}\n${payload.hash}`;
  const value = `${SIGV4}\n${auth.amzDate}\n${credentialScope(auth.credential)}\n${sha256Hex(canonicalRequest)}`;
  return { value, payloadVerified: payload.verified, unsignedPayload: payload.hash === UNSIGNED_PAYLOAD };
}

import { parseAuthParams, parseSignedHeaderList } from "./auth-header.js";
import { canonicalHeaders, canonicalQuery, decodeComponent, pathAsSent, removeDotSegments, uriEncode, type QueryPair } from "./canonical.js";
import type { RequestView, SignatureClaim, StringToSign } from "./claim.js";
import { hmacSha256, sha256Hex } from "./digest.js";
import { deny, isDenial, type Denial, type DenialCode } from "./errors.js";
import { declaredPayloadHash } from "./payload.js";
import { headerValue, type HttpRequestDescription } from "./request.js";
import { SigningKeyCache, type SigV4Scope } from "./signing-key-cache.js";
import { formatCompactUtc, parseCompactUtc } from "./time.js";
import { signerView } from "./view.js";

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

function parseCredential(value: string): Credential | undefined {
  const parts = value.split("/");
  if (parts.length !== 5 || parts[4] !== TERMINATOR || parts.includes("")) return undefined;
  const [accessKeyId, date, region, service] = parts as [string, string, string, string];
  return /^\d{8}$/.test(date) ? { accessKeyId, date, region, service } : undefined;
}

function credentialScope(credential: SigV4Scope): string {
  return `${credential.date}/${credential.region}/${credential.service}/${TERMINATOR}`;
}

/** `AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…` (with or without spaces). */
export function parseSigV4Header(view: RequestView, rest: string): SignatureClaim | Denial {
  const parsed = parseAuthParams(rest, ["Credential", "SignedHeaders", "Signature"]);
  if (!parsed.ok) {
    return deny(parsed.incomplete ? "IncompleteSignature" : "AuthorizationHeaderMalformed", `Authorization header: ${parsed.reason}`);
  }
  const param = (key: string): string => parsed.params.get(key) ?? "";
  const fields: SigV4Fields = {
    credential: param("Credential"),
    signedHeaders: param("SignedHeaders"),
    signature: param("Signature"),
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
const PRESIGN_MARKERS = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token"];

/** Any presigning parameter makes the request a presigned one, and then all of them are required. */
export function hasPresignParameters(query: readonly QueryPair[]): boolean {
  return query.some(([key]) => PRESIGN_MARKERS.includes(key));
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
  const param = (key: string): string => params.get(key) ?? "";
  const fields: SigV4Fields = {
    credential: param("X-Amz-Credential"),
    signedHeaders: param("X-Amz-SignedHeaders"),
    signature: param("X-Amz-Signature"),
    amzDate: param("X-Amz-Date"),
    expires: param("X-Amz-Expires"),
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

function buildClaim(view: RequestView, fields: SigV4Fields, form: Form): SignatureClaim | Denial {
  const auth = validate(fields, form);
  if (isDenial(auth)) return auth;
  const { accessKeyId, region, service } = auth.credential;
  return {
    scheme: SIGV4,
    accessKeyId,
    signature: fields.signature,
    signedHeaders: auth.signedHeaders,
    mustSign: form.presigned ? ["host"] : ["host", "x-amz-date"],
    requestTimeMs: auth.requestTimeMs,
    expiresAtMs: auth.expiresAtMs,
    securityToken: fields.securityToken,
    scope: { region, service },
    presigned: form.presigned,
    stringToSign: () => sigV4StringToSign(view, auth),
    signingKey: (secret) => keyCache.get(secret, auth.credential),
  };
}

function validate(fields: SigV4Fields, form: Form): ValidatedSigV4 | Denial {
  const credential = parseCredential(fields.credential);
  if (!credential) return deny(form.malformed, `the credential must be <access key>/<yyyymmdd>/<region>/<service>/${TERMINATOR}`);
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
  return { credential, signedHeaders, amzDate, presigned: form.presigned, declaredPayload: fields.declaredPayload, requestTimeMs, expiresAtMs };
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
  const canonicalRequest = [
    view.req.method,
    sigV4CanonicalUri(view.req.rawPath, service),
    canonicalQuery(view.query, auth.presigned ? "X-Amz-Signature" : undefined),
    canonicalHeaders(view.headers, auth.signedHeaders, true),
    auth.signedHeaders.join(";"),
    payload.hash,
  ].join("\n");
  const value = [SIGV4, auth.amzDate, credentialScope(auth.credential), sha256Hex(canonicalRequest)].join("\n");
  return { value, payloadVerified: payload.verified };
}

export interface SigV4SigningInput {
  readonly accessKeyId: string;
  readonly secret: string;
  readonly region: string;
  readonly service: string;
  readonly sessionToken?: string;
  /** Presign for this many seconds instead of adding an Authorization header. */
  readonly presignExpires?: number;
}

/**
 * Signs a request the way the AWS SDKs do (every header present is signed). For tests only:
 * it shares the canonicaliser with the verifier, so the official vectors, not this function,
 * are the proof of interoperability.
 */
export function signSigV4(req: HttpRequestDescription, input: SigV4SigningInput, now: Date): HttpRequestDescription {
  return input.presignExpires === undefined ? signWithHeader(req, input, now) : presign(req, input, now, input.presignExpires);
}

function signWithHeader(req: HttpRequestDescription, input: SigV4SigningInput, now: Date): HttpRequestDescription {
  const credential = credentialAt(input, now);
  const headers: HttpRequestDescription["headers"] = [...req.headers, ["X-Amz-Date", credential.amzDate]];
  if (input.sessionToken !== undefined) headers.push(["X-Amz-Security-Token", input.sessionToken]);
  const signedHeaders = signedHeaderNames(headers);
  const unsigned = { ...req, headers };
  const signature = signatureFor(unsigned, { ...credential, signedHeaders, presigned: false }, input.secret);
  const authorization = `${SIGV4} Credential=${input.accessKeyId}/${credentialScope(credential.credential)}, SignedHeaders=${signedHeaders.join(";")}, Signature=${signature}`;
  return { ...unsigned, headers: [...headers, ["Authorization", authorization]] };
}

function presign(req: HttpRequestDescription, input: SigV4SigningInput, now: Date, expires: number): HttpRequestDescription {
  const credential = credentialAt(input, now);
  const signedHeaders = signedHeaderNames(req.headers);
  const params: Array<[string, string]> = [
    ["X-Amz-Algorithm", SIGV4],
    ["X-Amz-Credential", `${input.accessKeyId}/${credentialScope(credential.credential)}`],
    ["X-Amz-Date", credential.amzDate],
    ["X-Amz-Expires", String(expires)],
    ["X-Amz-SignedHeaders", signedHeaders.join(";")],
  ];
  if (input.sessionToken !== undefined) params.push(["X-Amz-Security-Token", input.sessionToken]);
  const added = params.map(([key, value]) => `${key}=${uriEncode(value)}`).join("&");
  const unsigned = { ...req, rawQuery: req.rawQuery === "" ? added : `${req.rawQuery}&${added}` };
  const signature = signatureFor(unsigned, { ...credential, signedHeaders, presigned: true }, input.secret);
  return { ...unsigned, rawQuery: `${unsigned.rawQuery}&X-Amz-Signature=${signature}` };
}

function credentialAt(input: SigV4SigningInput, now: Date): { credential: Credential; amzDate: string } {
  const amzDate = formatCompactUtc(now);
  return { amzDate, credential: { accessKeyId: input.accessKeyId, date: amzDate.slice(0, 8), region: input.region, service: input.service } };
}

function signedHeaderNames(headers: HttpRequestDescription["headers"]): string[] {
  const names = new Set(headers.map(([name]) => name.toLowerCase()));
  names.delete("authorization");
  return [...names].sort();
}

function signatureFor(req: HttpRequestDescription, auth: Omit<SigV4Auth, "declaredPayload">, secret: string): string {
  const view = signerView(req);
  const toSign = sigV4StringToSign(view, { ...auth, declaredPayload: headerValue(view.headers, "x-amz-content-sha256") });
  if (isDenial(toSign)) throw new Error(`cannot sign: ${toSign.message}`);
  return hmacSha256(keyCache.get(secret, auth.credential), toSign.value).toString("hex");
}

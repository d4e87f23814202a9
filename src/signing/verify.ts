import { ACS3, parseAcs3Header } from "./acs3.js";
import { splitAuthorization } from "./auth-header.js";
import type { RequestView, Scheme, SignatureClaim, StringToSign } from "./claim.js";
import { signatureMatches } from "./digest.js";
import { deny, isDenial, shown, type Denial } from "./errors.js";
import { HUAWEI_SDK, parseHuaweiHeader } from "./huawei.js";
import type { HeaderIndex, HttpRequestDescription } from "./request.js";
import { hasPresignParameters, parseSigV4Header, parseSigV4Query, SIGV4 } from "./sigv4.js";
import { MAX_SKEW_MS } from "./time.js";
import { prepareRequest } from "./view.js";

export type { Denial, DenialCode } from "./errors.js";
export type { Scheme } from "./claim.js";

/** Whatever the caller keeps per access key; the verifier only reads the secret and hands the rest back. */
export interface KeyRecord {
  readonly secret: string;
}

export interface VerifyDeps<K extends KeyRecord> {
  /** The key behind an access key id; undefined when it does not exist or must not be used. */
  lookup(accessKeyId: string): K | undefined;
}

/**
 * A signed nonce (Alibaba), to be used once. The core stays synchronous and stateless: the
 * caller claims it in the replay store all replicas share, and refuses the request if it was
 * seen before.
 */
export interface SignedNonce {
  readonly value: string;
  /** When its request would be refused as too old anyway: how long it must be remembered. */
  readonly expiresAtMs: number;
}

/**
 * The signature is valid, fresh and covers everything security-relevant. Key state, token
 * validity and policy are the caller's next checks, with `key` and `securityToken` in hand.
 */
export interface Verified<K> {
  readonly allowed: true;
  readonly scheme: Scheme;
  readonly accessKeyId: string;
  /** The caller's own record, secret included: log fields of this result, never the whole of it. */
  readonly key: K;
  readonly securityToken?: string;
  readonly signedHeaders: readonly string[];
  readonly presigned: boolean;
  /** False when the body was not available or not signed (UNSIGNED-PAYLOAD): the backend must not trust it. */
  readonly payloadVerified: boolean;
  /** The client signed UNSIGNED-PAYLOAD; which services may do so is the caller's policy. */
  readonly unsignedPayload: boolean;
  readonly requestTime: Date;
  readonly expiresAt?: Date;
  readonly region?: string;
  readonly service?: string;
  /** Present for schemes that sign a nonce: the request is allowed only once the nonce is claimed. */
  readonly nonce?: SignedNonce;
}

export type VerifyResult<K> = Verified<K> | Denial;

const HEADER_PARSERS = new Map<string, (view: RequestView, rest: string) => SignatureClaim | Denial>([
  [SIGV4, parseSigV4Header],
  [ACS3, parseAcs3Header],
  [HUAWEI_SDK, parseHuaweiHeader],
]);

/**
 * Verifies a request signed by an AWS, Alibaba Cloud or Huawei Cloud SDK. Deny by default:
 * every path that does not end in a matching signature returns a denial, and no input makes it
 * throw.
 */
export function verifySignedRequest<K extends KeyRecord>(req: HttpRequestDescription, deps: VerifyDeps<K>, now: Date): VerifyResult<K> {
  const nowMs = now.getTime();
  const view = prepareRequest(req);
  if (isDenial(view)) return view;
  const claim = readClaim(view);
  if (isDenial(claim)) return claim;
  const problem = checkSignedHeaders(claim, view.headers) ?? checkTime(claim, nowMs);
  if (problem) return problem;
  const key = deps.lookup(claim.accessKeyId);
  if (!key) return deny("InvalidAccessKeyId", "the access key id does not exist in our records");
  const toSign = claim.stringToSign();
  if (isDenial(toSign)) return toSign;
  if (!signatureMatches(claim.signingKey(key.secret).sign(toSign.value), claim.signature)) {
    return deny("SignatureDoesNotMatch", "the request signature does not match the signature calculated for it");
  }
  return verified(claim, key, toSign);
}

const NO_VALUES: readonly string[] = [];

/** Exactly one auth mechanism: one Authorization header, or presigned query parameters. */
function readClaim(view: RequestView): SignatureClaim | Denial {
  const authorization = view.headers.get("authorization") ?? NO_VALUES;
  const presigned = hasPresignParameters(view.query);
  if (authorization.length > 1) return deny("InvalidArgument", "only one Authorization header is allowed");
  if (authorization.length === 1 && presigned) {
    return deny("InvalidArgument", "only one auth mechanism is allowed: an Authorization header or X-Amz-* query parameters");
  }
  if (presigned) return parseSigV4Query(view);
  const [value] = authorization;
  if (value === undefined) return deny("MissingAuthenticationToken", "the request carries no signature");
  const { algorithm, rest } = splitAuthorization(value);
  const parse = HEADER_PARSERS.get(algorithm);
  return parse ? parse(view, rest) : deny("AuthorizationHeaderMalformed", "the authorization algorithm is not supported");
}

const SECURITY_PREFIXES = ["x-amz-", "x-acs-", "x-sdk-"];
const SECURITY_TOKENS = new Set(["x-amz-security-token", "x-acs-security-token", "x-security-token"]);

/** Headers one of the three clouds acts on: present means signed, whatever the scheme. */
function isSecurityHeader(name: string): boolean {
  // Every one of them starts with "x-": most headers are ruled out by their first character.
  if (!name.startsWith("x-")) return false;
  if (SECURITY_TOKENS.has(name)) return true;
  for (const prefix of SECURITY_PREFIXES) if (name.startsWith(prefix)) return true;
  return false;
}

// Up to this many signed names, a linear search is cheaper than building a Set.
const SMALL_LIST = 16;

class ListMembership {
  constructor(private readonly names: readonly string[]) {}

  has(name: string): boolean {
    return this.names.includes(name);
  }
}

/** Membership in the signed-header list, with a Set only for long (possibly hostile) lists. */
function signedSet(names: readonly string[]): { has(name: string): boolean } {
  return names.length <= SMALL_LIST ? new ListMembership(names) : new Set(names);
}

/** Authorize on exactly what was signed. */
function checkSignedHeaders(claim: SignatureClaim, headers: HeaderIndex): Denial | undefined {
  const signed = signedSet(claim.signedHeaders);
  for (const name of claim.mustSign) if (!signed.has(name)) return deny("AccessDenied", `the ${name} header must be signed`);
  for (const name of claim.signedHeaders) {
    if (!headers.has(name)) return deny("SignatureDoesNotMatch", `signed header ${shown(name)} is not in the request`);
  }
  for (const name of headers.keys()) {
    if (isSecurityHeader(name) && !signed.has(name)) return deny("AccessDenied", `header ${shown(name)} is present but not signed`);
  }
  return undefined;
}

// Each test states what passes, so an invalid clock (NaN) fails closed instead of skipping it.
function checkTime(claim: SignatureClaim, nowMs: number): Denial | undefined {
  if (!(claim.requestTimeMs - nowMs <= MAX_SKEW_MS)) {
    return deny("RequestTimeTooSkewed", "the request time is more than 15 minutes ahead of the server time");
  }
  if (claim.expiresAtMs !== undefined) {
    return nowMs <= claim.expiresAtMs ? undefined : deny("AccessDenied", "the presigned request has expired");
  }
  if (!(nowMs - claim.requestTimeMs <= MAX_SKEW_MS)) {
    return deny("RequestTimeTooSkewed", "the request time is more than 15 minutes behind the server time");
  }
  return undefined;
}

function verified<K>(claim: SignatureClaim, key: K, toSign: StringToSign): Verified<K> {
  return {
    allowed: true,
    scheme: claim.scheme,
    accessKeyId: claim.accessKeyId,
    key,
    securityToken: claim.securityToken,
    signedHeaders: claim.signedHeaders,
    presigned: claim.presigned,
    payloadVerified: toSign.payloadVerified,
    unsignedPayload: toSign.unsignedPayload,
    requestTime: new Date(claim.requestTimeMs),
    expiresAt: claim.expiresAtMs === undefined ? undefined : new Date(claim.expiresAtMs),
    region: claim.scope?.region,
    service: claim.scope?.service,
    nonce: claim.nonce === undefined ? undefined : { value: claim.nonce, expiresAtMs: claim.requestTimeMs + MAX_SKEW_MS },
  };
}

// Denials are values: every check returns one of these instead of throwing, so a hostile request
// can never turn into a 500. The vocabulary is AWS's for every scheme (clients and gateways already
// know it), plus Alibaba's SignatureNonceUsed, which has no AWS equivalent, and the network policy
// refusal, which each cloud names in its own way.
export const DENIAL_STATUS = {
  MissingAuthenticationToken: 403,
  AccessDenied: 403,
  SignatureDoesNotMatch: 403,
  InvalidAccessKeyId: 403,
  InvalidClientTokenId: 403,
  RequestTimeTooSkewed: 403,
  ExpiredToken: 400,
  IncompleteSignature: 400,
  AuthorizationHeaderMalformed: 400,
  AuthorizationQueryParametersError: 400,
  InvalidArgument: 400,
  XAmzContentSHA256Mismatch: 400,
  RequestHeaderSectionTooLarge: 400,
  // Alibaba answers a replayed nonce with 400: the request is well signed but not acceptable
  // again, and a 403 would suggest to clients that their credentials are wrong.
  SignatureNonceUsed: 400,
  // S3's code when a request needs a feature the server does not implement (chunk-signed
  // streaming uploads): it tells the client to sign the payload another way. S3 sends 501; we
  // send 400, because any caller who knows a key id could otherwise make the verifier answer
  // 5xx, which gateways and monitors read as the verifier failing.
  NotImplemented: 400,
  // A source address outside a network policy, in the code each cloud answers it with for its
  // own scheme (see networkPolicyDenial, src/verifier/network-policy.ts): Alibaba's RAM for an
  // ACS3 request, Huawei's API Gateway for an SDK-HMAC-SHA256 one; SigV4 gets AccessDenied.
  "AccessKeyId.AccessPolicyDenied": 403,
  "APIGW.0402": 403,
  // Retry later: the key index has not synced, the replay store is down, or a key's (namespace's)
  // nonce quota is full of live nonces. Accepting a nonce that cannot be remembered would let its
  // request be replayed.
  ServiceUnavailable: 503,
} as const;

export type DenialCode = keyof typeof DENIAL_STATUS;

export interface Denial {
  readonly allowed: false;
  readonly code: DenialCode;
  readonly message: string;
  readonly httpStatus: number;
}

/** Messages name headers and parameters, never their secret values. */
export function deny(code: DenialCode, message: string): Denial {
  return { allowed: false, code, message, httpStatus: DENIAL_STATUS[code] };
}

export function isDenial(value: unknown): value is Denial {
  return typeof value === "object" && value !== null && (value as { allowed?: unknown }).allowed === false;
}

/** A caller-chosen name, cut short so that a hostile one cannot flood a response or a log line. */
export function shown(name: string): string {
  return name.length > 64 ? `${name.slice(0, 64)}…` : name;
}

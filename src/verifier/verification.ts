import { deny, isDenial } from "../signing/errors.js";
import type { HttpRequestDescription } from "../signing/request.js";
import { type Denial, type Scheme, type SignedNonce, type Verified, type VerifyDeps, verifySignedRequest } from "../signing/verify.js";
import { accessKeyKind } from "../credentials/format.js";
import type { KekSet } from "../keystore/kek.js";
import type { SessionClaims } from "../keystore/session-token.js";
import type { ReplayStore, ReplayVerdict } from "../replay/store.js";
import type { ClientIp, Networks } from "./ip.js";
import type { AccessKeyRef, IndexedKey } from "./key-table.js";
import { checkNetworks } from "./network-policy.js";
import { presentedToken, type SessionLookup, sessionClaims } from "./session.js";

export interface KeyLookup {
  readonly isReady: boolean;
  lookup(accessKeyId: string): IndexedKey | undefined;
  /** Temporary keys are not indexed: their secret travels sealed in their token. */
  kekSet(): KekSet | undefined;
  /** The account's allowedSourceCIDRs (its AccountPolicy), for every key of it; undefined: none. */
  accountNetworks(namespace: string): Networks | undefined;
}

/** A temporary key, as its token describes it. */
interface SessionKey {
  readonly secret: string;
  readonly session: SessionClaims;
  /** The token the claims were opened from; it must be the one the signature covers. */
  readonly token: string;
}

type VerifiableKey = IndexedKey | SessionKey;

function isSession(key: VerifiableKey): key is SessionKey {
  return "session" in key;
}

export interface Principal {
  readonly namespace: string;
  readonly user: string;
  readonly accessKeyId: string;
  readonly credentialType: "AccessKey" | "TemporaryCredential";
  readonly mfaAuthenticated: boolean;
}

/** A request that passed every check; what the caller may learn, and what last-used needs. */
export interface Allowed {
  readonly allowed: true;
  readonly scheme: Scheme;
  readonly principal: Principal;
  /** False when the body was not available or not signed: the backend must not trust it. */
  readonly payloadVerified: boolean;
  /** The AccessKey whose last use to record; none for temporary credentials. */
  readonly accessKey?: AccessKeyRef;
  /** The credential scope (SigV4 only): what the signature is valid for. */
  readonly service?: string;
  readonly region?: string;
  /** When the request was signed (ISO 8601): a backend may want it fresh, or recorded. */
  readonly date: string;
  readonly sourceIp?: string;
}

/** What this verifier accepts beyond a valid signature. */
export interface VerificationPolicy {
  /** Services whose requests may sign UNSIGNED-PAYLOAD (`*`: any, schemes without a scope too). */
  readonly unsignedPayloadServices: ReadonlySet<string>;
}

// S3 is the service whose SDKs sign UNSIGNED-PAYLOAD (presigned URLs, streamed uploads); most
// others require the body's hash, so accepting it for them would leave their bodies unsigned.
export const DEFAULT_POLICY: VerificationPolicy = { unsignedPayloadServices: new Set(["s3"]) };

export type Outcome = Allowed | Denial;

// Checks that follow a valid signature, in order; each denies or passes.

/** Only temporary credentials carry a session token, and those are not served from this index. */
function checkNoSessionToken(verified: Verified<IndexedKey>): Denial | undefined {
  if (verified.securityToken === undefined) return undefined;
  return deny("InvalidClientTokenId", "a security token was sent with a long-term access key");
}

function checkActive(verified: Verified<IndexedKey>): Denial | undefined {
  return verified.key.active ? undefined : deny("InvalidClientTokenId", "the access key is inactive");
}

/**
 * A key under a network policy needs a client address it can trust, inside the policy: its own
 * list and its account's, both.
 */
function checkSourceIp(verified: Verified<IndexedKey>, account: Networks | undefined, clientIp: ClientIp | undefined): Denial | undefined {
  const policies = [
    { networks: verified.key.allowedSourceCIDRs, owner: "the access key's" },
    { networks: account, owner: "the account's" },
  ];
  return checkNetworks(verified.scheme, policies, clientIp);
}

/** A session is held to its account's network policy, as every key of the account. */
function checkSessionSourceIp(verified: Verified<SessionKey>, account: Networks | undefined, clientIp: ClientIp | undefined): Denial | undefined {
  return checkNetworks(verified.scheme, [{ networks: account, owner: "the account's" }], clientIp);
}

/** A session verifies only with the token it was signed with, and only until its expiry. */
function checkSession(verified: Verified<SessionKey>, now: Date): Denial | undefined {
  if (verified.securityToken === undefined || verified.securityToken !== verified.key.token) {
    return deny("InvalidClientTokenId", "the security token must be sent, and signed, with a temporary access key");
  }
  if (now.getTime() >= verified.key.session.expiresAt) return deny("ExpiredToken", "the security token has expired");
  return undefined;
}

function allowedSession(verified: Verified<SessionKey>): Allowed {
  const { session } = verified.key;
  return {
    allowed: true,
    scheme: verified.scheme,
    principal: {
      namespace: session.namespace,
      user: session.user,
      accessKeyId: session.accessKeyId,
      credentialType: "TemporaryCredential",
      mfaAuthenticated: session.mfaAuthenticated,
    },
    payloadVerified: verified.payloadVerified,
    service: verified.service,
    region: verified.region,
    date: verified.requestTime.toISOString(),
  };
}

// One principal object per indexed key, made at its first allowed request: answers can then keep
// what they derive from it (its JSON) instead of redoing it per request.
const principals = new WeakMap<IndexedKey, Principal>();

function keyPrincipal(key: IndexedKey): Principal {
  const known = principals.get(key);
  // The index may replace a key's record; a cached principal must still say what the record says.
  if (known && known.namespace === key.namespace && known.user === key.user && known.accessKeyId === key.accessKeyId) return known;
  const principal: Principal = { namespace: key.namespace, user: key.user, accessKeyId: key.accessKeyId, credentialType: "AccessKey", mfaAuthenticated: false };
  principals.set(key, principal);
  return principal;
}

/** Requests of the same second share their signing time: its ISO text is made once, not per request. */
class IsoTimes {
  private ms = Number.NaN;
  private text = "";

  of(date: Date): string {
    const ms = date.getTime();
    if (ms !== this.ms) {
      this.text = date.toISOString();
      this.ms = ms;
    }
    return this.text;
  }
}

const signingTimes = new IsoTimes();

function allowed(verified: Verified<IndexedKey>, clientIp: ClientIp | undefined): Allowed {
  const { key } = verified;
  return {
    allowed: true,
    scheme: verified.scheme,
    principal: keyPrincipal(key),
    payloadVerified: verified.payloadVerified,
    accessKey: key.accessKey,
    service: verified.service,
    region: verified.region,
    date: signingTimes.of(verified.requestTime),
    sourceIp: clientIp?.text,
  };
}

/** UNSIGNED-PAYLOAD leaves the body out of the signature: only for the services configured to allow it. */
function checkUnsignedPayload(verified: Verified<unknown>, policy: VerificationPolicy): Denial | undefined {
  const services = policy.unsignedPayloadServices;
  if (!verified.unsignedPayload || services.has("*")) return undefined;
  if (verified.service !== undefined && services.has(verified.service)) return undefined;
  const allowedFor = services.size === 0 ? "no service" : `only for ${[...services].join(", ")}`;
  return deny("InvalidArgument", `the payload hash must be signed: UNSIGNED-PAYLOAD is accepted ${allowedFor}`);
}

/** What the synchronous checks decided: a refusal, or an answer that waits only for its nonce (if any). */
type Decision = Denial | { readonly allowed: Allowed; readonly nonce: SignedNonce | undefined };

const REPLAY_DENIALS: Record<Exclude<ReplayVerdict, "fresh">, Denial> = {
  replayed: deny("SignatureNonceUsed", "the signature nonce has already been used"),
  full: deny("ServiceUnavailable", "too many recent requests of this access key or namespace to track their nonces; retry later"),
  unavailable: deny("ServiceUnavailable", "the replay store is unavailable, so a request signed with a nonce (ACS3) cannot be checked for replay; retry later"),
};

/** Signature first, then key state and policy: only a holder of the secret learns why a key is refused. */
export class Verification {
  constructor(
    private readonly keys: KeyLookup,
    private readonly replay: ReplayStore,
    private readonly now: () => Date,
    private readonly policy: VerificationPolicy = DEFAULT_POLICY,
  ) {}

  /**
   * The nonce is claimed last, once every other check has passed: the shared store sees only
   * requests that would otherwise be allowed, and a refused request uses up no nonce.
   */
  async verify(request: HttpRequestDescription, clientIp: ClientIp | undefined): Promise<Outcome> {
    return this.verifyNow(request, clientIp);
  }

  /**
   * The same, answered at once (no promise) unless a nonce must be claimed in the replay store:
   * the request path of every scheme but ACS3 stays synchronous.
   */
  verifyNow(request: HttpRequestDescription, clientIp: ClientIp | undefined): Outcome | Promise<Outcome> {
    const decision = this.decide(request, clientIp);
    if (isDenial(decision)) return decision;
    if (decision.nonce === undefined) return decision.allowed;
    return this.claimed(decision.allowed, decision.nonce);
  }

  private async claimed(allowed: Allowed, nonce: SignedNonce): Promise<Outcome> {
    return (await this.claim(allowed.principal, nonce)) ?? allowed;
  }

  private decide(request: HttpRequestDescription, clientIp: ClientIp | undefined): Decision {
    if (!this.keys.isReady) return deny("ServiceUnavailable", "the verifier has not loaded its keys yet; retry later");
    const deps = new SessionAwareKeys(this.keys, request);
    const now = this.now();
    const verified = verifySignedRequest(request, deps, now);
    if (isDenial(verified)) return sessionDenial(deps.session, verified);
    if (isSessionResult(verified)) return this.decideSession(verified, now, clientIp);
    const indexed = verified as Verified<IndexedKey>;
    const account = this.keys.accountNetworks(indexed.key.namespace);
    const refused = checkNoSessionToken(indexed) ?? checkActive(indexed) ?? checkUnsignedPayload(indexed, this.policy) ?? checkSourceIp(indexed, account, clientIp);
    return refused ?? { allowed: allowed(indexed, clientIp), nonce: indexed.nonce };
  }

  private decideSession(verified: Verified<SessionKey>, now: Date, clientIp: ClientIp | undefined): Decision {
    const account = this.keys.accountNetworks(verified.key.session.namespace);
    const refused = checkSession(verified, now) ?? checkUnsignedPayload(verified, this.policy) ?? checkSessionSourceIp(verified, account, clientIp);
    return refused ?? { allowed: allowedSession(verified), nonce: verified.nonce };
  }

  /** Nonces are per access key, as the clouds keep them: another key may use the same one. */
  private async claim(principal: Principal, nonce: SignedNonce): Promise<Denial | undefined> {
    const verdict = await this.replay.claim({
      id: `acs3-nonce:${principal.accessKeyId}:${nonce.value}`,
      ttlMs: nonce.expiresAtMs - this.now().getTime(),
      owner: { namespace: principal.namespace, accessKeyId: principal.accessKeyId },
    });
    return verdict === "fresh" ? undefined : REPLAY_DENIALS[verdict];
  }
}

/** For a temporary key, why its token failed says more than "unknown key". */
function sessionDenial(session: SessionLookup | undefined, denial: Denial): Denial {
  return session && !session.ok && denial.code === "InvalidAccessKeyId" ? session.denial : denial;
}

/**
 * Looks keys up; only a temporary key's lookup looks for the request's token (long-term keys,
 * the common case, pay nothing for sessions), opens it and notes the result.
 */
class SessionAwareKeys implements VerifyDeps<VerifiableKey> {
  /** The first temporary key's lookup, when there was one. */
  session: SessionLookup | undefined;

  constructor(
    private readonly keys: KeyLookup,
    private readonly request: HttpRequestDescription,
  ) {}

  lookup(accessKeyId: string): VerifiableKey | undefined {
    if (accessKeyKind(accessKeyId) !== "temporary") return this.keys.lookup(accessKeyId);
    const token = presentedToken(this.request);
    const session = sessionClaims(this.keys.kekSet(), accessKeyId, token);
    this.session ??= session;
    return session.ok && token !== undefined ? { secret: session.claims.secretAccessKey, session: session.claims, token } : undefined;
  }
}

function isSessionResult(verified: Verified<VerifiableKey>): verified is Verified<SessionKey> {
  return isSession(verified.key);
}

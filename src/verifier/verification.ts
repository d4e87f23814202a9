import { deny, isDenial } from "../signing/errors.js";
import type { NonceStore } from "../signing/nonce-cache.js";
import type { HttpRequestDescription } from "../signing/request.js";
import { type Denial, type Scheme, type Verified, type VerifyDeps, verifySignedRequest } from "../signing/verify.js";
import { type ClientIp, inNetworks } from "./ip.js";
import type { AccessKeyRef, IndexedKey } from "./key-table.js";

export interface KeyLookup {
  readonly isReady: boolean;
  lookup(accessKeyId: string): IndexedKey | undefined;
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
  readonly accessKey: AccessKeyRef;
  readonly service?: string;
  readonly region?: string;
  readonly sourceIp?: string;
}

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

/** A key with a network policy needs a client address it can trust, and one inside the policy. */
function checkSourceIp(verified: Verified<IndexedKey>, clientIp: ClientIp | undefined): Denial | undefined {
  const networks = verified.key.allowedSourceCIDRs;
  if (networks === undefined) return undefined;
  if (clientIp === undefined) {
    return deny("AccessDenied", "the access key is limited to allowedSourceCIDRs and the client address is unknown");
  }
  return inNetworks(networks, clientIp) ? undefined : deny("AccessDenied", "the client address is not in the access key's allowedSourceCIDRs");
}

function allowed(verified: Verified<IndexedKey>, clientIp: ClientIp | undefined): Allowed {
  const { key } = verified;
  return {
    allowed: true,
    scheme: verified.scheme,
    principal: {
      namespace: key.namespace,
      user: key.user,
      accessKeyId: key.accessKeyId,
      credentialType: "AccessKey",
      mfaAuthenticated: false,
    },
    payloadVerified: verified.payloadVerified,
    accessKey: key.accessKey,
    service: verified.service,
    region: verified.region,
    sourceIp: clientIp?.text,
  };
}

/** Signature first, then key state and policy: only a holder of the secret learns why a key is refused. */
export class Verification {
  private readonly deps: VerifyDeps<IndexedKey>;

  constructor(
    private readonly keys: KeyLookup,
    nonces: NonceStore,
    private readonly now: () => Date,
  ) {
    this.deps = { lookup: (accessKeyId) => keys.lookup(accessKeyId), nonces };
  }

  verify(request: HttpRequestDescription, clientIp: ClientIp | undefined): Outcome {
    if (!this.keys.isReady) return deny("ServiceUnavailable", "the verifier has not loaded its keys yet; retry later");
    const verified = verifySignedRequest(request, this.deps, this.now());
    if (isDenial(verified)) return verified;
    const refused = checkNoSessionToken(verified) ?? checkActive(verified) ?? checkSourceIp(verified, clientIp);
    return refused ?? allowed(verified, clientIp);
  }
}

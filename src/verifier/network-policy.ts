import type { KubernetesObject } from "@kubernetes/client-node";
import { ACCOUNT_POLICY_NAME } from "../api/accountpolicy.js";
import { deny, type Denial, type DenialCode } from "../signing/errors.js";
import type { Scheme } from "../signing/verify.js";
import { type ClientIp, inNetworks, type Networks, networksOf } from "./ip.js";

/**
 * The code each cloud refuses a request from outside an access key's network policy with, for
 * its own signing scheme (docs/verifier.md, "Account network policy", cites each): a client SDK
 * then reports what it would from the cloud itself.
 */
const NETWORK_POLICY_CODES: Record<Scheme, DenialCode> = {
  "AWS4-HMAC-SHA256": "AccessDenied",
  "ACS3-HMAC-SHA256": "AccessKeyId.AccessPolicyDenied",
  "SDK-HMAC-SHA256": "APIGW.0402",
};

/** The one refusal of a request a network policy does not allow, whichever policy it was. */
export function networkPolicyDenial(scheme: Scheme, message: string): Denial {
  return deny(NETWORK_POLICY_CODES[scheme], message);
}

/** A network policy a request must satisfy: the key's own, or its account's. */
export interface NetworkPolicy {
  readonly networks: Networks | undefined;
  /** Whose list it is, for the message: "the access key's", "the account's". */
  readonly owner: string;
}

/** Every policy must allow the address; an unknown address passes only where there is no policy. */
export function checkNetworks(scheme: Scheme, policies: readonly NetworkPolicy[], clientIp: ClientIp | undefined): Denial | undefined {
  for (const { networks, owner } of policies) {
    if (networks === undefined) continue;
    if (clientIp === undefined) {
      return networkPolicyDenial(scheme, `${owner} allowedSourceCIDRs limit this key, and the client address is unknown`);
    }
    if (!inNetworks(networks, clientIp)) return networkPolicyDenial(scheme, `the client address is not in ${owner} allowedSourceCIDRs`);
  }
  return undefined;
}

// The spec's list alone is read, not the whole object through its schema: a policy that a newer
// schema wrote still limits its account. A list that is not one allows nothing.
function cidrsOf(object: KubernetesObject): Networks | undefined {
  const cidrs = (object as { spec?: { allowedSourceCIDRs?: unknown } }).spec?.allowedSourceCIDRs;
  if (cidrs === undefined) return undefined;
  return Array.isArray(cidrs) && cidrs.every((cidr) => typeof cidr === "string") ? networksOf(cidrs) : [];
}

/** Each account's allowedSourceCIDRs, from its AccountPolicy (the one named default). */
export class AccountNetworks {
  private readonly byNamespace = new Map<string, Networks>();

  put(object: KubernetesObject): void {
    const { name, namespace = "" } = object.metadata ?? {};
    if (name !== ACCOUNT_POLICY_NAME) return;
    const networks = cidrsOf(object);
    if (networks === undefined) this.byNamespace.delete(namespace);
    else this.byNamespace.set(namespace, networks);
  }

  remove(object: KubernetesObject): void {
    const { name, namespace = "" } = object.metadata ?? {};
    if (name === ACCOUNT_POLICY_NAME) this.byNamespace.delete(namespace);
  }

  of(namespace: string): Networks | undefined {
    return this.byNamespace.get(namespace);
  }
}

import type * as k8s from "@kubernetes/client-node";
import { ACCESS_KEY_PLURAL } from "../../api/accesskey.js";
import { ACCOUNT_POLICY_KIND, type AccountPolicy, type AccountPolicyStatus, parseAccountPolicy } from "../../api/accountpolicy.js";
import { MFA_DEVICE_PLURAL } from "../../api/mfadevice.js";
import { TEMPORARY_CREDENTIAL_PLURAL } from "../../api/temporarycredential.js";
import type { KindLogic, Outcome, Settled } from "../../runtime/reconcile.js";
import type { KindCaches } from "../kind.js";
import { type AccountCounts, accountCounts } from "./counts.js";
import { Reason } from "./reasons.js";
import { desiredStatus } from "./status.js";

export interface AccountObservation {
  policy: AccountPolicy;
  counts: AccountCounts;
  now: Date;
}

/** Nothing to act on: the policy's settings are read where they apply; only its status is written. */
type NoAction = never;

const APPLIED: Outcome = { ready: true, reason: Reason.Applied, message: "" };

/** The AccountPolicy's part of the reconcile skeleton: counts from the caches, no API call but the status write. */
export class AccountPolicyLogic implements KindLogic<AccountPolicy, AccountObservation, NoAction, Outcome> {
  readonly kind = ACCOUNT_POLICY_KIND;
  readonly parse = parseAccountPolicy;

  constructor(
    private readonly caches: KindCaches,
    private readonly clock: () => Date,
  ) {}

  gather(policy: AccountPolicy): Promise<AccountObservation> {
    const namespace = policy.metadata.namespace ?? "";
    const now = this.clock();
    const of = (plural: string): readonly unknown[] => this.caches.of(plural).list(namespace);
    const counts = accountCounts({
      accessKeys: of(ACCESS_KEY_PLURAL),
      mfaDevices: of(MFA_DEVICE_PLURAL),
      temporaryCredentials: of(TEMPORARY_CREDENTIAL_PLURAL),
      now,
    });
    return Promise.resolve({ policy, counts, now });
  }

  decide(): Settled<Outcome> {
    return { kind: "none", outcome: APPLIED };
  }

  act(): Promise<k8s.KubernetesObject | void> {
    return Promise.reject(new Error("an AccountPolicy has no step to act on"));
  }

  desiredStatus(observation: AccountObservation): AccountPolicyStatus {
    return desiredStatus(observation.policy, observation.counts, observation.now);
  }

  transitionEvents(): [] {
    return [];
  }
}

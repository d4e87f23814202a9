import type { AccountPolicy, AccountPolicyStatus } from "../../api/accountpolicy.js";
import { asJson } from "../../json.js";
import { setCondition } from "../../runtime/conditions.js";
import { READY } from "../../runtime/reconcile.js";
import type { AccountCounts } from "./counts.js";
import { Reason } from "./reasons.js";

/** The status an AccountPolicy should show: the account's counts, and Ready for this generation. */
export function desiredStatus(policy: AccountPolicy, counts: AccountCounts, now: Date): AccountPolicyStatus {
  const generation = policy.metadata.generation ?? 0;
  const ready = {
    type: READY,
    status: "True",
    reason: Reason.Applied,
    message: "the account's settings are in force; the counts are current",
    observedGeneration: generation,
  } as const;
  return asJson({ ...counts, conditions: setCondition(policy.status?.conditions ?? [], ready, now), observedGeneration: generation });
}

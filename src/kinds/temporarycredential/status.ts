import type { TemporaryCredential, TemporaryCredentialStatus } from "../../api/temporarycredential.js";
import { issuedSecretName } from "../../api/secret-name.js";
import { setCondition } from "../../runtime/conditions.js";
import { READY, type TransitionEvent } from "../../runtime/reconcile.js";
import type { TemporaryOutcome } from "./decide.js";
import { EXPIRED, Reason } from "./reasons.js";
import { asJson } from "../../json.js";

function conditionsOf(credential: TemporaryCredential, outcome: TemporaryOutcome, now: Date): TemporaryCredentialStatus["conditions"] {
  const observedGeneration = credential.metadata.generation ?? 0;
  const condition = (type: string, status: boolean, reason: string, message: string) =>
    ({ type, status: status ? "True" : "False", reason, message, observedGeneration }) as const;
  const ready = condition(READY, outcome.ready, outcome.reason, outcome.message);
  const conditions = setCondition(credential.status?.conditions ?? [], ready, now);
  if (!outcome.facts) return conditions;
  const expired = outcome.expired
    ? condition(EXPIRED, true, Reason.Expired, "the session has expired")
    : condition(EXPIRED, false, Reason.Valid, "the session is valid");
  return setCondition(conditions, expired, now);
}

// The Secret is named only while it exists: at expiry it is deleted.
function factsStatus(credential: TemporaryCredential, outcome: TemporaryOutcome): Partial<TemporaryCredentialStatus> {
  const facts = outcome.facts;
  if (!facts) return {};
  return {
    accessKeyId: facts.accessKeyId,
    issuedAt: facts.issuedAt,
    expiration: facts.expiration,
    mfaAuthenticated: facts.mfaAuthenticated,
    secretRef: outcome.expired ? undefined : { name: issuedSecretName(credential) },
  };
}

/** The status a TemporaryCredential should show: the session's public facts, Ready and Expired. */
export function desiredStatus(credential: TemporaryCredential, outcome: TemporaryOutcome, now: Date): TemporaryCredentialStatus {
  const status: TemporaryCredentialStatus = {
    ...factsStatus(credential, outcome),
    conditions: conditionsOf(credential, outcome, now),
    observedGeneration: credential.metadata.generation ?? 0,
  };
  return asJson(status);
}

function readyReason(status: TemporaryCredentialStatus | undefined): string | undefined {
  return status?.conditions?.find((condition) => condition.type === READY)?.reason;
}

/** Issue, expiry and a refused MFA code are Events of the steps that cause them; a conflict shows here. */
export function transitionEvents(
  previous: TemporaryCredentialStatus | undefined,
  _next: TemporaryCredentialStatus,
  outcome: TemporaryOutcome,
): TransitionEvent[] {
  if (outcome.reason !== Reason.SecretConflict || readyReason(previous) === outcome.reason) return [];
  return [{ type: "Warning", reason: outcome.reason, message: outcome.message }];
}

import type { AccessKey, AccessKeyStatus } from "../../api/accesskey.js";
import type { KeyRecord } from "../../keystore/record.js";
import { setCondition } from "../../runtime/conditions.js";
import type { Outcome } from "./decide.js";
import { issuedSecretName } from "../../api/secret-name.js";
import { READY, type TransitionEvent } from "../../runtime/reconcile.js";
import { Reason } from "./reasons.js";
import { asJson } from "../../json.js";

export interface StatusInput {
  key: AccessKey;
  record?: KeyRecord;
  outcome: Outcome;
  now: Date;
}

// The Secret is there for workloads exactly when the outcome says the key is fully issued.
function secretRef(input: StatusInput): AccessKeyStatus["secretRef"] {
  const present = input.outcome.reason === Reason.Issued || input.outcome.reason === Reason.Inactive;
  return present ? { name: issuedSecretName(input.key) } : undefined;
}

function keyFacts(record: KeyRecord | undefined, previous: AccessKeyStatus): Partial<AccessKeyStatus> {
  if (!record) return {};
  const state = record.state === "Recycled" ? undefined : record.state;
  // Last use starts at the issue time, as the clouds report it, and is moved on by the verifier.
  const lastUsed = previous.lastUsed ?? { time: record.createdAt };
  return { accessKeyId: record.accessKeyId, createdAt: record.createdAt, state, lastUsed };
}

/** The status the AccessKey should show: only facts from the keystore record and the outcome. */
export function desiredStatus(input: StatusInput): AccessKeyStatus {
  const previous = input.key.status ?? {};
  const generation = input.key.metadata.generation ?? 0;
  const conditions = setCondition(
    previous.conditions ?? [],
    {
      type: READY,
      status: input.outcome.ready ? "True" : "False",
      reason: input.outcome.reason,
      message: input.outcome.message,
      observedGeneration: generation,
    },
    input.now,
  );
  const status: AccessKeyStatus = {
    ...keyFacts(input.record, previous),
    secretRef: secretRef(input),
    conditions,
    observedGeneration: generation,
  };
  return asJson(status);
}

const WARNINGS: ReadonlySet<string> = new Set([
  Reason.KeyLimitExceeded,
  Reason.SecretConflict,
  Reason.SecretMissing,
  Reason.RestoreFailed,
]);

function readyReason(status: AccessKeyStatus | undefined): string | undefined {
  return status?.conditions?.find((condition) => condition.type === READY)?.reason;
}

function stateEvents(previous: AccessKeyStatus | undefined, next: AccessKeyStatus): TransitionEvent[] {
  const id = next.accessKeyId ?? "";
  if (previous?.state === "Active" && next.state === "Inactive") {
    return [{ type: "Normal", reason: Reason.Deactivated, message: `access key ${id} deactivated` }];
  }
  if (previous?.state === "Inactive" && next.state === "Active") {
    return [{ type: "Normal", reason: Reason.Reactivated, message: `access key ${id} reactivated` }];
  }
  return [];
}

/**
 * Events for what changed between two statuses, so a reconcile that changes nothing (a GitOps
 * re-apply, a resync) emits nothing.
 */
export function transitionEvents(
  previous: AccessKeyStatus | undefined,
  next: AccessKeyStatus,
  outcome: Outcome,
): TransitionEvent[] {
  const events = stateEvents(previous, next);
  if (WARNINGS.has(outcome.reason) && readyReason(previous) !== outcome.reason) {
    events.push({ type: "Warning", reason: outcome.reason, message: outcome.message });
  }
  return events;
}

/**
 * The issued Secret's name when the status shows the key settled for its current spec (Ready for
 * this generation, in the state asked for, its Secret issued); undefined otherwise.
 */
export function settledSecretName(key: AccessKey): string | undefined {
  const { metadata, spec, status } = key;
  if (metadata.deletionTimestamp !== undefined || status?.state !== spec.state) return undefined;
  const ready = status.conditions?.find((condition) => condition.type === READY);
  const current = ready?.status === "True" && ready.observedGeneration === metadata.generation;
  return current ? status.secretRef?.name : undefined;
}

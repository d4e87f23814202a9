import type * as k8s from "@kubernetes/client-node";
import type { AccessKey, AccessKeyStatus } from "../../api/accesskey.js";
import { type AccountPolicy, accountPolicyIn, MAX_KEY_AGE_EXCEEDED, type ObjectLookup, STALE_CONDITION } from "../../api/accountpolicy.js";
import type { Condition } from "../../api/condition.js";
import { parseDuration } from "../../duration.js";
import { findCondition, setCondition } from "../../runtime/conditions.js";
import type { KindLogic, TransitionEvent } from "../../runtime/reconcile.js";
import type { AccessKeyObservation, Outcome, Step } from "./decide.js";

/** The account's maxKeyAge, as written and in milliseconds. */
export interface KeyAgeLimit {
  text: string;
  ms: number;
}

/** Where a key stands against its account's maxKeyAge: it becomes the Stale condition. */
export interface Staleness {
  stale: boolean;
  reason: string;
  message: string;
  /** When a key under the limit becomes stale (epoch ms): it is looked at again then. */
  staleAt?: number;
}

export const WITHIN_MAX_KEY_AGE = "WithinMaxKeyAge";
export const NO_MAX_KEY_AGE = "NoMaxKeyAge";

export function keyAgeLimitOf(policy: AccountPolicy | undefined): KeyAgeLimit | undefined {
  const text = policy?.spec.maxKeyAge;
  return text === undefined ? undefined : { text, ms: parseDuration(text, "spec.maxKeyAge") };
}

/**
 * A key's staleness, from its issue time (status.createdAt) and the account's limit; undefined
 * for a key not issued yet, which has no age. The message names fixed instants only, so that a
 * stale key's status does not change (and is not written) at every reconcile.
 */
export function staleness(accessKeyId: string, createdAt: string | undefined, limit: KeyAgeLimit | undefined, now: Date): Staleness | undefined {
  if (createdAt === undefined) return undefined;
  if (limit === undefined) return { stale: false, reason: NO_MAX_KEY_AGE, message: "the account sets no maxKeyAge" };
  const staleAt = Date.parse(createdAt) + limit.ms;
  const since = new Date(staleAt).toISOString();
  if (now.getTime() < staleAt) {
    return { stale: false, reason: WITHIN_MAX_KEY_AGE, message: `younger than the account's maxKeyAge of ${limit.text}; stale from ${since}`, staleAt };
  }
  return {
    stale: true,
    reason: MAX_KEY_AGE_EXCEEDED,
    message:
      `access key ${accessKeyId}, created ${createdAt}, is older than the account's maxKeyAge of ${limit.text} (since ${since}); ` +
      "rotate it: create a second key, move clients, deactivate then delete this one",
  };
}

/** The conditions with Stale set as the staleness says; unchanged for a key not issued yet. */
export function withStaleCondition(conditions: readonly Condition[], state: Staleness | undefined, generation: number, now: Date): Condition[] {
  if (state === undefined) return [...conditions];
  const status = state.stale ? "True" : "False";
  return setCondition(conditions, { type: STALE_CONDITION, status, reason: state.reason, message: state.message, observedGeneration: generation }, now);
}

export function isStale(status: AccessKeyStatus | undefined): boolean {
  return findCondition(status?.conditions ?? [], STALE_CONDITION)?.status === "True";
}

/** One Warning when a key turns stale; none while it stays so. */
export function staleEvents(previous: AccessKeyStatus | undefined, next: AccessKeyStatus): TransitionEvent[] {
  if (!isStale(next) || isStale(previous)) return [];
  const message = findCondition(next.conditions ?? [], STALE_CONDITION)?.message ?? "";
  return [{ type: "Warning", reason: MAX_KEY_AGE_EXCEEDED, message }];
}

/**
 * Whether the status shows what the account's policy asks for now, as far as the caches tell
 * without a clock: a key under a maxKeyAge needs a reconcile to be looked at again when it
 * turns stale, and a key marked stale under no limit any more needs one to clear it.
 */
export function stalenessSettled(key: AccessKey, policy: AccountPolicy | undefined): boolean {
  const limited = policy?.spec.maxKeyAge !== undefined;
  return limited ? isStale(key.status) : !isStale(key.status);
}

type Action = Exclude<Step, { kind: "none" }>;
type Inner = KindLogic<AccessKey, AccessKeyObservation, Action, Outcome>;

/** The AccessKey's observation, with its account's key age limit. */
export interface AgedObservation extends AccessKeyObservation {
  keyAgeLimit?: KeyAgeLimit;
}

function stalenessOf(observation: AgedObservation): Staleness | undefined {
  const { key, now, keyAgeLimit } = observation;
  return staleness(key.status?.accessKeyId ?? "", key.status?.createdAt, keyAgeLimit, now);
}

/**
 * The AccessKey's reconcile with its account's maxKeyAge: the Stale condition beside Ready (a
 * stale key still works, as in the clouds), a Warning Event when it turns stale, and a look again
 * at the instant it does.
 */
export class StalenessLogic implements KindLogic<AccessKey, AgedObservation, Action, Outcome> {
  readonly kind: string;
  readonly parse: Inner["parse"];
  readonly othersOwn: Inner["othersOwn"];

  constructor(
    private readonly inner: Inner,
    private readonly policies: ObjectLookup,
  ) {
    this.kind = inner.kind;
    this.parse = (raw) => inner.parse(raw);
    this.othersOwn = inner.othersOwn;
  }

  async gather(key: AccessKey): Promise<AgedObservation> {
    const observation = await this.inner.gather(key);
    return { ...observation, keyAgeLimit: keyAgeLimitOf(accountPolicyIn(this.policies, key.metadata.namespace ?? "")) };
  }

  decide(observation: AgedObservation): Action | { kind: "none"; outcome: Outcome } {
    const step = this.inner.decide(observation);
    const staleAt = stalenessOf(observation)?.staleAt;
    if (step.kind !== "none" || staleAt === undefined) return step;
    const requeueAt = Math.min(step.outcome.requeueAt ?? staleAt, staleAt);
    return { kind: "none", outcome: { ...step.outcome, requeueAt } };
  }

  act(key: AccessKey, raw: k8s.KubernetesObject, step: Action): Promise<k8s.KubernetesObject | void> {
    return this.inner.act(key, raw, step);
  }

  desiredStatus(observation: AgedObservation, outcome: Outcome): AccessKeyStatus {
    const status = this.inner.desiredStatus(observation, outcome) as AccessKeyStatus;
    const generation = observation.key.metadata.generation ?? 0;
    const conditions = withStaleCondition(status.conditions ?? [], stalenessOf(observation), generation, observation.now);
    return { ...status, conditions };
  }

  transitionEvents(previous: AccessKeyStatus | undefined, next: AccessKeyStatus, outcome: Outcome): TransitionEvent[] {
    return [...this.inner.transitionEvents(previous, next, outcome), ...staleEvents(previous, next)];
  }
}

import type { Condition } from "../api/condition.js";

/** A condition as a reconciler decides it; the transition time is the helpers' business. */
export type ConditionUpdate = Omit<Condition, "lastTransitionTime" | "observedGeneration"> & {
  observedGeneration: number;
};

// metav1.Time has second precision: writing it so keeps what we compare equal to what we read back.
function metaTime(now: Date): string {
  return now.toISOString().replace(/\.\d+Z$/, "Z");
}

export function findCondition(conditions: readonly Condition[], type: string): Condition | undefined {
  return conditions.find((condition) => condition.type === type);
}

/**
 * Returns the conditions with `next` set in place of its type (appended when new). The
 * transition time moves only when the status flips, as the API conventions require; a new
 * reason or message alone is not a transition.
 */
export function setCondition(conditions: readonly Condition[], next: ConditionUpdate, now: Date): Condition[] {
  const previous = findCondition(conditions, next.type);
  const lastTransitionTime =
    previous !== undefined && previous.status === next.status ? previous.lastTransitionTime : metaTime(now);
  const updated: Condition = { ...next, lastTransitionTime };
  return previous === undefined
    ? [...conditions, updated]
    : conditions.map((condition) => (condition === previous ? updated : condition));
}

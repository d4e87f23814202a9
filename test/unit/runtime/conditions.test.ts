import { describe, expect, it } from "vitest";
import type { Condition } from "../../../src/api/condition.js";
import { type ConditionUpdate, findCondition, setCondition } from "../../../src/runtime/conditions.js";

const EARLIER = "2026-01-01T00:00:00Z";
const NOW = new Date("2026-01-02T03:04:05.678Z");
const NOW_TEXT = "2026-01-02T03:04:05Z";

function condition(overrides: Partial<Condition> = {}): Condition {
  return {
    type: "Ready",
    status: "True",
    reason: "SecretIssued",
    message: "",
    observedGeneration: 1,
    lastTransitionTime: EARLIER,
    ...overrides,
  };
}

function update(overrides: Partial<ConditionUpdate> = {}): ConditionUpdate {
  return { type: "Ready", status: "True", reason: "SecretIssued", message: "", observedGeneration: 1, ...overrides };
}

describe("setCondition", () => {
  it.each<{ name: string; before: Condition[]; next: ConditionUpdate; after: Condition[] }>([
    {
      name: "adds a condition of a new type, stamped now",
      before: [],
      next: update(),
      after: [condition({ lastTransitionTime: NOW_TEXT })],
    },
    {
      name: "keeps the transition time when the status stays the same",
      before: [condition()],
      next: update({ observedGeneration: 2 }),
      after: [condition({ observedGeneration: 2 })],
    },
    {
      name: "keeps the transition time when only the reason and message change",
      before: [condition({ status: "False", reason: "KeyLimitExceeded" })],
      next: update({ status: "False", reason: "SecretConflict", message: "not ours" }),
      after: [condition({ status: "False", reason: "SecretConflict", message: "not ours" })],
    },
    {
      name: "moves the transition time to now when the status flips",
      before: [condition({ status: "False", reason: "Pending" })],
      next: update(),
      after: [condition({ lastTransitionTime: NOW_TEXT })],
    },
    {
      name: "treats Unknown to True as a flip",
      before: [condition({ status: "Unknown", reason: "Reconciling" })],
      next: update(),
      after: [condition({ lastTransitionTime: NOW_TEXT })],
    },
    {
      name: "sets the observed generation it is given",
      before: [condition({ observedGeneration: 3 })],
      next: update({ observedGeneration: 7 }),
      after: [condition({ observedGeneration: 7 })],
    },
    {
      name: "replaces a condition in place and leaves the others alone",
      before: [condition({ type: "Expired", status: "False", reason: "Live" }), condition({ status: "False", reason: "Pending" })],
      next: update(),
      after: [condition({ type: "Expired", status: "False", reason: "Live" }), condition({ lastTransitionTime: NOW_TEXT })],
    },
    {
      name: "appends a new type after the existing ones",
      before: [condition()],
      next: update({ type: "Expired", status: "False", reason: "Live" }),
      after: [condition(), condition({ type: "Expired", status: "False", reason: "Live", lastTransitionTime: NOW_TEXT })],
    },
  ])("$name", ({ before, next, after }) => {
    expect(setCondition(before, next, NOW)).toEqual(after);
  });

  it("does not change the list it was given", () => {
    const before = [condition({ status: "False", reason: "Pending" })];
    const copy = structuredClone(before);
    setCondition(before, update(), NOW);
    expect(before).toEqual(copy);
  });

  it("writes the transition time with second precision, as the API server stores it", () => {
    const [written] = setCondition([], update(), NOW);
    expect(written?.lastTransitionTime).toBe(NOW_TEXT);
  });
});

describe("findCondition", () => {
  it("finds a condition by type, and nothing for a type that is absent", () => {
    const ready = condition();
    expect(findCondition([condition({ type: "Expired" }), ready], "Ready")).toBe(ready);
    expect(findCondition([ready], "Expired")).toBeUndefined();
  });
});

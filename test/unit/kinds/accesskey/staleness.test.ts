import { describe, expect, it } from "vitest";
import type { AccessKey, AccessKeyStatus } from "../../../../src/api/accesskey.js";
import type { AccountPolicy } from "../../../../src/api/accountpolicy.js";
import type { Condition } from "../../../../src/api/condition.js";
import type { AccessKeyObservation, Outcome } from "../../../../src/kinds/accesskey/decide.js";
import {
  keyAgeLimitOf,
  staleEvents,
  staleness,
  StalenessLogic,
  stalenessSettled,
  withStaleCondition,
} from "../../../../src/kinds/accesskey/staleness.js";
import type { KindLogic } from "../../../../src/runtime/reconcile.js";

const ID = "KGAKAAAAAAAAAAAAAAAA";
const CREATED = "2026-08-01T00:00:00Z";
const DAY = 86_400_000;
const at = (days: number): Date => new Date(Date.parse(CREATED) + days * DAY);
const LIMIT = { text: "90d", ms: 90 * DAY };

function policy(spec: Partial<AccountPolicy["spec"]> = {}): AccountPolicy {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "AccountPolicy",
    metadata: { name: "default", namespace: "team-a", generation: 1 },
    spec: { keyManagement: "SelfService", requireMfa: false, operationProtection: false, ...spec },
  };
}

function stale(status: "True" | "False"): Condition {
  return { type: "Stale", status, reason: status === "True" ? "MaxKeyAgeExceeded" : "WithinMaxKeyAge", message: "m", lastTransitionTime: CREATED };
}

function key(conditions: Condition[] = [], createdAt: string | undefined = CREATED): AccessKey {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "AccessKey",
    metadata: { name: "k1", namespace: "team-a", uid: "uid-k1", generation: 2 },
    spec: { user: "alice", state: "Active" },
    status: { accessKeyId: ID, createdAt, conditions },
  };
}

describe("a key's staleness against its account's maxKeyAge", () => {
  it.each([
    ["a key not issued yet has no age, and no Stale condition", undefined, LIMIT, 200, undefined],
    ["a key of an account without maxKeyAge is not stale", CREATED, undefined, 200, { stale: false, reason: "NoMaxKeyAge" }],
    ["a key younger than the limit is not stale, and says when it will be", CREATED, LIMIT, 89, { stale: false, reason: "WithinMaxKeyAge", staleAt: at(90).getTime() }],
    ["a key exactly at the limit is stale", CREATED, LIMIT, 90, { stale: true, reason: "MaxKeyAgeExceeded" }],
    ["a key past the limit is stale", CREATED, LIMIT, 400, { stale: true, reason: "MaxKeyAgeExceeded" }],
  ] as const)("%s", (...[, createdAt, limit, days, expected]) => {
    const state = staleness(ID, createdAt, limit, at(days));
    if (expected === undefined) expect(state).toBeUndefined();
    else expect(state).toMatchObject(expected);
  });

  it("tells a stale key's age, the limit and how to rotate, in words that do not change as it ages", () => {
    const early = staleness(ID, CREATED, LIMIT, at(91));
    expect(early?.message).toBe(
      `access key ${ID}, created ${CREATED}, is older than the account's maxKeyAge of 90d (since 2026-10-30T00:00:00.000Z); ` +
        "rotate it: create a second key, move clients, deactivate then delete this one",
    );
    expect(staleness(ID, CREATED, LIMIT, at(300))?.message).toBe(early?.message);
  });

  it("reads maxKeyAge as the policy writes it", () => {
    expect(keyAgeLimitOf(policy({ maxKeyAge: "1d12h" }))).toEqual({ text: "1d12h", ms: 1.5 * DAY });
    expect(keyAgeLimitOf(policy())).toBeUndefined();
    expect(keyAgeLimitOf(undefined)).toBeUndefined();
  });
});

describe("the Stale condition and its Event", () => {
  it("is set beside the others, and moves its transition time only when it flips", () => {
    const conditions = withStaleCondition([stale("False")], staleness(ID, CREATED, LIMIT, at(100)), 2, at(100));
    expect(conditions).toEqual([expect.objectContaining({ type: "Stale", status: "True", observedGeneration: 2, lastTransitionTime: "2026-11-09T00:00:00Z" })]);
    const again = withStaleCondition(conditions, staleness(ID, CREATED, LIMIT, at(120)), 2, at(120));
    expect(again[0]?.lastTransitionTime).toBe("2026-11-09T00:00:00Z");
  });

  it("warns once, on the turn to stale", () => {
    const status = (condition?: Condition): AccessKeyStatus => ({ conditions: condition ? [condition] : [] });
    expect(staleEvents(status(stale("False")), status(stale("True")))).toEqual([{ type: "Warning", reason: "MaxKeyAgeExceeded", message: "m" }]);
    expect(staleEvents(undefined, status(stale("True")))).toHaveLength(1);
    expect(staleEvents(status(stale("True")), status(stale("True")))).toEqual([]);
    expect(staleEvents(status(stale("True")), status(stale("False")))).toEqual([]);
  });

  it.each([
    ["a stale key under a limit is settled", [stale("True")], { maxKeyAge: "90d" }, true],
    ["a key under a limit not marked stale needs its instant armed", [stale("False")], { maxKeyAge: "90d" }, false],
    ["a key marked stale under no limit must be cleared", [stale("True")], {}, false],
    ["a key without a limit, not stale, is settled", [], {}, true],
  ])("for a new leader: %s", (_case, conditions, spec, settled) => {
    expect(stalenessSettled(key(conditions), policy(spec))).toBe(settled);
  });
});

describe("the AccessKey's reconcile with staleness", () => {
  const ready: Outcome = { ready: true, reason: "Issued", message: "issued" };
  const inner: KindLogic<AccessKey, AccessKeyObservation, never, Outcome> = {
    kind: "AccessKey",
    parse: () => {
      throw new Error("not used");
    },
    gather: () => Promise.reject(new Error("not used")),
    decide: () => ({ kind: "none", outcome: ready }),
    act: () => Promise.resolve(),
    desiredStatus: (observation) => ({ ...observation.key.status, conditions: [...(observation.key.status?.conditions ?? [])] }),
    transitionEvents: () => [],
  };
  const logic = new StalenessLogic(inner, { get: () => undefined });
  const observation = (days: number, withLimit = true) =>
    ({ key: key(), peers: [], secret: "owned", now: at(days), recycleRetentionMs: 0, keyAgeLimit: withLimit ? LIMIT : undefined }) as const;

  it("looks at a settled key again at the instant it turns stale, and not after", () => {
    expect(logic.decide(observation(10))).toEqual({ kind: "none", outcome: { ...ready, requeueAt: at(90).getTime() } });
    expect(logic.decide(observation(95))).toEqual({ kind: "none", outcome: ready });
    expect(logic.decide(observation(10, false))).toEqual({ kind: "none", outcome: ready });
  });

  it("keeps Ready as the key's own reconcile decides it: a stale key still works", () => {
    const status = logic.desiredStatus(observation(95), ready);
    expect(status.conditions?.map((condition) => [condition.type, condition.status])).toEqual([["Stale", "True"]]);
  });
});

import { describe, expect, it } from "vitest";
import type { TemporaryCredential, TemporaryCredentialStatus } from "../../../../src/api/temporarycredential.js";
import type { IssuedFacts, TemporaryOutcome } from "../../../../src/kinds/temporarycredential/decide.js";
import { desiredStatus, transitionEvents } from "../../../../src/kinds/temporarycredential/status.js";

const NOW = new Date("2027-01-15T08:00:15.250Z");
const NOW_TEXT = "2027-01-15T08:00:15Z";
const EARLIER = "2027-01-15T07:30:00Z";

const FACTS: IssuedFacts = {
  accessKeyId: "KGASAAAAAAAAAAAAAAAA",
  issuedAt: EARLIER,
  expiration: "2027-01-15T08:30:00Z",
  mfaAuthenticated: true,
};

function credential(status?: TemporaryCredentialStatus, spec: Partial<TemporaryCredential["spec"]> = {}): TemporaryCredential {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "TemporaryCredential",
    metadata: { name: "s1", namespace: "team-a", uid: "uid-s1", generation: 1 },
    spec: { user: "alice", durationSeconds: 3600, ...spec },
    status,
  };
}

const issued: TemporaryOutcome = { ready: true, reason: "Issued", message: "session valid", expired: false, facts: FACTS };
const expired: TemporaryOutcome = { ready: false, reason: "Expired", message: "session expired", expired: true, facts: FACTS };
const refused: TemporaryOutcome = { ready: false, reason: "MfaFailed", message: "code refused", expired: false };
const conflict: TemporaryOutcome = { ready: false, reason: "SecretConflict", message: "Secret in the way", expired: false };

const publicFacts = { accessKeyId: FACTS.accessKeyId, issuedAt: FACTS.issuedAt, expiration: FACTS.expiration, mfaAuthenticated: true };

describe("the status a TemporaryCredential should show", () => {
  it("shows the session's public facts, its Secret, Ready and not Expired while it is valid", () => {
    expect(desiredStatus(credential(), issued, NOW)).toEqual({
      ...publicFacts,
      secretRef: { name: "s1-credentials" },
      conditions: [
        { type: "Ready", status: "True", reason: "Issued", message: "session valid", observedGeneration: 1, lastTransitionTime: NOW_TEXT },
        { type: "Expired", status: "False", reason: "Valid", message: "the session is valid", observedGeneration: 1, lastTransitionTime: NOW_TEXT },
      ],
      observedGeneration: 1,
    });
  });

  it("names the Secret of spec.secretName", () => {
    expect(desiredStatus(credential(undefined, { secretName: "my-session" }), issued, NOW).secretRef).toEqual({ name: "my-session" });
  });

  it("drops the Secret once expired, keeps the facts, and flips both conditions", () => {
    const before = desiredStatus(credential(), issued, new Date(EARLIER));
    const status = desiredStatus(credential(before), expired, NOW);
    expect(status).toMatchObject(publicFacts);
    expect(status).not.toHaveProperty("secretRef");
    expect(status.conditions).toEqual([
      { type: "Ready", status: "False", reason: "Expired", message: "session expired", observedGeneration: 1, lastTransitionTime: NOW_TEXT },
      { type: "Expired", status: "True", reason: "Expired", message: "the session has expired", observedGeneration: 1, lastTransitionTime: NOW_TEXT },
    ]);
  });

  it.each([
    ["a refused MFA code", refused],
    ["a Secret conflict", conflict],
  ])("shows no facts and no Expired condition for %s", (_name, outcome) => {
    const status = desiredStatus(credential(), outcome, NOW);
    expect(status).toEqual({
      conditions: [{ type: "Ready", status: "False", reason: outcome.reason, message: outcome.message, observedGeneration: 1, lastTransitionTime: NOW_TEXT }],
      observedGeneration: 1,
    });
  });

  it("keeps the transition time when Ready does not flip", () => {
    const previous = credential({
      conditions: [{ type: "Ready", status: "False", reason: "SecretConflict", message: "x", observedGeneration: 1, lastTransitionTime: EARLIER }],
    });
    expect(desiredStatus(previous, refused, NOW).conditions?.[0]).toMatchObject({ reason: "MfaFailed", lastTransitionTime: EARLIER });
  });

  it("computes the same status again from the status it wrote, so a resync writes nothing", () => {
    const first = desiredStatus(credential(), issued, NOW);
    expect(desiredStatus(credential(first), issued, new Date(NOW.getTime() + 60_000))).toEqual(first);
  });
});

describe("the Events of a TemporaryCredential's status changes", () => {
  const previous = (reason: string): TemporaryCredentialStatus => ({
    conditions: [{ type: "Ready", status: "False", reason, message: "", observedGeneration: 1, lastTransitionTime: EARLIER }],
  });

  it("warns once when a foreign Secret is in the way", () => {
    const warning = [{ type: "Warning", reason: "SecretConflict", message: "Secret in the way" }];
    expect(transitionEvents(undefined, {}, conflict)).toEqual(warning);
    expect(transitionEvents(previous("Pending"), {}, conflict)).toEqual(warning);
    expect(transitionEvents(previous("SecretConflict"), {}, conflict)).toEqual([]);
  });

  // Issue, expiry and refusal are announced by the steps that cause them.
  it.each([
    ["an issue", issued],
    ["an expiry", expired],
    ["a refused code", refused],
  ])("says nothing of %s", (_name, outcome) => {
    expect(transitionEvents(undefined, {}, outcome)).toEqual([]);
    expect(transitionEvents(previous("SecretConflict"), {}, outcome)).toEqual([]);
  });
});

import { describe, expect, it } from "vitest";
import { accountCounts } from "../../../../src/kinds/accountpolicy/counts.js";

const NOW = new Date("2026-11-22T12:00:00Z");
const LATER = "2026-11-22T13:00:00Z";
const EARLIER = "2026-11-22T11:00:00Z";
const T = "2026-11-01T00:00:00Z";

const meta = (name: string, extra: Record<string, unknown> = {}) => ({ name, namespace: "team-a", uid: `uid-${name}`, generation: 1, ...extra });
const condition = (type: string, status: string) => ({ type, status, reason: "R", message: "m", lastTransitionTime: T });

function accessKey(name: string, user: string, state: string, extra: { stale?: boolean; deleting?: boolean } = {}) {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "AccessKey",
    metadata: meta(name, extra.deleting ? { deletionTimestamp: T, finalizers: ["iam.keygate.dev/recycle"] } : {}),
    spec: { user, state },
    status: { accessKeyId: "KGAKAAAAAAAAAAAAAAAA", state, createdAt: T, conditions: extra.stale ? [condition("Stale", "True")] : [] },
  };
}

function device(name: string, user: string, bound: boolean) {
  return { apiVersion: "iam.keygate.dev/v1alpha1", kind: "MfaDevice", metadata: meta(name), spec: { user, type: "Virtual", deviceName: name }, status: { bound } };
}

function session(name: string, user: string, expiration?: string, expired = false) {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "TemporaryCredential",
    metadata: meta(name),
    spec: { user, durationSeconds: 3600 },
    status: expiration ? { expiration, conditions: [condition("Expired", expired ? "True" : "False")] } : {},
  };
}

describe("what an AccountPolicy's status counts", () => {
  it("counts nothing in an empty account", () => {
    expect(accountCounts({ accessKeys: [], mfaDevices: [], temporaryCredentials: [], now: NOW })).toEqual({
      users: 0,
      accessKeys: { active: 0, inactive: 0, stale: 0 },
      boundMfaDevices: 0,
      liveSessions: 0,
    });
  });

  it("counts keys by state and staleness, bound devices, live sessions, and each user once", () => {
    const counts = accountCounts({
      accessKeys: [
        accessKey("a1", "alice", "Active", { stale: true }),
        accessKey("a2", "alice", "Inactive"),
        accessKey("b1", "bob", "Active"),
        accessKey("gone", "zed", "Inactive", { deleting: true }),
      ],
      mfaDevices: [device("phone", "alice", true), device("spare", "carol", false)],
      temporaryCredentials: [session("s1", "dave", LATER), session("s2", "erin", EARLIER, true), session("s3", "frank"), session("s4", "gus", EARLIER)],
      now: NOW,
    });
    // alice, bob (keys), carol (a device, bound or not), dave (a live session); not zed, erin, frank, gus.
    expect(counts).toEqual({ users: 4, accessKeys: { active: 2, inactive: 1, stale: 1 }, boundMfaDevices: 1, liveSessions: 1 });
  });

  it("skips objects that do not parse", () => {
    expect(accountCounts({ accessKeys: [{ metadata: { name: "x" } }], mfaDevices: [null], temporaryCredentials: ["no"], now: NOW }).users).toBe(0);
  });
});

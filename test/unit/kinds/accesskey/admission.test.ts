import { describe, expect, it } from "vitest";
import type { AccessKey } from "../../../../src/api/accesskey.js";
import { admitAccessKey } from "../../../../src/kinds/accesskey/admission.js";
import type { AdmissionContext, AdmissionRequest } from "../../../../src/runtime/admission.js";
import { fakeContext } from "../support/admission-context.js";

function key(name: string, user: string, state: "Active" | "Inactive" = "Active"): AccessKey {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "AccessKey",
    metadata: { name, namespace: "ns", uid: `uid-${name}`, creationTimestamp: `2026-11-22T00:00:0${name.length}Z` },
    spec: { user, state },
  };
}

function context(keys: AccessKey[], terminating = false): AdmissionContext {
  return fakeContext({ objects: { accesskeys: keys }, terminating });
}

function create(object: AccessKey): AdmissionRequest {
  return { uid: "r1", operation: "CREATE", namespace: "ns", name: object.metadata.name, object, userInfo: { username: "alice" } };
}

function remove(oldObject: AccessKey, username = "alice"): AdmissionRequest {
  return { uid: "r2", operation: "DELETE", namespace: "ns", name: oldObject.metadata.name, oldObject, userInfo: { username } };
}

describe("AccessKey admission", () => {
  it("admits a user's first and second key", async () => {
    expect((await admitAccessKey(create(key("b", "alice")), context([key("a", "alice")]))).allowed).toBe(true);
  });

  it("refuses a third key, naming the user and the two keys, counting Inactive keys too", async () => {
    const verdict = await admitAccessKey(create(key("c", "alice")), context([key("a", "alice"), key("bb", "alice", "Inactive")]));
    expect(verdict.allowed).toBe(false);
    expect(verdict.message).toContain("user alice already has 2 access keys (a and bb)");
  });

  it("does not count another user's keys", async () => {
    expect((await admitAccessKey(create(key("c", "alice")), context([key("a", "bob"), key("b", "bob")]))).allowed).toBe(true);
  });

  it("refuses to delete an Active key and says how to proceed", async () => {
    const verdict = await admitAccessKey(remove(key("a", "alice")), context([]));
    expect(verdict).toEqual({ allowed: false, message: expect.stringContaining("set spec.state to Inactive first") as string });
  });

  it("lets an Inactive key be deleted", async () => {
    expect((await admitAccessKey(remove(key("a", "alice", "Inactive")), context([]))).allowed).toBe(true);
  });

  it("never blocks the namespace controller, the garbage collector or a terminating namespace", async () => {
    const active = key("a", "alice");
    expect((await admitAccessKey(remove(active, "system:serviceaccount:kube-system:namespace-controller"), context([]))).allowed).toBe(true);
    expect((await admitAccessKey(remove(active, "system:serviceaccount:kube-system:generic-garbage-collector"), context([]))).allowed).toBe(true);
    expect((await admitAccessKey(remove(active), context([], true))).allowed).toBe(true);
  });
});

import { describe, expect, it } from "vitest";
import { admitRecycledAccessKey, READ_ONLY_MESSAGE } from "../../../../src/kinds/recycledaccesskey/admission.js";
import type { AdmissionRequest } from "../../../../src/runtime/admission.js";
import { fakeContext, OPERATOR } from "../support/admission-context.js";

const context = fakeContext();

function request(operation: AdmissionRequest["operation"], username: string | undefined): AdmissionRequest {
  return { uid: "r1", operation, namespace: "team-a", name: "kgakaaaaaaaaaaaaaaaa", userInfo: username === undefined ? undefined : { username } };
}

describe("RecycledAccessKey admission", () => {
  it.each([
    ["a user's create", "CREATE", "alice@example"],
    ["a user's update", "UPDATE", "alice@example"],
    ["a cluster admin's update", "UPDATE", "kubernetes-admin"],
    ["a request with no identity", "CREATE", undefined],
  ] as const)("refuses %s, saying how to purge or restore instead", async (_name, operation, username) => {
    const verdict = await admitRecycledAccessKey(request(operation, username), context);
    expect(verdict).toEqual({ allowed: false, message: READ_ONLY_MESSAGE });
    expect(READ_ONLY_MESSAGE).toBe(
      "RecycledAccessKey is written by keygate only; delete it to purge the key for good, or restore it with spec.restoreFrom on a new AccessKey",
    );
  });

  it.each([
    ["the operator's create", "CREATE", OPERATOR],
    ["the operator's update (its finalizer)", "UPDATE", OPERATOR],
  ] as const)("admits %s", async (_name, operation, username) => {
    expect((await admitRecycledAccessKey(request(operation, username), context)).allowed).toBe(true);
  });

  it("lets anyone RBAC allows release a finalizer by hand, and change nothing else that way", async () => {
    const stored = { metadata: { name: "k", finalizers: ["iam.keygate.dev/purge"], labels: { a: "b" } }, spec: { user: "bob" } };
    const released = { ...stored, metadata: { ...stored.metadata, finalizers: [] } };
    const base = { ...request("UPDATE", "kubernetes-admin"), oldObject: stored };
    expect((await admitRecycledAccessKey({ ...base, object: released }, context)).allowed).toBe(true);
    const relabelled = { ...released, metadata: { ...released.metadata, labels: { a: "c" } } };
    expect((await admitRecycledAccessKey({ ...base, object: relabelled }, context)).allowed).toBe(false);
    const edited = { ...released, spec: { user: "mallory" } };
    expect((await admitRecycledAccessKey({ ...base, object: edited }, context)).allowed).toBe(false);
    expect((await admitRecycledAccessKey({ ...base, object: stored }, context)).allowed).toBe(false);
  });
});

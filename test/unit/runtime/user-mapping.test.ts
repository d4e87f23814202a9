import { describe, expect, it } from "vitest";
import { keygateUserOf } from "../../../src/runtime/user-mapping.js";

const mapping = { stripPrefixes: ["oidc:"] };

describe("keygateUserOf", () => {
  it("reads a ServiceAccount as the user of its name, in its own namespace only", () => {
    expect(keygateUserOf("system:serviceaccount:team-a:deployer", "team-a", mapping)).toBe("deployer");
    expect(keygateUserOf("system:serviceaccount:team-b:deployer", "team-a", mapping)).toBeUndefined();
  });

  it("never makes a user of other system identities", () => {
    expect(keygateUserOf("system:kube-controller-manager", "team-a", mapping)).toBeUndefined();
    expect(keygateUserOf("system:node:worker-1", "team-a", mapping)).toBeUndefined();
  });

  it("removes a configured prefix, and only a configured one", () => {
    expect(keygateUserOf("oidc:alice", "team-a", mapping)).toBe("alice");
    expect(keygateUserOf("alice", "team-a", mapping)).toBe("alice");
    expect(keygateUserOf("ldap:alice", "team-a", mapping)).toBeUndefined();
  });

  it("is no user when what is left is not a valid user name", () => {
    expect(keygateUserOf("oidc:", "team-a", mapping)).toBeUndefined();
    expect(keygateUserOf("alice smith", "team-a", mapping)).toBeUndefined();
    expect(keygateUserOf("a".repeat(65), "team-a", mapping)).toBeUndefined();
  });
});

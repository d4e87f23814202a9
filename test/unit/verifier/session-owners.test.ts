import type { KubernetesObject } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { SessionOwners } from "../../../src/verifier/session-owners.js";

const ID = "KGASABCDEFGHIJKLMNOP";

function session(name: string, accessKeyId: string | undefined, user = "alice"): KubernetesObject {
  return { metadata: { name, namespace: "team" }, spec: { user }, status: accessKeyId === undefined ? {} : { accessKeyId } } as KubernetesObject;
}

describe("the owners of session ids", () => {
  it("knows a session's id once its status shows it", () => {
    const owners = new SessionOwners();
    owners.put(session("s1", undefined));
    expect(owners.owner(ID)).toBeUndefined();
    owners.put(session("s1", ID));
    expect(owners.owner(ID)).toEqual({ accessKeyId: ID, namespace: "team", user: "alice" });
  });

  it("forgets it when the TemporaryCredential goes, even when the delete carries nothing but the name", () => {
    const owners = new SessionOwners();
    owners.put(session("s1", ID));
    owners.remove({ metadata: { name: "s1", namespace: "team" } });
    expect(owners.owner(ID)).toBeUndefined();
  });

  it("keeps no id that is not a temporary one, nor an object's former id", () => {
    const owners = new SessionOwners();
    owners.put(session("s1", "KGAKABCDEFGHIJKLMNOP"));
    expect(owners.owner("KGAKABCDEFGHIJKLMNOP")).toBeUndefined();
    owners.put(session("s2", ID));
    owners.put(session("s2", "KGASZZZZZZZZZZZZZZZZ"));
    expect(owners.owner(ID)).toBeUndefined();
    expect(owners.owner("KGASZZZZZZZZZZZZZZZZ")?.user).toBe("alice");
  });
});

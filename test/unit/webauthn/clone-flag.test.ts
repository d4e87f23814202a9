import { describe, expect, it } from "vitest";
import { cloneSuspectedPatch } from "../../../src/webauthn/clone-flag.js";

describe("showing a cloned security key on its MfaDevice", () => {
  it("patches status.cloneSuspectedAt only on the device the record belongs to (its uid)", () => {
    expect(cloneSuspectedPatch({ ownerUid: "uid-key", cloneSuspectedAt: "2030-01-01T00:00:00.000Z" })).toEqual([
      { op: "test", path: "/metadata/uid", value: "uid-key" },
      { op: "add", path: "/status/cloneSuspectedAt", value: "2030-01-01T00:00:00.000Z" },
    ]);
  });
});

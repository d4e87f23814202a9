import { describe, expect, it } from "vitest";
import { type UserSlots, userSlotsName, withClaimantId } from "../../../src/keystore/user-slots.js";

describe("a user's slot ledger", () => {
  const ledger: UserSlots = {
    namespace: "team",
    user: "alice",
    holders: [{ name: "old", uid: "uid-old" }, { name: "new", uid: "uid-new" }],
    resourceVersion: "3",
  };

  it("draws an id for the claimant only, never for a holder issued before ids were kept", () => {
    const claimed = withClaimantId(ledger, "uid-new", () => "KGAKNEWNEWNEWNEWNEWN");
    expect(claimed.holders).toEqual([{ name: "old", uid: "uid-old" }, { name: "new", uid: "uid-new", accessKeyId: "KGAKNEWNEWNEWNEWNEWN" }]);
    expect(claimed.resourceVersion).toBe("3");
  });

  it("keeps an id already fixed, so a retried claim never changes it", () => {
    const fixed: UserSlots = { ...ledger, holders: [{ name: "new", uid: "uid-new", accessKeyId: "KGAKFIXEDFIXEDFIXEDF" }] };
    expect(withClaimantId(fixed, "uid-new", () => "KGAKOTHEROTHEROTHERO").holders[0]?.accessKeyId).toBe("KGAKFIXEDFIXEDFIXEDF");
  });

  it("is one Secret per namespace and user, whatever characters they hold", () => {
    expect(userSlotsName("team", "alice")).toMatch(/^kgus-[0-9a-f]{40}$/);
    expect(userSlotsName("team", "alice")).not.toBe(userSlotsName("team", "bob"));
    expect(userSlotsName("team-a", "lice")).not.toBe(userSlotsName("team", "a-lice"));
  });
});

import { describe, expect, it } from "vitest";
import type { AccessKey } from "../../../src/api/accesskey.js";
import { ROTATING_FROM_ANNOTATION } from "../../../src/labels.js";
import { nextRotationStep, type RotationInput } from "../../../src/plugin/rotation.js";

const NOW = Date.parse("2026-11-29T07:00:00Z");
const MINUTE = 60_000;

function key(name: string, state: "Active" | "Inactive", lastUsedMinutesAgo: number, rotatingFrom?: string): AccessKey {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "AccessKey",
    metadata: { name, annotations: rotatingFrom === undefined ? {} : { [ROTATING_FROM_ANNOTATION]: rotatingFrom } },
    spec: { user: "alice", state },
    status: { accessKeyId: `KGAK${name.toUpperCase().padEnd(16, "A")}`, lastUsed: { time: new Date(NOW - lastUsedMinutesAgo * MINUTE).toISOString() } },
  };
}

const input = (keys: AccessKey[], force = false): RotationInput => ({ user: "alice", keys, now: NOW, quietForMs: 10 * MINUTE, force });

describe("the next step of rotating a user's key", () => {
  const rows: Array<[string, RotationInput, string]> = [
    ["a user with one key gets a second one", input([key("old", "Active", 1)]), "create"],
    ["a new key waits while the old one was used within --quiet-for", input([key("old", "Active", 3), key("new", "Active", 0, "old")]), "wait-quiet"],
    ["a quiet old key is deactivated", input([key("old", "Active", 11), key("new", "Active", 0, "old")]), "deactivate"],
    ["--force deactivates a key still in use", input([key("old", "Active", 1), key("new", "Active", 0, "old")], true), "deactivate"],
    ["an inactive old key is deleted", input([key("old", "Inactive", 1), key("new", "Active", 0, "old")]), "delete"],
    ["a rotation whose old key is gone is finished", input([key("new", "Active", 0, "old")]), "finish"],
    ["an old key is kept while the rotation's new key is not issued", input([key("old", "Active", 60), { ...key("new", "Active", 0, "old"), status: {} }]), "refuse"],
    ["a user without a key has nothing to rotate", input([]), "refuse"],
    ["a user with two keys and no rotation under way is refused", input([key("a", "Active", 1), key("b", "Active", 5)]), "refuse"],
  ];
  it.each(rows)("%s", (_, given, step) => {
    expect(nextRotationStep(given).step).toBe(step);
  });

  it("waits until the instant the old key has been unused for --quiet-for, not longer", () => {
    const next = nextRotationStep(input([key("old", "Active", 3), key("new", "Active", 0, "old")]));
    expect(next).toMatchObject({ step: "wait-quiet", until: NOW + 7 * MINUTE });
  });

  it("names both keys when refusing a third, and says to remove the inactive one", () => {
    const next = nextRotationStep(input([key("a", "Active", 1), key("b", "Inactive", 5)]));
    expect(next.step === "refuse" && next.message).toMatch(
      /^user alice already has two access keys, KGAKAAAAAAAAAAAAAAAA \(accesskey\/a, Active, .*\) and KGAKBAAAAAAAAAAAAAAA \(accesskey\/b, Inactive, .*\): remove KGAKBAAAAAAAAAAAAAAA first \(kubectl keygate delete b\)/,
    );
  });

  it("says to remove the least recently used key when both are active", () => {
    const next = nextRotationStep(input([key("a", "Active", 1), key("b", "Active", 50)]));
    expect(next.step === "refuse" && next.message).toContain("remove KGAKBAAAAAAAAAAAAAAA first");
  });
});

import { describe, expect, it } from "vitest";
import type { AccessKey } from "../../../src/api/accesskey.js";
import type { RecycledAccessKey } from "../../../src/api/recycledaccesskey.js";
import { keyNote, lastUseText, renderKeyTable, staleWarnings } from "../../../src/plugin/key-table.js";
import { ownerOf } from "../../../src/plugin/owners.js";
import { renderRecycleBin } from "../../../src/plugin/recycle-bin-table.js";
import { age, relative, utcMinute } from "../../../src/plugin/time-text.js";

const now = new Date("2026-11-29T12:00:00Z");
const condition = (type: string, status: string, reason: string, message = ""): NonNullable<AccessKey["status"]>["conditions"] & object =>
  [{ type, status: status as "True", reason, message, lastTransitionTime: "2026-11-01T00:00:00Z" }];

function key(name: string, overrides: { status?: Partial<NonNullable<AccessKey["status"]>>; spec?: Partial<AccessKey["spec"]> } = {}): AccessKey {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "AccessKey",
    metadata: { name, namespace: "team-a", creationTimestamp: "2026-11-01T09:30:00Z" },
    spec: { user: "alice", state: "Active", ...overrides.spec },
    status: {
      accessKeyId: `KGAK${name.toUpperCase().padEnd(16, "A")}`,
      state: "Active",
      createdAt: "2026-11-01T09:30:00Z",
      lastUsed: { time: "2026-11-01T09:30:00Z" },
      conditions: condition("Ready", "True", "Issued"),
      ...overrides.status,
    },
  };
}

describe("the keys table", () => {
  const used = key("used", { status: { lastUsed: { time: "2026-11-29T10:00:00Z", service: "s3", region: "us-east-1", sourceIP: "10.0.0.7" } } });
  const unused = key("unused", { spec: { description: "ci" } });

  it("shows id, state, creation, last use and its service, region and address, oldest key first (then by name); never for a key not used since issue", () => {
    expect(renderKeyTable([used, unused], { now, wide: false, allUsers: false })).toBe(
      [
        "ID                     STATE    CREATED                LAST USED   SERVICE   REGION      SOURCE IP   NOTE",
        "KGAKUNUSEDAAAAAAAAAA   Active   2026-11-01 09:30 UTC   never",
        "KGAKUSEDAAAAAAAAAAAA   Active   2026-11-01 09:30 UTC   2h ago      s3        us-east-1   10.0.0.7",
        "",
      ].join("\n"),
    );
  });

  it("adds the user first with --all-users, and name, exact last use and description with -o wide", () => {
    const [header, row] = renderKeyTable([used, unused], { now, wide: true, allUsers: true }).split("\n");
    expect(header).toMatch(/^USER\s+ID\s+.*NOTE\s+NAME\s+LAST USED AT\s+DESCRIPTION$/);
    expect(row).toMatch(/^alice\s+KGAKUNUSED.*never\s+unused\s+ci$/);
  });

  it("notes a stale key and a key never issued, and warns with the Stale condition's message", () => {
    const stale = key("stale", { status: { conditions: [...condition("Ready", "True", "Issued"), ...condition("Stale", "True", "MaxKeyAgeExceeded", "older than 90d: rotate it")] } });
    const refused = key("third", { status: { conditions: condition("Ready", "False", "KeyLimitExceeded") } });
    expect(keyNote(stale)).toBe("stale: rotate it");
    expect(keyNote(refused)).toBe("not issued: KeyLimitExceeded");
    expect(keyNote(used)).toBe("");
    expect(staleWarnings([stale, used])).toEqual(["older than 90d: rotate it"]);
  });

  it("says how long ago and where a key was last used", () => {
    expect(lastUseText(used, now)).toBe("2h ago (service s3, region us-east-1, from 10.0.0.7)");
    expect(lastUseText(unused, now)).toBe("never");
  });
});

describe("times as a person reads them", () => {
  it.each([
    [0, "0s"],
    [59_000, "59s"],
    [61_000, "1m"],
    [3 * 3_600_000, "3h"],
    [30 * 86_400_000, "30d"],
  ])("gives %d ms as %s", (ms, text) => {
    expect(age(ms)).toBe(text);
  });

  it("tells past from future, and writes instants to the minute in UTC", () => {
    expect(relative("2026-11-29T11:00:00Z", now)).toBe("1h ago");
    expect(relative("2026-12-29T12:00:00Z", now)).toBe("in 30d");
    expect(utcMinute("2026-11-29T06:05:59Z")).toBe("2026-11-29 06:05 UTC");
  });
});

describe("the recycle bin and owner lookup", () => {
  const binned: RecycledAccessKey = {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "RecycledAccessKey",
    metadata: { name: "kgakbinnedaaaaaaaaaa", namespace: "team-a" },
    spec: { accessKeyId: "KGAKBINNEDAAAAAAAAAA", user: "alice", deletedBy: "oidc:alice", deletedAt: "2026-11-29T11:00:00Z", expiresAt: "2026-12-29T11:00:00Z", accessKeyName: "alice-x7k2p" },
  };

  it("lists the bin with who deleted each key and until when it is restorable", () => {
    expect(renderRecycleBin([binned], { now, wide: true }).split("\n")).toEqual([
      "ID                     USER    DELETED BY   DELETED   RESTORABLE UNTIL                ACCESSKEY     DESCRIPTION",
      "KGAKBINNEDAAAAAAAAAA   alice   oidc:alice   1h ago    2026-12-29T11:00:00Z (in 29d)   alice-x7k2p",
      "",
    ]);
  });

  it("finds the owner of a live, a deleted or a temporary key among the objects listed", () => {
    const live = key("live");
    const session = {
      apiVersion: "iam.keygate.dev/v1alpha1",
      kind: "TemporaryCredential",
      metadata: { name: "s", namespace: "team-b" },
      spec: { user: "bob", durationSeconds: 3600 },
      status: { accessKeyId: "KGASSESSIONAAAAAAAAA", expiration: "2026-11-29T13:00:00Z" },
    };
    const objects = [live, binned, session];
    expect(ownerOf("KGAKLIVEAAAAAAAAAAAA", objects)).toEqual({ accessKeyId: "KGAKLIVEAAAAAAAAAAAA", namespace: "team-a", user: "alice", object: "accesskey/live", state: "Active" });
    expect(ownerOf("KGAKBINNEDAAAAAAAAAA", objects)?.state).toBe("deleted, restorable until 2026-12-29T11:00:00Z");
    expect(ownerOf("KGASSESSIONAAAAAAAAA", objects)).toMatchObject({ namespace: "team-b", user: "bob", object: "temporarycredential/s", state: "temporary, expires 2026-11-29T13:00:00Z" });
    expect(ownerOf("KGAKNOBODYAAAAAAAAAA", objects)).toBeUndefined();
  });
});

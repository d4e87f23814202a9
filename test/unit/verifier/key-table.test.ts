import { describe, expect, it } from "vitest";
import type { KeyRecord } from "../../../src/keystore/record.js";
import { SealError } from "../../../src/keystore/seal.js";
import { KeyTable } from "../../../src/verifier/key-table.js";
import { accessKeyObject, recordSecret } from "./fixtures.js";

const ID = "KGAKAAAAAAAAAAAAAAAA";

function setup(open: (record: KeyRecord) => string = (record) => `secret-of-${record.sealed}`) {
  const opened: string[] = [];
  const failures: string[] = [];
  const table = new KeyTable(
    (record) => {
      opened.push(record.sealed);
      return open(record);
    },
    (record, error) => failures.push(`${record.accessKeyId}: ${error instanceof SealError ? error.code : String(error)}`),
  );
  return { table, opened, failures };
}

describe("the key table", () => {
  it("joins an Active record with its AccessKey by owner uid, with the secret opened", () => {
    const { table } = setup();
    table.putRecord(recordSecret(ID, "Active"));
    table.putAccessKey(accessKeyObject(ID, { allowedSourceCIDRs: ["10.0.0.0/8"] }));
    expect(table.lookup(ID)).toMatchObject({
      accessKeyId: ID,
      namespace: "team",
      user: "alice",
      secret: `secret-of-sealed-${ID}`,
      active: true,
      accessKey: { namespace: "team", name: `key-${ID.toLowerCase()}`, uid: `uid-${ID}` },
    });
    expect(table.lookup(ID)?.allowedSourceCIDRs).toHaveLength(1);
  });

  it("knows no key without its AccessKey, so an unknown network policy is never read as none", () => {
    const { table } = setup();
    table.putRecord(recordSecret(ID, "Active"));
    expect(table.lookup(ID)).toBeUndefined();
  });

  it("refuses an AccessKey of another namespace claiming the owner uid", () => {
    const { table } = setup();
    table.putRecord(recordSecret(ID, "Active"));
    table.putAccessKey(accessKeyObject(ID, { namespace: "elsewhere" }));
    expect(table.lookup(ID)).toBeUndefined();
  });

  it.each([
    ["the AccessKey says Inactive before the record follows", "Active", { state: "Inactive" }, false],
    ["the AccessKey is being deleted", "Active", { deleting: true }, false],
    ["the AccessKey was reactivated before the record follows (no operator running)", "Inactive", {}, true],
  ] as const)("follows the AccessKey's spec when %s", (_name, recordState, shape, active) => {
    const { table } = setup();
    table.putRecord(recordSecret(ID, recordState));
    table.putAccessKey(accessKeyObject(ID, shape));
    expect(table.lookup(ID)?.active).toBe(active);
  });

  it("stops knowing a key the moment its record is recycled or deleted, and drops the secret", () => {
    const { table } = setup();
    table.putAccessKey(accessKeyObject(ID));
    table.putRecord(recordSecret(ID, "Active"));
    table.putRecord(recordSecret(ID, "Recycled"));
    expect(table.lookup(ID)).toBeUndefined();
    expect(table.owner(ID)).toEqual({ accessKeyId: ID, namespace: "team", user: "alice" });
    table.removeRecord(recordSecret(ID, "Recycled"));
    expect(table.owner(ID)).toBeUndefined();
  });

  it("stops knowing a key when its AccessKey is deleted", () => {
    const { table } = setup();
    table.putRecord(recordSecret(ID, "Active"));
    table.putAccessKey(accessKeyObject(ID));
    table.removeAccessKey(accessKeyObject(ID));
    expect(table.lookup(ID)).toBeUndefined();
  });

  it("opens a secret once per sealed value, not on every state change", () => {
    const { table, opened } = setup();
    table.putAccessKey(accessKeyObject(ID));
    table.putRecord(recordSecret(ID, "Active"));
    table.putRecord(recordSecret(ID, "Inactive"));
    table.putRecord(recordSecret(ID, "Active"));
    expect(opened).toEqual([`sealed-${ID}`]);
  });

  it("opens again when the sealed value changes, though it keeps no sealed value once opened", () => {
    const { table, opened } = setup();
    table.putAccessKey(accessKeyObject(ID));
    table.putRecord(recordSecret(ID, "Active"));
    table.putRecord(recordSecret(ID, "Active", { sealed: "resealed-under-kek-2" }));
    expect(opened).toEqual([`sealed-${ID}`, "resealed-under-kek-2"]);
    expect(table.lookup(ID)?.secret).toBe("secret-of-resealed-under-kek-2");
  });

  it("opens again when the namespace the seal is bound to changes", () => {
    const { table, opened } = setup();
    table.putRecord(recordSecret(ID, "Active"));
    table.putRecord(recordSecret(ID, "Active", { namespace: "moved" }));
    expect(opened).toHaveLength(2);
  });

  it("leaves out a record that cannot be opened, reports it, and takes it once reopened", () => {
    let kekLoaded = false;
    const { table, failures } = setup((record) => {
      if (!kekLoaded) throw new SealError("KG_ERR_SEAL_UNKNOWN_KEK_VERSION", "no KEK with version 2");
      return `secret-of-${record.sealed}`;
    });
    table.putAccessKey(accessKeyObject(ID));
    table.putRecord(recordSecret(ID, "Active"));
    expect(table.lookup(ID)).toBeUndefined();
    expect(failures).toEqual([`${ID}: KG_ERR_SEAL_UNKNOWN_KEK_VERSION`]);
    kekLoaded = true;
    table.reopen();
    expect(table.lookup(ID)?.secret).toBe(`secret-of-sealed-${ID}`);
  });

  it("ignores Secrets that are not well-formed records, and forgets what such a Secret held before", () => {
    const { table } = setup();
    table.putAccessKey(accessKeyObject(ID));
    table.putRecord(recordSecret(ID, "Active"));
    const broken = recordSecret(ID, "Active");
    delete broken.data;
    table.putRecord(broken);
    expect(table.lookup(ID)).toBeUndefined();
  });

  it("counts records by state and shows the last use the status has", () => {
    const { table } = setup();
    table.putRecord(recordSecret(ID, "Active"));
    table.putRecord(recordSecret("KGAKBBBBBBBBBBBBBBBB", "Recycled"));
    table.putAccessKey(accessKeyObject(ID, { lastUsed: "2024-03-01T00:00:00Z" }));
    expect(table.counts()).toEqual({ Active: 1, Inactive: 0, Recycled: 1 });
    expect(table.lastUsedMs(`uid-${ID}`)).toBe(Date.parse("2024-03-01T00:00:00Z"));
  });
});

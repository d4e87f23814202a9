import { describe, expect, it } from "vitest";
import { issuance, keyNamePrefix } from "../../../src/plugin/access-keys.js";
import { renderObjects, renderTable } from "../../../src/plugin/output.js";
import { parseWarningHeader } from "../../../src/plugin/warnings.js";

describe("what the plugin prints", () => {
  it("renders kubectl's table: upper-case headers, padded columns, no trailing spaces", () => {
    expect(renderTable(["id", "state", "last used"], [["KGAK1", "Active", "2h ago"], ["KGAK22", "Inactive", ""]])).toBe(
      "ID       STATE      LAST USED\nKGAK1    Active     2h ago\nKGAK22   Inactive\n",
    );
  });

  it("renders one object as itself and several as a List", () => {
    expect(JSON.parse(renderObjects("json", [{ a: 1 }], true))).toEqual({ a: 1 });
    expect(renderObjects("yaml", [{ a: 1 }], false)).toBe('apiVersion: v1\nkind: List\nitems:\n  - a: 1\nmetadata:\n  resourceVersion: ""\n');
  });

  it("reads the API server's Warning header as kubectl does", () => {
    expect(parseWarningHeader('299 - "AccessKey k (KGAK) was used 2 hours ago, from 10.0.0.7", 299 - "say \\"hi\\""')).toEqual([
      "AccessKey k (KGAK) was used 2 hours ago, from 10.0.0.7",
      'say "hi"',
    ]);
  });

  it.each([
    ["alice", "alice-"],
    ["Alice.Smith@example.com", "alice-smith-example-com-"],
    ["___", "key-"],
    ["a".repeat(64), `${"a".repeat(40)}-`],
  ])("names a key of user %s by generateName %s", (user, prefix) => {
    expect(keyNamePrefix(user)).toBe(prefix);
  });
});

describe("waiting for a key to be issued", () => {
  const key = (ready: object | undefined, status: object = {}, generation = 1): object => ({
    metadata: { name: "k", generation },
    spec: { user: "alice" },
    status: { ...status, conditions: ready ? [{ type: "Ready", lastTransitionTime: "2026-01-01T00:00:00Z", observedGeneration: 1, ...ready }] : [] },
  });
  const issued = { accessKeyId: "KGAKABCDEFGHIJKLMNOP", createdAt: "2026-01-01T00:00:00Z", secretRef: { name: "k-credentials" } };

  it.each([
    ["waits while there is no Ready condition", key(undefined), undefined],
    ["waits while the controller is Pending", key({ status: "False", reason: "Pending", message: "" }), undefined],
    ["waits for a condition of the current generation", key({ status: "True", reason: "Issued", message: "" }, issued, 2), undefined],
    [
      "is done once Ready with its id and Secret",
      key({ status: "True", reason: "Issued", message: "" }, issued),
      { done: { accessKeyId: "KGAKABCDEFGHIJKLMNOP", createdAt: "2026-01-01T00:00:00Z", secretName: "k-credentials" } },
    ],
    [
      "fails with the controller's reason and message",
      key({ status: "False", reason: "KeyLimitExceeded", message: "user alice has 2 keys" }),
      { failed: "accesskey/k was not issued (KeyLimitExceeded): user alice has 2 keys" },
    ],
  ])("%s", (_, object, expected) => {
    expect(issuance(object)).toEqual(expected);
  });
});

import { describe, expect, it } from "vitest";
import { parseAccessKey } from "../../../src/api/accesskey.js";
import type { FieldIssue } from "../../../src/api/parse.js";

function manifest(spec: Record<string, unknown>, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "AccessKey",
    metadata: { name: "ci-deployer", namespace: "team-a" },
    spec,
    ...extra,
  };
}

function issuesOf(input: unknown): readonly FieldIssue[] {
  const result = parseAccessKey(input);
  if (result.ok) throw new Error("expected the AccessKey to be refused");
  return result.error.issues;
}

describe("parsing a valid AccessKey", () => {
  it("returns a typed value with state defaulted to Active, as the API server does", () => {
    const result = parseAccessKey(manifest({ user: "alice" }));
    expect(result.ok && result.value.spec).toEqual({ user: "alice", state: "Active" });
  });

  it("keeps every optional field", () => {
    const spec = {
      user: "svc.deploy+ci@team_a",
      state: "Inactive",
      secretName: "deployer.keys",
      description: "CI deploy key",
      allowedSourceCIDRs: ["203.0.113.0/24", "2001:db8::/32"],
      restoreFrom: "KGAKABCDEFGHIJKLMNOP",
    };
    const result = parseAccessKey(manifest(spec));
    expect(result.ok && result.value.spec).toEqual(spec);
  });

  it("accepts a status as the controller writes it", () => {
    const status = {
      accessKeyId: "KGAKQRSTUVWXYZ234567",
      createdAt: "2025-01-02T03:04:05Z",
      state: "Active",
      lastUsed: { time: "2025-01-02T03:04:05Z", service: "s3", region: "us-east-1", sourceIP: "2001:db8::7" },
      secretRef: { name: "ci-deployer-credentials" },
      conditions: [
        {
          type: "Ready",
          status: "True",
          reason: "SecretIssued",
          message: "",
          lastTransitionTime: "2025-01-02T03:04:05Z",
          observedGeneration: 1,
        },
      ],
      observedGeneration: 1,
    };
    const result = parseAccessKey(manifest({ user: "alice" }, { status }));
    expect(result.ok && result.value.status).toEqual(status);
  });

  it("keeps metadata fields it does not model, so a parsed object can be written back", () => {
    const input = manifest({ user: "alice" });
    input.metadata = { name: "k", managedFields: [{ manager: "kubectl" }] };
    const result = parseAccessKey(input);
    expect(result.ok && result.value.metadata).toEqual({ name: "k", managedFields: [{ manager: "kubectl" }] });
  });
});

describe("parsing an invalid AccessKey names the field and the rule", () => {
  it.each([
    ["a missing user", {}, "spec.user", "required"],
    ["a user starting with a symbol", { user: "-alice" }, "spec.user", "pattern"],
    ["a user with a space", { user: "alice smith" }, "spec.user", "pattern"],
    ["a 65-character user", { user: "a".repeat(65) }, "spec.user", "maxLength 64"],
    ["an unknown state", { user: "a", state: "Disabled" }, "spec.state", "one of Active, Inactive"],
    ["an upper-case secretName", { user: "a", secretName: "Keys" }, "spec.secretName", "pattern"],
    ["a 254-character secretName", { user: "a", secretName: "a".repeat(254) }, "spec.secretName", "maxLength 253"],
    ["a 257-character description", { user: "a", description: "d".repeat(257) }, "spec.description", "maxLength 256"],
    ["a CIDR without prefix length", { user: "a", allowedSourceCIDRs: ["10.0.0.1"] }, "spec.allowedSourceCIDRs[0]", "pattern"],
    ["an IPv4 CIDR with leading zeros", { user: "a", allowedSourceCIDRs: ["10.0.0.0/8", "010.0.0.0/8"] }, "spec.allowedSourceCIDRs[1]", "cidr"],
    ["a CIDR with host bits set", { user: "a", allowedSourceCIDRs: ["10.0.0.1/8"] }, "spec.allowedSourceCIDRs[0]", "maskedCIDR"],
    ["a duplicate CIDR", { user: "a", allowedSourceCIDRs: ["10.0.0.0/8", "10.0.0.0/8"] }, "spec.allowedSourceCIDRs[1]", "unique"],
    ["65 CIDRs", { user: "a", allowedSourceCIDRs: Array.from({ length: 65 }, (_, i) => `10.${i}.0.0/16`) }, "spec.allowedSourceCIDRs", "maxItems 64"],
    ["a temporary id to restore from", { user: "a", restoreFrom: "KGASABCDEFGHIJKLMNOP" }, "spec.restoreFrom", "pattern"],
    ["a misspelt field", { user: "a", secretname: "keys" }, "spec.secretname", "unknown field"],
    ["a user of the wrong type", { user: 42 }, "spec.user", "type string"],
  ])("refuses %s", (_what, spec, path, rule) => {
    const issues = issuesOf(manifest(spec));
    expect(issues).toContainEqual(expect.objectContaining({ path, rule: expect.stringContaining(rule) as unknown }));
  });

  it("refuses another kind or apiVersion", () => {
    const issues = issuesOf({ ...manifest({ user: "a" }), kind: "Secret", apiVersion: "v1" });
    expect(issues.map((issue) => issue.path)).toEqual(["apiVersion", "kind"]);
  });

  it("refuses a name too long for the default Secret name only when spec.secretName is unset", () => {
    const longName = { name: "n".repeat(242) };
    expect(issuesOf({ ...manifest({ user: "a" }), metadata: longName })).toEqual([
      expect.objectContaining({ path: "metadata.name", rule: "defaultSecretNameFits" }),
    ]);
    expect(parseAccessKey({ ...manifest({ user: "a", secretName: "keys" }), metadata: longName }).ok).toBe(true);
    expect(parseAccessKey({ ...manifest({ user: "a" }), metadata: { name: "n".repeat(241) } }).ok).toBe(true);
  });

  it("refuses an IPv4-mapped source address in status", () => {
    const status = { lastUsed: { time: "2025-01-02T03:04:05Z", sourceIP: "::ffff:192.0.2.1" } };
    expect(issuesOf(manifest({ user: "a" }, { status }))).toEqual([
      expect.objectContaining({ path: "status.lastUsed.sourceIP", rule: "ip" }),
    ]);
  });

  it("refuses two conditions of the same type", () => {
    const ready = { type: "Ready", status: "True", reason: "SecretIssued", message: "", lastTransitionTime: "2025-01-02T03:04:05Z" };
    const issues = issuesOf(manifest({ user: "a" }, { status: { conditions: [ready, ready] } }));
    expect(issues).toEqual([expect.objectContaining({ path: "status.conditions[1]", rule: "unique" })]);
  });

  it("quotes no value in its message, so the error is safe to log", () => {
    const result = parseAccessKey(manifest({ user: "not a user name", description: "x".repeat(300) }));
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.error.code).toBe("KG_ERR_INVALID_RESOURCE");
      expect(result.error.message).toMatch(/^invalid AccessKey: spec\.user: .*spec\.description: /);
      expect(result.error.message).not.toContain("not a user name");
    }
  });

  it("refuses something that is not an object at all", () => {
    expect(issuesOf("AccessKey")).toEqual([expect.objectContaining({ path: "", rule: "type object" })]);
  });
});

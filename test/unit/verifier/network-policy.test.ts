import { describe, expect, it } from "vitest";
import { MemoryReplayStore } from "../../../src/replay/memory.js";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { parseClientIp } from "../../../src/verifier/ip.js";
import { AccountNetworks, networkPolicyDenial } from "../../../src/verifier/network-policy.js";
import { Verification } from "../../../src/verifier/verification.js";
import { signAcs3 } from "../../support/signers/acs3.js";
import { signHuawei } from "../../support/signers/huawei.js";
import { signSigV4 } from "../../support/signers/sigv4.js";
import { FakeKeys, KEY_ID, type KeyShape, SECRET } from "./fake-keys.js";

const NOW = new Date("2024-05-01T12:00:00Z");
const base: HttpRequestDescription = { method: "GET", rawPath: "/things", rawQuery: "a=1", headers: [["Host", "api.example.test"]] };
const pair = { accessKeyId: KEY_ID, secret: SECRET };

const SIGNED: Array<[string, () => HttpRequestDescription, string]> = [
  ["AWS4-HMAC-SHA256", () => signSigV4(base, { ...pair, region: "eu-west-1", service: "things" }, NOW), "AccessDenied"],
  ["ACS3-HMAC-SHA256", () => signAcs3(base, pair, NOW), "AccessKeyId.AccessPolicyDenied"],
  ["SDK-HMAC-SHA256", () => signHuawei(base, pair, NOW), "APIGW.0402"],
];

function ip(text: string) {
  const parsed = parseClientIp(text);
  if (!parsed) throw new Error(text);
  return parsed;
}

function verification(shape: KeyShape, account?: string[]): Verification {
  const keys = new FakeKeys(shape);
  keys.setAccount("team", account);
  return new Verification(keys, new MemoryReplayStore(() => NOW.getTime()), () => NOW);
}

async function answer(verifier: Verification, request: HttpRequestDescription, address: string | undefined): Promise<string> {
  const outcome = await verifier.verify(request, address === undefined ? undefined : ip(address));
  return outcome.allowed ? "allowed" : `${outcome.code} ${outcome.httpStatus}`;
}

describe("the account's network policy in verification", () => {
  it.each(SIGNED)("refuses a %s request from outside the account's CIDRs with %s, and allows one from inside", async (_scheme, sign, code) => {
    const verifier = verification({}, ["10.1.0.0/16"]);
    expect(await answer(verifier, sign(), "10.1.2.3")).toBe("allowed");
    expect(await answer(verifier, sign(), "10.2.0.1")).toBe(`${code} 403`);
    expect(await answer(verifier, sign(), undefined)).toBe(`${code} 403`);
  });

  it.each(SIGNED)("answers the key's own policy with the same code as the account's, for %s", async (_scheme, sign, code) => {
    expect(await answer(verification({ cidrs: ["10.1.0.0/16"] }), sign(), "10.2.0.1")).toBe(`${code} 403`);
  });

  it.each([
    ["inside both", "10.1.2.3", "allowed"],
    ["inside the key's list only", "10.9.0.1", "AccessDenied 403"],
    ["inside the account's list only", "10.1.9.9", "AccessDenied 403"],
  ])("needs both the key's and the account's lists to allow an address: %s", async (_case, address, expected) => {
    const verifier = verification({ cidrs: ["10.1.2.0/24", "10.9.0.0/16"] }, ["10.1.0.0/16"]);
    expect(await answer(verifier, SIGNED[0]?.[1]() ?? base, address)).toBe(expected);
  });

  it("names which list refused the address, never the address itself", async () => {
    const outcome = await verification({}, ["10.1.0.0/16"]).verify(SIGNED[0]?.[1]() ?? base, ip("10.2.0.1"));
    expect(outcome).toMatchObject({ allowed: false, message: "the client address is not in the account's allowedSourceCIDRs" });
    expect(JSON.stringify(outcome)).not.toContain("10.2.0.1");
  });

  it("leaves keys of an account without a policy as they were", async () => {
    expect(await answer(verification({}), SIGNED[1]?.[1]() ?? base, undefined)).toBe("allowed");
  });

  it("has one refusal per scheme, whatever the list", () => {
    expect(networkPolicyDenial("ACS3-HMAC-SHA256", "m")).toEqual({ allowed: false, code: "AccessKeyId.AccessPolicyDenied", message: "m", httpStatus: 403 });
  });
});

describe("the verifier's table of account networks", () => {
  const policy = (spec: Record<string, unknown>, name = "default") => ({ metadata: { name, namespace: "team" }, spec });

  it("keeps the default policy's list by namespace, and forgets it when the list or the policy goes", () => {
    const accounts = new AccountNetworks();
    accounts.put(policy({ allowedSourceCIDRs: ["10.0.0.0/8"] }));
    expect(accounts.of("team")).toHaveLength(1);
    accounts.put(policy({ requireMfa: true }));
    expect(accounts.of("team")).toBeUndefined();
    accounts.put(policy({ allowedSourceCIDRs: ["10.0.0.0/8"] }));
    accounts.remove(policy({}));
    expect(accounts.of("team")).toBeUndefined();
  });

  it("ignores a policy not named default: the API server refuses those", () => {
    const accounts = new AccountNetworks();
    accounts.put(policy({ allowedSourceCIDRs: ["10.0.0.0/8"] }, "other"));
    expect(accounts.of("team")).toBeUndefined();
  });

  it.each([
    ["an entry that is not a CIDR", ["10.0.0.0/8", "nonsense"]],
    ["a list that is not a list of strings", "10.0.0.0/8"],
  ])("allows nothing for %s, rather than nothing checked", (_case, cidrs) => {
    const accounts = new AccountNetworks();
    accounts.put(policy({ allowedSourceCIDRs: cidrs }));
    expect(accounts.of("team")).toEqual([]);
  });
});

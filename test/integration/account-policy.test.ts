import * as k8s from "@kubernetes/client-node";
import { generateSync } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AccessKey } from "../../src/api/accesskey.js";
import type { AccountPolicyStatus } from "../../src/api/accountpolicy.js";
import type { RunningVerifier } from "../../src/verifier/verifier.js";
import { type SignerName, signWith } from "../interop/signers/index.js";
import { apply, eventReasons, getKey, manifest, readSecretData, setState, waitForReason } from "../support/accesskeys.js";
import { kubectl, type TestNamespace, useNamespace } from "../support/cluster.js";
import { startTestOperator, startTestVerifier, type TestOperator } from "../support/operator.js";
import { postVerify, verifyBody } from "../support/verifier-http.js";
import { waitFor } from "../support/wait.js";

const GROUP = "iam.keygate.dev";
const VERSION = "v1alpha1";
const HOST = "api.example.internal";

function object(kind: string, name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name }, spec };
}

const policy = (spec: Record<string, unknown>) => object("AccountPolicy", "default", spec);

async function read<T>(ns: TestNamespace, plural: string, name: string): Promise<T | undefined> {
  try {
    return (await ns.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural, name })) as T;
  } catch (error) {
    if (error instanceof k8s.ApiException && error.code === 404) return undefined;
    throw error;
  }
}

function condition(status: { conditions?: Array<{ type: string; status: string; reason: string; message: string }> } | undefined, type: string) {
  return status?.conditions?.find((c) => c.type === type);
}

describe("AccountPolicy against the real API server", () => {
  let op: TestOperator;
  let verifier: RunningVerifier;

  beforeAll(async () => {
    op = await startTestOperator();
    verifier = await startTestVerifier(op.namespace, { trustLoopback: true, log: op.log, clock: op.clock });
  });

  afterAll(async () => {
    await verifier.stop();
    await op.operator.stop();
  });

  async function issued(ns: TestNamespace, name: string, spec: Record<string, unknown>): Promise<{ id: string; secret: string }> {
    await apply(ns, [manifest(name, spec)]);
    const key = await waitForReason(ns, name, spec.state === "Inactive" ? "Inactive" : "Issued");
    const data = (await readSecretData(ns, key.status?.secretRef?.name ?? "")) ?? {};
    return { id: data.accessKeyId ?? "", secret: data.secretAccessKey ?? "" };
  }

  function counts(ns: TestNamespace, expected: Partial<AccountPolicyStatus>): Promise<AccountPolicyStatus> {
    return waitFor(`the policy to count ${JSON.stringify(expected)}`, async () => {
      const status = (await read<{ status?: AccountPolicyStatus }>(ns, "accountpolicies", "default"))?.status;
      const { users, accessKeys, boundMfaDevices, liveSessions } = status ?? {};
      const current = { users, accessKeys, boundMfaDevices, liveSessions };
      return Object.entries(expected).every(([field, value]) => JSON.stringify(current[field as keyof typeof current]) === JSON.stringify(value)) ? status : undefined;
    });
  }

  async function staleMetric(): Promise<number> {
    const text = await (await fetch(`http://127.0.0.1:${op.operator.metricsPort}/metrics`)).text();
    return Number(/^keygate_access_keys_stale (\d+)$/m.exec(text)?.[1] ?? "NaN");
  }

  async function bindDevice(ns: TestNamespace, name: string, user: string): Promise<(ms: number) => string> {
    await apply(ns, [object("MfaDevice", name, { user, type: "Virtual", deviceName: name })]);
    const seed = (await waitFor("the seed", () => readSecretData(ns, `${name}-credentials`))).seed ?? "";
    const code = (ms: number): string => generateSync({ secret: seed, epoch: Math.floor(ms / 1000) });
    const now = op.clock.now();
    const verification = { code1: code(now - 30_000), code2: code(now) };
    await kubectl(["patch", "mfadevice", name, "-n", ns.name, "--type=merge", "-p", JSON.stringify({ spec: { verification } })]);
    await waitFor("the device to bind", async () => ((await read<{ status?: { bound?: boolean } }>(ns, "mfadevices", name))?.status?.bound ? true : undefined));
    return code;
  }

  describe("status", () => {
    const ns = useNamespace("acp");

    it("refuses any name but default, naming the rule", async () => {
      const error = await apply(ns, [object("AccountPolicy", "strict", {})]).then(
        () => "",
        (e: unknown) => String(e),
      );
      expect(error).toContain("an AccountPolicy must be named default");
    });

    it("counts users, keys by state, bound devices and live sessions, and follows creates and deletes", async () => {
      await apply(ns, [policy({})]);
      await counts(ns, { users: 0, accessKeys: { active: 0, inactive: 0, stale: 0 }, boundMfaDevices: 0, liveSessions: 0 });
      const ready = condition((await read<{ status?: AccountPolicyStatus }>(ns, "accountpolicies", "default"))?.status, "Ready");
      expect(ready).toMatchObject({ status: "True", reason: "Applied" });

      await issued(ns, "alice-1", { user: "alice" });
      await issued(ns, "bob-1", { user: "bob", state: "Inactive" });
      await counts(ns, { users: 2, accessKeys: { active: 1, inactive: 1, stale: 0 } });

      await bindDevice(ns, "carol-phone", "carol");
      await counts(ns, { users: 3, boundMfaDevices: 1 });

      await apply(ns, [object("TemporaryCredential", "dave-session", { user: "dave" })]);
      await counts(ns, { users: 4, liveSessions: 1 });

      await kubectl(["delete", "accesskey", "bob-1", "-n", ns.name, "--wait=true"]);
      await counts(ns, { users: 3, accessKeys: { active: 1, inactive: 0, stale: 0 } });
      await kubectl(["delete", "temporarycredential", "dave-session", "-n", ns.name, "--wait=true"]);
      await counts(ns, { users: 2, liveSessions: 0 });
    });
  });

  describe("maxKeyAge", () => {
    const ns = useNamespace("acp-age");

    it("marks a key Stale when the policy is set, at once for a key already older, with one Warning and the metric", async () => {
      await issued(ns, "old", { user: "alice" });
      const before = await waitFor("Stale=False", async () => {
        const found = condition((await getKey(ns, "old"))?.status, "Stale");
        return found?.reason === "NoMaxKeyAge" ? found : undefined;
      });
      expect(before.status).toBe("False");
      const staleBefore = await staleMetric();

      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await apply(ns, [policy({ maxKeyAge: "1s" })]);
      const stale = await waitFor("the key to turn stale", async () => {
        const key = await getKey(ns, "old");
        return condition(key?.status, "Stale")?.status === "True" ? key : undefined;
      });
      expect(condition(stale.status, "Stale")).toMatchObject({ reason: "MaxKeyAgeExceeded" });
      expect(condition(stale.status, "Stale")?.message).toContain("maxKeyAge of 1s");
      expect(condition(stale.status, "Stale")?.message).toContain("rotate it: create a second key, move clients, deactivate then delete this one");
      expect(condition(stale.status, "Ready")).toMatchObject({ status: "True", reason: "Issued" });
      await waitFor("the Warning", async () => ((await eventReasons(ns, "old")).includes("MaxKeyAgeExceeded") ? true : undefined));
      expect(await staleMetric()).toBe(staleBefore + 1);
      await counts(ns, { accessKeys: { active: 1, inactive: 0, stale: 1 } });

      // Deactivating it is a change of the key, not of its age: no second Warning.
      await setState(ns, "old", "Inactive");
      await waitForReason(ns, "old", "Inactive");
      expect((await eventReasons(ns, "old")).filter((reason) => reason === "MaxKeyAgeExceeded")).toHaveLength(1);
    });

    it("turns a younger key stale at the instant it reaches the limit, with nothing else to wake it", async () => {
      await apply(ns, [policy({ maxKeyAge: "4s" })]);
      await issued(ns, "young", { user: "bob" });
      const within = await waitFor("Stale=False within the limit", async () => {
        const found = condition((await getKey(ns, "young"))?.status, "Stale");
        return found?.reason === "WithinMaxKeyAge" ? found : undefined;
      });
      expect(within.status).toBe("False");
      const key = await waitFor("the key to turn stale", async () => {
        const found = await getKey(ns, "young");
        return condition(found?.status, "Stale")?.status === "True" ? found : undefined;
      }, 15_000);
      const createdAt = Date.parse(key.status?.createdAt ?? "");
      const turned = Date.parse((condition(key.status, "Stale") as { lastTransitionTime?: string } | undefined)?.lastTransitionTime ?? "");
      // Condition times have second precision: the instant it turned is within that second.
      const staleAt = createdAt + 4_000;
      expect(turned).toBeGreaterThanOrEqual(Math.floor(staleAt / 1000) * 1000);
      expect(turned).toBeLessThan(staleAt + 3_000);
    });

    it("clears Stale when the policy no longer sets a limit", async () => {
      await apply(ns, [policy({})]);
      await waitFor("Stale=False again", async () => {
        const key: AccessKey | undefined = await getKey(ns, "young");
        return condition(key?.status, "Stale")?.reason === "NoMaxKeyAge" ? true : undefined;
      });
    });
  });

  describe("allowedSourceCIDRs in the verifier", () => {
    const ns = useNamespace("acp-net");

    const schemes: Array<[SignerName, string, string]> = [
      ["aws-sdk-js-v3", "AWS4-HMAC-SHA256", "AccessDenied"],
      ["alibaba-openapi-util", "ACS3-HMAC-SHA256", "AccessKeyId.AccessPolicyDenied"],
      ["huawei-sdk-core", "SDK-HMAC-SHA256", "APIGW.0402"],
    ];

    async function sign(signer: SignerName, credentials: { id: string; secret: string; token?: string }) {
      const acs = signer === "alibaba-openapi-util" ? ([["x-acs-action", "ListThings"], ["x-acs-version", "2024-05-01"]] as const) : [];
      return signWith(signer, {
        accessKeyId: credentials.id,
        secret: credentials.secret,
        sessionToken: credentials.token,
        time: new Date(op.clock.now()),
        method: "GET",
        url: `https://${HOST}/v1/things`,
        headers: [["Content-Type", "application/json"], ...acs],
        aws: { region: "eu-west-1", service: "things" },
      });
    }

    async function outcomes(credentials: { id: string; secret: string; token?: string }, sourceIp: string): Promise<string[]> {
      const answers: string[] = [];
      for (const [signer] of schemes) {
        const answer = await postVerify(verifier.url, verifyBody(await sign(signer, credentials), sourceIp));
        answers.push(answer.json.allowed === true ? `${answer.status} allowed` : `${answer.status} ${String(answer.json.code)}`);
      }
      return answers;
    }

    const refusals = schemes.map(([, , code]) => `403 ${code}`);
    const allowed = schemes.map(() => "200 allowed");

    it("refuses every key of the account from outside its CIDRs, with each cloud's own code, and allows it from inside", async () => {
      const key = await issued(ns, "k1", { user: "alice" });
      await waitFor("the key to verify", async () => ((await outcomes(key, "192.0.2.1")).every((o) => o === "200 allowed") ? true : undefined), 10_000);
      await apply(ns, [policy({ allowedSourceCIDRs: ["10.1.0.0/16"] })]);
      await waitFor("the account's policy to apply", async () => (JSON.stringify(await outcomes(key, "192.0.2.1")) === JSON.stringify(refusals) ? true : undefined), 10_000);
      expect(await outcomes(key, "10.1.2.3")).toEqual(allowed);
    });

    it("needs the key's own list to allow the address too", async () => {
      const key = await issued(ns, "k2", { user: "bob", allowedSourceCIDRs: ["10.1.2.0/24"] });
      await waitFor("the key to verify", async () => ((await outcomes(key, "10.1.2.3"))[0] === "200 allowed" ? true : undefined), 10_000);
      expect(await outcomes(key, "10.1.9.9")).toEqual(refusals);
    });

    it("holds temporary credentials of the account to the same list", async () => {
      await apply(ns, [object("TemporaryCredential", "s1", { user: "carol" })]);
      const data = await waitFor("the session", () => readSecretData(ns, "s1-credentials"));
      const session = { id: data.accessKeyId ?? "", secret: data.secretAccessKey ?? "", token: data.sessionToken ?? "" };
      expect(await outcomes(session, "10.1.2.3")).toEqual(allowed);
      expect(await outcomes(session, "192.0.2.1")).toEqual(refusals);
    });

    it("lets every address in again once the policy is gone", async () => {
      const key = { id: (await getKey(ns, "k1"))?.status?.accessKeyId ?? "", secret: (await readSecretData(ns, "k1-credentials"))?.secretAccessKey ?? "" };
      await kubectl(["delete", "accountpolicy", "default", "-n", ns.name, "--wait=true"]);
      await waitFor("the policy to be forgotten", async () => ((await outcomes(key, "192.0.2.1")).every((o) => o === "200 allowed") ? true : undefined), 10_000);
    });
  });

  describe("requireMfa", () => {
    const ns = useNamespace("acp-mfa");

    // The admission webhook refuses such a session at create; the controller must hold when it is bypassed.
    async function createBypassingWebhook(name: string, user: string): Promise<void> {
      await op.operator.unregisterWebhook();
      try {
        await ns.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: "temporarycredentials", body: object("TemporaryCredential", name, { user }) });
      } finally {
        await op.operator.registerWebhook();
      }
    }

    function readyOf(name: string, reason: string) {
      return waitFor(`${name} to report ${reason}`, async () => {
        const found = condition((await read<{ status?: AccountPolicyStatus }>(ns, "temporarycredentials", name))?.status, "Ready");
        return found?.reason === reason ? found : undefined;
      });
    }

    it("issues nothing to a user with a bound device who gave no code, for good, with a Warning", async () => {
      await apply(ns, [policy({ requireMfa: true })]);
      await bindDevice(ns, "bob-phone", "bob");
      await createBypassingWebhook("no-code", "bob");
      const refused = await readyOf("no-code", "MfaRequired");
      expect(refused.status).toBe("False");
      expect(refused.message).toContain("spec.mfa");
      expect(await readSecretData(ns, "no-code-credentials")).toBeUndefined();
      await waitFor("the Warning", async () => ((await eventReasons(ns, "no-code")).includes("MfaRequired") ? true : undefined));

      // Lifting the policy afterwards does not issue it: the refusal was final.
      await apply(ns, [policy({ requireMfa: false })]);
      await kubectl(["annotate", "temporarycredential", "no-code", "-n", ns.name, "nudge=1", "--overwrite"]);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect((await readyOf("no-code", "MfaRequired")).status).toBe("False");
      expect(await readSecretData(ns, "no-code-credentials")).toBeUndefined();
    });

    it("issues a session to a user without a bound device, and one with a code", async () => {
      await apply(ns, [policy({ requireMfa: true })]);
      await createBypassingWebhook("no-device", "erin");
      await readyOf("no-device", "Issued");
      const code = await bindDevice(ns, "frank-phone", "frank");
      await apply(ns, [object("TemporaryCredential", "with-code", { user: "frank", mfa: { deviceName: "frank-phone", code: code(op.clock.now() + 30_000) } })]);
      await readyOf("with-code", "Issued");
    });
  });
});

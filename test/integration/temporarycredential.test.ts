import { Hash } from "@smithy/hash-node";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import * as k8s from "@kubernetes/client-node";
import { generateSync } from "otplib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signWith } from "../interop/signers/index.js";
import { signAcs3 } from "../support/signers/acs3.js";
import { signHuawei } from "../support/signers/huawei.js";
import type { HttpRequestDescription } from "../../src/signing/request.js";
import { signSigV4 } from "../support/signers/sigv4.js";
import type { RunningVerifier } from "../../src/verifier/verifier.js";
import { loadOrCreateKek } from "../../src/keystore/kek.js";
import { sealSecurityKey } from "../../src/keystore/mfa-record.js";
import { MfaRecordStore } from "../../src/keystore/mfa-store.js";
import { apply, manifest, readSecretData } from "../support/accesskeys.js";
import { kubectl, useNamespace } from "../support/cluster.js";
import { createOperatorNamespace, OffsetClock, startTestOperator, startTestVerifier, type TestOperator } from "../support/operator.js";
import { type HttpAnswer, httpSend, postVerify, verifyBody } from "../support/verifier-http.js";
import { waitFor } from "../support/wait.js";

const GROUP = "iam.keygate.dev";
const VERSION = "v1alpha1";
const PLURAL = "temporarycredentials";
const RETENTION_MS = 60_000;

interface Session {
  id: string;
  secret: string;
  token: string;
}

interface CredentialObject {
  status?: { accessKeyId?: string; expiration?: string; mfaAuthenticated?: boolean; conditions?: Array<{ type: string; reason: string; message: string }> };
}

function session(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: "TemporaryCredential", metadata: { name }, spec };
}

describe("TemporaryCredential against the real API server", () => {
  const ns = useNamespace("tmp");
  const clock = new OffsetClock();
  let operatorNamespace = "";
  let op: TestOperator;
  let verifier: RunningVerifier;
  const host = "api.example.internal";

  beforeAll(async () => {
    operatorNamespace = await createOperatorNamespace();
    op = await startTestOperator({ namespace: operatorNamespace, clock, sessionRetentionMs: RETENTION_MS });
    verifier = await startTestVerifier(operatorNamespace, { log: op.log, clock });
  });

  afterAll(async () => {
    await verifier.stop();
    await op.operator.stop();
  });

  async function read(name: string): Promise<CredentialObject | undefined> {
    try {
      return (await ns.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: PLURAL, name })) as CredentialObject;
    } catch (error) {
      if (error instanceof k8s.ApiException && error.code === 404) return undefined;
      throw error;
    }
  }

  function reason(name: string, expected: string, timeoutMs = 30_000): Promise<CredentialObject> {
    return waitFor(`${name} to report ${expected}`, async () => {
      const found = await read(name);
      return found?.status?.conditions?.find((c) => c.type === "Ready")?.reason === expected ? found : undefined;
    }, timeoutMs);
  }

  async function issued(name: string): Promise<Session> {
    await reason(name, "Issued");
    const data = (await readSecretData(ns, `${name}-credentials`)) ?? {};
    return { id: data.accessKeyId ?? "", secret: data.secretAccessKey ?? "", token: data.sessionToken ?? "" };
  }

  // Something to wake the controller now: the tests move the clock, not real time. Another event
  // may have woken it first and the object be gone already, which is what the test waits for.
  async function nudge(name: string): Promise<void> {
    await kubectl(["annotate", "temporarycredential", name, "-n", ns.name, `nudge=${Date.now()}`, "--overwrite"]).catch(
      (error: unknown) => {
        if (!String(error).includes("NotFound")) throw error;
      },
    );
  }

  function request(): HttpRequestDescription {
    return { method: "GET", rawPath: "/v1/things", rawQuery: "", headers: [["Host", host]] };
  }

  function verify(signed: HttpRequestDescription): Promise<HttpAnswer> {
    return postVerify(verifier.url, verifyBody(signed));
  }

  it("issues a session into a Secret in every SDK form, with its expiry", async () => {
    await apply(ns, [session("s1", { user: "alice", durationSeconds: 900 })]);
    const s = await issued("s1");
    expect(s.id).toMatch(/^KGAS[A-Z2-7]{16}$/);
    const data = (await readSecretData(ns, "s1-credentials")) ?? {};
    const status = (await read("s1"))?.status;
    expect(data).toMatchObject({
      AWS_ACCESS_KEY_ID: s.id,
      AWS_SECRET_ACCESS_KEY: s.secret,
      AWS_SESSION_TOKEN: s.token,
      ALIBABA_CLOUD_ACCESS_KEY_ID: s.id,
      ALIBABA_CLOUD_SECURITY_TOKEN: s.token,
      HUAWEICLOUD_SDK_AK: s.id,
      HUAWEICLOUD_SDK_SECURITY_TOKEN: s.token,
      expiration: status?.expiration,
    });
    expect(data.credentials).toContain(`aws_session_token = ${s.token}`);
    expect(Date.parse(status?.expiration ?? "") - clock.now()).toBeGreaterThan(890_000);
    expect(JSON.stringify(status)).not.toContain(s.secret);
  });

  it("verifies requests signed with the session, its token signed, in all three schemes", async () => {
    const s = await issued("s1");
    const now = new Date(clock.now());
    const sigv4 = signSigV4(request(), { accessKeyId: s.id, secret: s.secret, region: "eu-west-1", service: "things", sessionToken: s.token }, now);
    const acs3 = signAcs3(request(), { accessKeyId: s.id, secret: s.secret, securityToken: s.token }, now);
    const huawei = signHuawei(request(), { accessKeyId: s.id, secret: s.secret, securityToken: s.token }, now);
    for (const signed of [sigv4, acs3, huawei]) {
      const answer = await verify(signed);
      expect([answer.status, answer.json.principal]).toEqual([
        200,
        { namespace: ns.name, user: "alice", accessKeyId: s.id, credentialType: "TemporaryCredential", mfaAuthenticated: false },
      ]);
    }
  });

  // GetAccessKeyInfo answers for session ids too; the caller signs with a long-term key of its own.
  async function ownerOf(accessKeyId: string): Promise<HttpAnswer> {
    const data = (await readSecretData(ns, "caller-credentials")) ?? {};
    const target = `/v1/access-keys/${accessKeyId}/owner`;
    const lookup: HttpRequestDescription = { method: "GET", rawPath: target, rawQuery: "", headers: [["Host", new URL(verifier.url).host]] };
    const signed = signSigV4(lookup, { accessKeyId: data.accessKeyId ?? "", secret: data.secretAccessKey ?? "", region: "local", service: "sts" }, new Date(clock.now()));
    return httpSend(verifier.url, { method: "GET", target, headers: signed.headers });
  }

  it("tells the owner of a session id, in the same shape as a long-term key's", async () => {
    const s = await issued("s1");
    await apply(ns, [manifest("caller", { user: "svc" })]);
    const answer = await waitFor("the owner lookup to answer", async () => {
      const found = await ownerOf(s.id);
      return found.status === 200 ? found : undefined;
    });
    expect(answer.json).toEqual({ accessKeyId: s.id, namespace: ns.name, user: "alice" });
    const unknown = await ownerOf("KGASNOPENOPENOPENOPE");
    expect([unknown.status, unknown.json.code]).toEqual([404, "NoSuchEntity"]);
  });

  it("verifies a request signed by the AWS SDK v3 signer with the session credentials", async () => {
    const s = await issued("s1");
    const signer = new SignatureV4({
      credentials: { accessKeyId: s.id, secretAccessKey: s.secret, sessionToken: s.token },
      region: "eu-west-1",
      service: "things",
      sha256: Hash.bind(null, "sha256"),
    });
    const signed = await signer.sign(new HttpRequest({ method: "GET", hostname: host, path: "/v1/things", headers: { host } }), {
      signingDate: new Date(clock.now()),
    });
    const headers = Object.entries<string>(signed.headers);
    const answer = await verify({ method: "GET", rawPath: "/v1/things", rawQuery: "", headers });
    expect([answer.status, answer.json.allowed]).toEqual([200, true]);
  });

  it.each([
    ["botocore", "AWS4-HMAC-SHA256"],
    ["alibaba-openapi-util", "ACS3-HMAC-SHA256"],
    ["huawei-sdk-core", "SDK-HMAC-SHA256"],
  ] as const)("verifies a request signed by the real %s signer with the session token", async (signer, scheme) => {
    const s = await issued("s1");
    const acs = scheme === "ACS3-HMAC-SHA256" ? ([["x-acs-action", "ListThings"], ["x-acs-version", "2024-05-01"]] as const) : [];
    const signed = await signWith(signer, {
      accessKeyId: s.id,
      secret: s.secret,
      sessionToken: s.token,
      time: new Date(clock.now()),
      method: "GET",
      url: `https://${host}/v1/things`,
      headers: [["Content-Type", "application/json"], ...acs],
      aws: { region: "eu-west-1", service: "things" },
    });
    const answer = await postVerify(verifier.url, verifyBody(signed));
    expect([answer.status, answer.json.scheme, (answer.json.principal as { credentialType?: string }).credentialType]).toEqual([
      200,
      scheme,
      "TemporaryCredential",
    ]);
  });

  it("refuses a session key without its token, or with an altered one", async () => {
    const s = await issued("s1");
    const now = new Date(clock.now());
    const input = { accessKeyId: s.id, secret: s.secret, region: "eu-west-1", service: "things" };
    const missing = await verify(signSigV4(request(), input, now));
    expect([missing.status, missing.json.code]).toEqual([403, "InvalidClientTokenId"]);
    const altered = `${s.token.slice(0, -2)}${s.token.endsWith("A") ? "BB" : "AA"}`;
    const forged = await verify(signSigV4(request(), { ...input, sessionToken: altered }, now));
    expect([forged.status, forged.json.code]).toEqual([403, "InvalidClientTokenId"]);
  });

  it("refuses any change of the spec at the API server", async () => {
    const error = await kubectl(["patch", "temporarycredential", "s1", "-n", ns.name, "--type=merge", "-p", '{"spec":{"durationSeconds":1800}}']).then(
      () => "",
      (e: unknown) => String(e),
    );
    expect(error).toContain("spec is immutable");
  });

  it("refuses at the API server a spec.mfa that is not one code of a named device or one assertion", async () => {
    const assertion = { id: "AAAA", rawId: "AAAA", type: "public-key", response: { clientDataJSON: "AAAA", authenticatorData: "AAAA", signature: "AAAA" } };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ deviceName: "bob-phone", code: "123456", assertion }, "set exactly one of code or assertion"],
      [{ deviceName: "bob-phone" }, "set exactly one of code or assertion"],
      [{ code: "123456" }, "deviceName is required with code"],
      [{ deviceName: "bob-key", assertion }, "deviceName is only for code"],
    ];
    for (const [mfa, message] of cases) {
      const file = JSON.stringify(session("bad-mfa-shape", { user: "bob", mfa }));
      const error = await kubectl(["apply", "-n", ns.name, "-f", "-"], undefined, file).then(
        () => "",
        (e: unknown) => String(e),
      );
      expect(error, JSON.stringify(mfa)).toContain(message);
    }
    expect(await read("bad-mfa-shape")).toBeUndefined();
  });

  /** Creates and binds a virtual device; its codes, by instant. */
  async function bindVirtualDevice(name: string, user: string, deviceName: string): Promise<(ms: number) => string> {
    await apply(ns, [{ apiVersion: `${GROUP}/${VERSION}`, kind: "MfaDevice", metadata: { name }, spec: { user, type: "Virtual", deviceName } }]);
    const seedData = await waitFor("the seed", () => readSecretData(ns, `${name}-credentials`));
    const seed = seedData.seed ?? "";
    const code = (ms: number): string => generateSync({ secret: seed, epoch: Math.floor(ms / 1000) });
    const now = clock.now();
    const verification = { code1: code(now - 30_000), code2: code(now) };
    await kubectl(["patch", "mfadevice", name, "-n", ns.name, "--type=merge", "-p", JSON.stringify({ spec: { verification } })]);
    await waitFor("the device to bind", async () => {
      const device = (await ns.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: "mfadevices", name })) as { status?: { bound?: boolean } };
      return device.status?.bound ? true : undefined;
    });
    return code;
  }

  it("issues MFA-authenticated sessions with a good code, and nothing with a bad one", async () => {
    const code = await bindVirtualDevice("phone", "bob", "bob-phone");
    const now = clock.now();
    await apply(ns, [session("with-mfa", { user: "bob", mfa: { deviceName: "bob-phone", code: code(now + 30_000) } })]);
    const s = await issued("with-mfa");
    expect((await read("with-mfa"))?.status?.mfaAuthenticated).toBe(true);
    const signed = signSigV4(request(), { accessKeyId: s.id, secret: s.secret, region: "r", service: "things", sessionToken: s.token }, new Date(clock.now()));
    expect(((await verify(signed)).json.principal as { mfaAuthenticated: boolean }).mfaAuthenticated).toBe(true);

    await apply(ns, [session("bad-mfa", { user: "bob", mfa: { deviceName: "bob-phone", code: "000000" } })]);
    const refused = await reason("bad-mfa", "MfaFailed");
    expect(refused.status?.conditions?.[0]?.message).toContain("refused");
    expect(await readSecretData(ns, "bad-mfa-credentials")).toBeUndefined();
  });

  // Nothing makes device names unique per user. The key's record is made to list first (its name
  // sorts first): a code must name the virtual device whichever the API server lists first.
  it("checks a code against the virtual device when a security key has the same device name", async () => {
    const code = await bindVirtualDevice("dave-phone", "dave", "dave-phone");
    const core = ns.kc.makeApiClient(k8s.CoreV1Api);
    const records = new MfaRecordStore(core, operatorNamespace);
    const identity = { namespace: ns.name, ownerUid: "00000000-0000-4000-8000-000000000000" };
    await records.create({
      ...identity,
      user: "dave",
      deviceName: "dave-phone",
      deviceType: "SecurityKey",
      createdAt: new Date(clock.now()).toISOString(),
      sealed: sealSecurityKey(await loadOrCreateKek(core, operatorNamespace), identity, { userId: "AAAAAAAAAAAAAAAAAAAAAA" }),
      bound: true,
      lastAcceptedStep: 0,
      failedAttempts: 0,
      credentialId: "AAAAAAAAAAAAAAAAAAAAAA",
      rpId: "localhost",
      signCount: 0,
    });
    expect((await records.bound(ns.name, "dave")).map((record) => record.deviceType)).toEqual(["SecurityKey", undefined]);
    await apply(ns, [session("shared-name", { user: "dave", mfa: { deviceName: "dave-phone", code: code(clock.now() + 30_000) } })]);
    await issued("shared-name");
    expect((await read("shared-name"))?.status?.mfaAuthenticated).toBe(true);
  });

  it("issues 100 sessions for one user: there is no count limit", async () => {
    await apply(ns, Array.from({ length: 100 }, (_, i) => session(`many-${i}`, { user: "carol" })));
    const list = await waitFor("100 issued sessions", async () => {
      const found = (await ns.custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: PLURAL })) as {
        items: CredentialObject[];
      };
      const issuedCount = found.items.filter((item) => item.status?.conditions?.[0]?.reason === "Issued" && item.status.accessKeyId?.startsWith("KGAS")).length;
      return issuedCount >= 102 ? issuedCount : undefined;
    }, 120_000);
    expect(list).toBeGreaterThanOrEqual(102);
  });

  it("expires on time across an operator restart: ExpiredToken, Secret deleted, resource gone after retention", async () => {
    const s = await issued("s1");
    const sign = (): HttpRequestDescription =>
      signSigV4(request(), { accessKeyId: s.id, secret: s.secret, region: "r", service: "things", sessionToken: s.token }, new Date(clock.now()));
    await op.operator.stop();
    clock.advance(901_000);
    const expired = await verify(sign());
    expect([expired.status, expired.json.code]).toEqual([400, "ExpiredToken"]);
    op = await startTestOperator({ namespace: operatorNamespace, clock, sessionRetentionMs: RETENTION_MS });
    const after = await reason("s1", "Expired");
    expect(after.status?.accessKeyId).toBe(s.id);
    expect(await readSecretData(ns, "s1-credentials")).toBeUndefined();
    // As GetAccessKeyInfo, the owner is told whatever the key's state, while the session is known.
    expect((await ownerOf(s.id)).json).toEqual({ accessKeyId: s.id, namespace: ns.name, user: "alice" });
    clock.advance(RETENTION_MS);
    await nudge("s1");
    await waitFor("s1 to be removed", async () => ((await read("s1")) === undefined ? true : undefined));
    const gone = await waitFor("the removed session to be unknown", async () => {
      const found = await ownerOf(s.id);
      return found.status === 404 ? found : undefined;
    });
    expect(gone.json.code).toBe("NoSuchEntity");
  });
});

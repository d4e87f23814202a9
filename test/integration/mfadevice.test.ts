import * as k8s from "@kubernetes/client-node";
import jsQRModule from "jsqr";
import { generateSync } from "otplib";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mfaRecordName } from "../../src/keystore/mfa-record.js";
import { signSigV4 } from "../support/signers/sigv4.js";
import type { RunningVerifier } from "../../src/verifier/verifier.js";
import { apply, eventReasons, manifest, readSecretData, waitForReason } from "../support/accesskeys.js";
import { kubectl, useNamespace } from "../support/cluster.js";
import { startTestOperator, startTestVerifier, type TestOperator } from "../support/operator.js";
import { type HttpAnswer, httpSend } from "../support/verifier-http.js";
import { waitFor } from "../support/wait.js";

const jsQR = jsQRModule.default;

interface DeviceObject {
  metadata: { uid: string; generation: number };
  status?: { bound?: boolean; boundAt?: string; lockedUntil?: string; conditions?: Array<{ type: string; reason: string; message: string }> };
}

function device(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: "iam.keygate.dev/v1alpha1", kind: "MfaDevice", metadata: { name }, spec: { type: "Virtual", ...spec } };
}

// What an authenticator app does after scanning: read the QR code, keep the secret, show codes.
function scan(qrPngBase64: string): string {
  const png = PNG.sync.read(Buffer.from(qrPngBase64, "base64"));
  const uri = jsQR(new Uint8ClampedArray(png.data), png.width, png.height)?.data ?? "";
  return new URL(uri).searchParams.get("secret") ?? "";
}

function codeAt(secret: string, unixMs: number): string {
  return generateSync({ secret, epoch: Math.floor(unixMs / 1000) });
}

describe("MfaDevice (virtual) against the real API server", () => {
  const ns = useNamespace("mfa");
  let op: TestOperator;
  let verifier: RunningVerifier;
  let seed = "";
  let callerKey = { id: "", secret: "" };

  beforeAll(async () => {
    op = await startTestOperator();
    verifier = await startTestVerifier(op.namespace, { log: op.log });
  });

  afterAll(async () => {
    expect(op.logs.text()).not.toContain(seed);
    await verifier.stop();
    await op.operator.stop();
  });

  // In-cluster services call the MFA API with a request signed by a key of the same namespace.
  function mfaVerify(key: { id: string; secret: string }, body: object): Promise<HttpAnswer> {
    const host = new URL(verifier.url).host;
    const payload = Buffer.from(JSON.stringify(body));
    const signed = signSigV4(
      { method: "POST", rawPath: "/v1/mfa/verify", rawQuery: "", headers: [["Host", host], ["Content-Type", "application/json"]], body: payload },
      { accessKeyId: key.id, secret: key.secret, region: "local", service: "mfa" },
      new Date(),
    );
    return httpSend(verifier.url, { method: "POST", target: "/v1/mfa/verify", headers: signed.headers, body: payload });
  }

  async function read(name: string): Promise<DeviceObject> {
    return (await ns.custom.getNamespacedCustomObject({
      group: "iam.keygate.dev",
      version: "v1alpha1",
      namespace: ns.name,
      plural: "mfadevices",
      name,
    })) as DeviceObject;
  }

  async function reason(name: string, expected: string): Promise<DeviceObject> {
    return waitFor(`MfaDevice ${name} to report ${expected}`, async () => {
      const found = await read(name);
      return found.status?.conditions?.find((c) => c.type === "Ready")?.reason === expected ? found : undefined;
    });
  }

  it("issues a seed whose QR code an authenticator can scan, pending until bound", async () => {
    await apply(ns, [device("phone", { user: "alice", deviceName: "alice-phone" })]);
    await reason("phone", "Pending");
    const data = await waitFor("the seed Secret", () => readSecretData(ns, "phone-credentials"));
    const raw = await ns.core.readNamespacedSecret({ namespace: ns.name, name: "phone-credentials" });
    seed = scan(raw.data?.["qr.png"] ?? "");
    expect(seed).toMatch(/^[A-Z2-7]{32}$/);
    expect(seed).toBe(data.seed);
    expect(data.uri).toContain(`otpauth://totp/${ns.name}:alice?secret=${seed}&issuer=keygate`);
  });

  it("refuses wrong codes, saying so, and binds with two consecutive codes", async () => {
    await kubectl(["patch", "mfadevice", "phone", "-n", ns.name, "--type=merge", "-p", JSON.stringify({ spec: { verification: { code1: "000000", code2: "111111" } } })]);
    const refused = await reason("phone", "BindingFailed");
    expect(refused.status?.conditions?.[0]?.message).toMatch(/not a current code/);
    const now = Date.now();
    const verification = { code1: codeAt(seed, now - 30_000), code2: codeAt(seed, now) };
    await kubectl(["patch", "mfadevice", "phone", "-n", ns.name, "--type=merge", "-p", JSON.stringify({ spec: { verification } })]);
    const bound = await reason("phone", "Bound");
    expect(bound.status?.bound).toBe(true);
    expect(bound.status?.boundAt).toBeDefined();
    const { stdout } = await kubectl(["get", "mfa", "phone", "-n", ns.name]);
    expect(stdout).toMatch(/USER\s+TYPE\s+DEVICE\s+BOUND\s+AGE/);
    expect(stdout).toMatch(/alice\s+Virtual\s+alice-phone\s+true/);
  });

  it("removes the seed Secret once bound, so reading the namespace's Secrets yields no codes", async () => {
    const removed = await waitFor("the seed Secret's removal to show", async () => {
      const found = await reason("phone", "Bound");
      return found.status?.conditions?.[0]?.message.includes("seed Secret was removed") ? found : undefined;
    });
    expect((removed.status as { secretRef?: unknown }).secretRef).toBeUndefined();
    expect(await readSecretData(ns, "phone-credentials")).toBeUndefined();
    const { stdout } = await kubectl(["get", "secrets", "-n", ns.name, "-o", "json"]);
    const secrets = (JSON.parse(stdout) as { items: Array<{ data?: Record<string, string> }> }).items;
    expect(secrets.filter((secret) => secret.data?.seed !== undefined)).toEqual([]);
    expect(stdout).not.toContain(Buffer.from(seed).toString("base64"));
    await waitFor("the SeedSecretRemoved event", async () => ((await eventReasons(ns, "phone")).includes("SeedSecretRemoved") ? true : undefined));
  });

  it("does not issue the seed again after the operator restarts", async () => {
    expect(op.logs.text()).not.toContain(seed);
    await op.operator.stop();
    op = await startTestOperator({ namespace: op.namespace });
    // A new generation is reconciled only by the new operator: once it shows, it has judged the device.
    await kubectl(["patch", "mfadevice", "phone", "-n", ns.name, "--type=merge", "-p", JSON.stringify({ spec: { verification: { code1: "000000", code2: "111111" } } })]);
    const generation = (await read("phone")).metadata.generation;
    const judged = await waitFor("the restarted operator to reconcile the device", async () => {
      const found = await read("phone");
      return (found.status as { observedGeneration?: number } | undefined)?.observedGeneration === generation ? found : undefined;
    });
    expect(judged.status?.conditions?.[0]).toMatchObject({ reason: "Bound", message: expect.stringContaining("seed Secret was removed") as unknown });
    expect(await readSecretData(ns, "phone-credentials")).toBeUndefined();
  });

  it("verifies a current code once, refuses its reuse, and lets exactly one of two racing requests win", async () => {
    await apply(ns, [manifest("caller", { user: "svc" })]);
    await waitForReason(ns, "caller", "Issued");
    const data = (await readSecretData(ns, "caller-credentials")) ?? {};
    callerKey = { id: data.accessKeyId ?? "", secret: data.secretAccessKey ?? "" };
    await waitFor("the verifier to know the caller's key", async () =>
      (await mfaVerify(callerKey, { namespace: ns.name, user: "nobody", code: "123456" })).status === 200 ? true : undefined,
    );
    // The seed Secret is gone: codes verify from the keystore record alone.
    // Binding used the current step; the next step's code is the first one verification may accept.
    const next = codeAt(seed, Date.now() + 30_000);
    const racing = await Promise.all([
      mfaVerify(callerKey, { namespace: ns.name, user: "alice", code: next }),
      mfaVerify(callerKey, { namespace: ns.name, user: "alice", code: next }),
    ]);
    const verdicts = racing.map((answer) => JSON.stringify(answer.json)).sort();
    expect(verdicts).toEqual(['{"valid":false,"code":"CodeReused"}', '{"valid":true}']);
    const again = await mfaVerify(callerKey, { namespace: ns.name, user: "alice", code: next });
    expect(again.json).toEqual({ valid: false, code: "CodeReused" });
  });

  it("answers 403 to a caller of another namespace and 400 naming a malformed field", async () => {
    const other = await mfaVerify(callerKey, { namespace: "someone-else", user: "alice", code: "123456" });
    expect([other.status, other.json.code]).toEqual([403, "AccessDenied"]);
    const malformed = await mfaVerify(callerKey, { namespace: ns.name, user: "alice", code: "12" });
    expect([malformed.status, malformed.json.code]).toEqual([400, "InvalidRequest"]);
    expect(String(malformed.json.message)).toContain("code");
    const unsigned = await httpSend(verifier.url, {
      method: "POST",
      target: "/v1/mfa/verify",
      headers: [["Host", new URL(verifier.url).host]],
      body: Buffer.from("{}"),
    });
    expect(unsigned.status).toBe(403);
  });

  it("locks the user's device after five failures, with Retry-After", async () => {
    // The two reused codes above were failures one and two.
    for (let i = 0; i < 3; i++) {
      const wrong = await mfaVerify(callerKey, { namespace: ns.name, user: "alice", code: String(900000 + i) });
      expect(wrong.json).toEqual({ valid: false, code: "InvalidCode" });
    }
    const locked = await mfaVerify(callerKey, { namespace: ns.name, user: "alice", code: codeAt(seed, Date.now()) });
    expect([locked.status, locked.json.code]).toEqual([429, "MfaLocked"]);
    expect(Number(locked.headers["retry-after"])).toBeGreaterThan(240);
  });

  it("denies a second virtual device for the same user at admission", async () => {
    const error = await apply(ns, [device("tablet", { user: "alice", deviceName: "alice-tablet" })]).then(
      () => "",
      (e: unknown) => String(e),
    );
    expect(error).toContain("user alice already has a virtual MFA device (phone)");
  });

  it("locks binding for five minutes after five failed attempts", async () => {
    await apply(ns, [device("bob-phone", { user: "bob", deviceName: "bob-phone" })]);
    await reason("bob-phone", "Pending");
    for (let attempt = 0; attempt < 5; attempt++) {
      const verification = { code1: String(100000 + attempt), code2: String(200000 + attempt) };
      await kubectl(["patch", "mfadevice", "bob-phone", "-n", ns.name, "--type=merge", "-p", JSON.stringify({ spec: { verification } })]);
      const generation = (await read("bob-phone")).metadata.generation;
      await waitFor("the attempt to be judged", async () => {
        const found = await read("bob-phone");
        const ready = found.status?.conditions?.[0];
        return ready && found.status && (found as { status: { observedGeneration?: number } }).status.observedGeneration === generation
          ? ready
          : undefined;
      });
    }
    const locked = await reason("bob-phone", "BindingLocked");
    expect(Date.parse(locked.status?.lockedUntil ?? "")).toBeGreaterThan(Date.now() + 4 * 60_000);
  });

  it("unbinds on delete, once confirmed with YES: the keystore record is gone", async () => {
    const uid = (await read("phone")).metadata.uid;
    const unconfirmed = await kubectl(["delete", "mfadevice", "phone", "-n", ns.name, "--timeout=60s"]).catch((error: unknown) => String(error));
    expect(unconfirmed).toContain(`To confirm, type: kubectl annotate mfadevice phone -n ${ns.name} iam.keygate.dev/confirm-delete=YES`);
    expect((await read("phone")).status?.bound).toBe(true);
    await kubectl(["annotate", "mfadevice", "phone", "-n", ns.name, "iam.keygate.dev/confirm-delete=YES"]);
    await kubectl(["delete", "mfadevice", "phone", "-n", ns.name, "--timeout=60s"]);
    const core = ns.kc.makeApiClient(k8s.CoreV1Api);
    const gone = await core
      .readNamespacedSecret({ namespace: op.namespace, name: mfaRecordName(uid) })
      .then(() => false, (e: unknown) => e instanceof k8s.ApiException && e.code === 404);
    expect(gone).toBe(true);
    const answer = await mfaVerify(callerKey, { namespace: ns.name, user: "alice", code: codeAt(seed, Date.now()) });
    expect(answer.json).toEqual({ valid: false, code: "MfaDeviceNotFound" });
  });
});

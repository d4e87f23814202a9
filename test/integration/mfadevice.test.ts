import * as k8s from "@kubernetes/client-node";
import jsQRModule from "jsqr";
import { generateSync } from "otplib";
import { PNG } from "pngjs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mfaRecordName } from "../../src/keystore/mfa-record.js";
import { apply, readSecretData } from "../support/accesskeys.js";
import { kubectl, useNamespace } from "../support/cluster.js";
import { startTestOperator, type TestOperator } from "../support/operator.js";
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
  let seed = "";

  beforeAll(async () => {
    op = await startTestOperator();
  });

  afterAll(async () => {
    expect(op.logs.text()).not.toContain(seed);
    await op.operator.stop();
  });

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

  it("unbinds on delete: the keystore record is gone", async () => {
    const uid = (await read("phone")).metadata.uid;
    await kubectl(["delete", "mfadevice", "phone", "-n", ns.name, "--timeout=60s"]);
    const core = ns.kc.makeApiClient(k8s.CoreV1Api);
    const gone = await core
      .readNamespacedSecret({ namespace: op.namespace, name: mfaRecordName(uid) })
      .then(() => false, (e: unknown) => e instanceof k8s.ApiException && e.code === 404);
    expect(gone).toBe(true);
  });
});

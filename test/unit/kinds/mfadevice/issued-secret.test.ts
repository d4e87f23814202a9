import jsQRModule from "jsqr";
import { PNG } from "pngjs";
import { describe, expect, it } from "vitest";
import { buildMfaSecret } from "../../../../src/kinds/mfadevice/issued-secret.js";

// jsqr is CommonJS with a default export: under NodeNext typing it sits on `.default`.
const jsQR = jsQRModule.default;

describe("the MFA device Secret", async () => {
  const seed = Buffer.from("12345678901234567890", "ascii");
  const owner = { apiVersion: "iam.keygate.dev/v1alpha1", kind: "MfaDevice", name: "phone", uid: "u1", controller: true };
  const secret = await buildMfaSecret({ namespace: "team-a", user: "alice", secretName: "phone-credentials", owner }, seed);

  it("carries the base32 seed and the otpauth URI", () => {
    expect(secret.stringData?.seed).toBe("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ");
    expect(secret.stringData?.uri).toBe(
      "otpauth://totp/team-a:alice?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=keygate&algorithm=SHA1&digits=6&period=30",
    );
  });

  it("carries a QR code that a decoder reads back as the URI", () => {
    const png = PNG.sync.read(Buffer.from(secret.data?.["qr.png"] ?? "", "base64"));
    const decoded = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
    expect(decoded?.data).toBe(secret.stringData?.uri);
  });

  it("is immutable, labelled and owned by its device", () => {
    expect(secret.immutable).toBe(true);
    expect(secret.metadata?.labels?.["app.kubernetes.io/managed-by"]).toBe("keygate");
    expect(secret.metadata?.ownerReferences).toEqual([owner]);
  });
});

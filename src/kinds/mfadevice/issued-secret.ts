import type { V1Secret } from "@kubernetes/client-node";
import QRCode from "qrcode";
import { type IssuedSecretTarget, issuedSecretShell } from "../../runtime/kube.js";
import { otpauthUri, seedToBase32 } from "../../otp/totp.js";

export const MFA_DEVICE_LABEL = "iam.keygate.dev/mfa-device";
export const TOTP_ISSUER = "keygate";

export interface MfaSecretTarget extends IssuedSecretTarget {
  user: string;
}

/** The seed three ways: typed by hand, as a URI, and as a QR code a phone scans. */
export async function buildMfaSecret(target: MfaSecretTarget, seed: Buffer): Promise<V1Secret> {
  const uri = otpauthUri({ issuer: TOTP_ISSUER, namespace: target.namespace, user: target.user }, seed);
  const png = await QRCode.toBuffer(uri, { type: "png", errorCorrectionLevel: "M", margin: 2, scale: 6 });
  return {
    ...issuedSecretShell(target, MFA_DEVICE_LABEL),
    stringData: { seed: seedToBase32(seed), uri },
    data: { "qr.png": png.toString("base64") },
  };
}

import type { V1OwnerReference, V1Secret } from "@kubernetes/client-node";
import QRCode from "qrcode";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../labels.js";
import { otpauthUri, seedToBase32 } from "./totp.js";

export const MFA_DEVICE_LABEL = "iam.keygate.dev/mfa-device";
export const TOTP_ISSUER = "keygate";

export interface MfaSecretTarget {
  namespace: string;
  user: string;
  secretName: string;
  owner: V1OwnerReference;
}

/** The seed three ways: typed by hand, as a URI, and as a QR code a phone scans. */
export async function buildMfaSecret(target: MfaSecretTarget, seed: Buffer): Promise<V1Secret> {
  const uri = otpauthUri({ issuer: TOTP_ISSUER, namespace: target.namespace, user: target.user }, seed);
  const png = await QRCode.toBuffer(uri, { type: "png", errorCorrectionLevel: "M", margin: 2, scale: 6 });
  return {
    apiVersion: "v1",
    kind: "Secret",
    type: "Opaque",
    metadata: {
      name: target.secretName,
      namespace: target.namespace,
      labels: { [MANAGED_BY_LABEL]: MANAGED_BY, [MFA_DEVICE_LABEL]: target.owner.name },
      ownerReferences: [target.owner],
    },
    immutable: true,
    stringData: { seed: seedToBase32(seed), uri },
    data: { "qr.png": png.toString("base64") },
  };
}

import * as z from "zod";
import { conditions } from "./condition.js";
import type { KindDefinition } from "./kind.js";
import { type CelRule, immutable, immutableOptional, withKubernetes } from "./kubernetes.js";
import { resourceSchema, timestamp } from "./meta.js";
import { parseResource, type ParseResult } from "./parse.js";
import { checkDefaultSecretName, defaultSecretNameFits, secretName } from "./secret-name.js";
import { iamUserName } from "./user.js";
import { credentialId, registrationResponse } from "./webauthn.js";

export const MFA_DEVICE_KIND = "MfaDevice";
export const MFA_DEVICE_PLURAL = "mfadevices";

export const mfaDeviceType = z.enum(["Virtual", "SecurityKey"]);
export type MfaDeviceType = z.infer<typeof mfaDeviceType>;

const totpCode = z.string().regex(/^\d{6}$/, "must be a 6-digit code");

export const mfaDeviceSpec = withKubernetes(
  z
    .strictObject({
      user: iamUserName.describe("IAM-style user, inside this namespace, the device belongs to. Immutable."),
      type: mfaDeviceType.describe("Virtual: a TOTP authenticator app. SecurityKey: a FIDO2/WebAuthn authenticator. Immutable."),
      deviceName: z
        .string()
        .regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 letters, digits, '_' or '-'")
        .describe("Name of the device, as the clouds' consoles ask for it. Immutable."),
      secretName: secretName
        .describe("Virtual only: Secret the seed, otpauth URI and QR code are written to, once. Defaults to <metadata.name>-credentials. Immutable.")
        .optional(),
      verification: z
        .strictObject({
          code1: totpCode.describe("A code shown by the app."),
          code2: totpCode.describe("The code the app shows in the next 30-second step."),
        })
        .describe("Virtual only: two consecutive codes that prove the app holds the seed; binds the device.")
        .optional(),
      registration: registrationResponse
        .describe("SecurityKey only: the browser's answer to the challenge in status.registration; registers the key.")
        .optional(),
    })
    .describe("Desired state of the MFA device."),
  {
    "x-kubernetes-validations": [
      immutable("user"),
      immutable("type"),
      immutable("deviceName"),
      immutableOptional("secretName"),
      onlyFor("Virtual", "verification"),
      onlyFor("Virtual", "secretName"),
      onlyFor("SecurityKey", "registration"),
    ],
  },
);
export type MfaDeviceSpec = z.infer<typeof mfaDeviceSpec>;

function onlyFor(type: MfaDeviceType, field: string): CelRule {
  return { rule: `!has(self.${field}) || self.type == '${type}'`, message: `${field} is only for type ${type}`, fieldPath: `.${field}` };
}

export const mfaDeviceStatus = z
  .object({
    bound: z.boolean().describe("Whether possession was proven (two codes, or a registered key); only bound devices verify.").optional(),
    boundAt: timestamp.describe("When the device was bound.").optional(),
    failedAttempts: z.int().min(0).describe("Failed binding attempts since the last success or lockout.").optional(),
    lockedUntil: timestamp.describe("Binding is refused until then, after 5 failed attempts.").optional(),
    secretRef: z
      .object({ name: secretName.describe("Name of the Secret, in this namespace.") })
      .describe("Secret the seed was written to.")
      .optional(),
    registration: z
      .object({
        challenge: z.string().describe("The random challenge the authenticator must sign, base64url."),
        expiresAt: timestamp.describe("After this the challenge is refused and a new one is issued."),
        rpId: z.string().describe("The relying party id the key is registered for."),
        options: z
          .string()
          .describe("PublicKeyCredentialCreationOptionsJSON, for PublicKeyCredential.parseCreationOptionsFromJSON() and navigator.credentials.create()."),
      })
      .describe("SecurityKey: the registration ceremony to complete, while the key is not registered.")
      .optional(),
    credentialId: credentialId.describe("SecurityKey: the registered credential's id.").optional(),
    signCount: z.int().min(0).describe("SecurityKey: the highest signature counter seen.").optional(),
    cloneSuspectedAt: timestamp
      .describe("SecurityKey: when an assertion came with a counter not above the last one, a sign of a cloned authenticator. The key verifies no more; register it again.")
      .optional(),
    conditions: conditions.describe("Ready, with a reason, per the Kubernetes API conventions.").optional(),
    observedGeneration: z.int().min(0).describe("metadata.generation the status was computed from.").optional(),
  })
  .describe("Observed state of the MFA device.");
export type MfaDeviceStatus = z.infer<typeof mfaDeviceStatus>;

export const mfaDevice = resourceSchema(MFA_DEVICE_KIND, mfaDeviceSpec, mfaDeviceStatus).superRefine(checkDefaultSecretName);
export type MfaDevice = z.infer<typeof mfaDevice>;

export function parseMfaDevice(input: unknown): ParseResult<MfaDevice> {
  return parseResource(MFA_DEVICE_KIND, mfaDevice, input);
}

export const mfaDeviceDefinition: KindDefinition = {
  kind: MFA_DEVICE_KIND,
  plural: MFA_DEVICE_PLURAL,
  shortNames: ["mfa"],
  description: "A multi-factor authentication device (a TOTP app or a FIDO2 security key) of an IAM-style user of this namespace.",
  spec: mfaDeviceSpec,
  status: mfaDeviceStatus,
  validations: [defaultSecretNameFits],
  printerColumns: [
    { name: "User", type: "string", jsonPath: ".spec.user" },
    { name: "Type", type: "string", jsonPath: ".spec.type" },
    { name: "Device", type: "string", jsonPath: ".spec.deviceName" },
    { name: "Bound", type: "boolean", jsonPath: ".status.bound" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
  selectableFields: [".spec.user"],
};

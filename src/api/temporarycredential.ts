import * as z from "zod";
import { TEMPORARY_ACCESS_KEY_ID } from "../credentials/format.js";
import { conditions } from "./condition.js";
import type { KindDefinition } from "./kind.js";
import { withKubernetes } from "./kubernetes.js";
import { resourceSchema, timestamp } from "./meta.js";
import { parseResource, type ParseResult } from "./parse.js";
import { checkDefaultSecretName, defaultSecretNameFits, secretName } from "./secret-name.js";
import { iamUserName } from "./user.js";
import { authenticationResponse } from "./webauthn.js";

export const TEMPORARY_CREDENTIAL_KIND = "TemporaryCredential";
export const TEMPORARY_CREDENTIAL_PLURAL = "temporarycredentials";
export const MIN_DURATION_SECONDS = 900;
export const MAX_DURATION_SECONDS = 86_400;
export const DEFAULT_DURATION_SECONDS = 3600;

const temporaryCredentialMfa = withKubernetes(
  z.strictObject({
    deviceName: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, "must be 1-64 letters, digits, '_' or '-'").describe("The user's bound MFA device; required with code.").optional(),
    code: z.string().regex(/^\d{6}$/, "must be a 6-digit code").describe("A current code of the virtual device named by deviceName.").optional(),
    assertion: authenticationResponse
      .describe("A security key's answer to a challenge from the verifier's POST /v1/mfa/challenge for this user with purpose session.")
      .optional(),
  }),
  {
    "x-kubernetes-validations": [
      { rule: "has(self.code) != has(self.assertion)", message: "set exactly one of code or assertion" },
      { rule: "!has(self.code) || has(self.deviceName)", message: "deviceName is required with code", fieldPath: ".deviceName" },
      { rule: "!has(self.deviceName) || has(self.code)", message: "deviceName is only for code: an assertion names its key itself", fieldPath: ".deviceName" },
    ],
  },
);

export const temporaryCredentialSpec = withKubernetes(
  z
    .strictObject({
      user: iamUserName.describe("IAM-style user, inside this namespace, the session is issued to."),
      durationSeconds: z
        .int()
        .min(MIN_DURATION_SECONDS)
        .max(MAX_DURATION_SECONDS)
        .default(DEFAULT_DURATION_SECONDS)
        .describe("Lifetime of the session, 900 (15 minutes) to 86400 (24 hours)."),
      mfa: temporaryCredentialMfa
        .describe("Issue an MFA-authenticated session: a code of the virtual device, or a security key's assertion. Nothing is issued if it is refused.")
        .optional(),
      secretName: secretName
        .describe("Secret the session is written to, once. Defaults to <metadata.name>-credentials.")
        .optional(),
    })
    .describe("Desired session. Immutable: a session cannot be changed, only let expire or deleted."),
  { "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "spec is immutable" }] },
);
export type TemporaryCredentialSpec = z.infer<typeof temporaryCredentialSpec>;

export const temporaryCredentialStatus = z
  .object({
    accessKeyId: z.string().max(20).regex(TEMPORARY_ACCESS_KEY_ID, "must be a temporary access key id").describe("Public id of the temporary key.").optional(),
    issuedAt: timestamp.describe("When the session was issued.").optional(),
    expiration: timestamp.describe("When the session stops verifying; its Secret is deleted then.").optional(),
    mfaAuthenticated: z.boolean().describe("Whether the session was issued with a valid MFA code or security-key assertion.").optional(),
    secretRef: z
      .object({ name: secretName.describe("Name of the Secret, in this namespace.") })
      .describe("Secret the session was written to.")
      .optional(),
    conditions: conditions.describe("Ready and Expired, per the Kubernetes API conventions.").optional(),
    observedGeneration: z.int().min(0).describe("metadata.generation the status was computed from.").optional(),
  })
  .describe("Observed state of the session.");
export type TemporaryCredentialStatus = z.infer<typeof temporaryCredentialStatus>;

export const temporaryCredential = resourceSchema(
  TEMPORARY_CREDENTIAL_KIND,
  temporaryCredentialSpec,
  temporaryCredentialStatus,
).superRefine(checkDefaultSecretName);
export type TemporaryCredential = z.infer<typeof temporaryCredential>;

export function parseTemporaryCredential(input: unknown): ParseResult<TemporaryCredential> {
  return parseResource(TEMPORARY_CREDENTIAL_KIND, temporaryCredential, input);
}

export const temporaryCredentialDefinition: KindDefinition = {
  kind: TEMPORARY_CREDENTIAL_KIND,
  plural: TEMPORARY_CREDENTIAL_PLURAL,
  shortNames: ["tmpcred"],
  description: "An STS-style temporary access key, secret and session token for an IAM-style user of this namespace.",
  spec: temporaryCredentialSpec,
  status: temporaryCredentialStatus,
  validations: [defaultSecretNameFits],
  printerColumns: [
    { name: "ID", type: "string", jsonPath: ".status.accessKeyId" },
    { name: "User", type: "string", jsonPath: ".spec.user" },
    { name: "Expires", type: "date", jsonPath: ".status.expiration" },
    { name: "MFA", type: "boolean", jsonPath: ".status.mfaAuthenticated" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  ],
  selectableFields: [".spec.user"],
};

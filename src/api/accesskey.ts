import * as z from "zod";
import { ACCESS_KEY_ID_LENGTH, LONG_TERM_ACCESS_KEY_ID } from "../credentials/format.js";
import { conditions } from "./condition.js";
import type { KindDefinition } from "./kind.js";
import { immutable, immutableOptional, withKubernetes } from "./kubernetes.js";
import { setList } from "./lists.js";
import { resourceSchema, timestamp } from "./meta.js";
import { cidr, ipAddress } from "./network.js";
import { parseResource, type ParseResult } from "./parse.js";
import { checkDefaultSecretName, defaultSecretNameFits, secretName } from "./secret-name.js";
import { iamUserName } from "./user.js";

export const ACCESS_KEY_KIND = "AccessKey";
export const ACCESS_KEY_PLURAL = "accesskeys";

// Bounds the CEL cost of checking every entry at admission; generous for an allow-list.
const MAX_SOURCE_CIDRS = 64;

export const accessKeyState = z.enum(["Active", "Inactive"]);
export type AccessKeyState = z.infer<typeof accessKeyState>;

const longTermAccessKeyId = z
  .string()
  .max(ACCESS_KEY_ID_LENGTH)
  .regex(LONG_TERM_ACCESS_KEY_ID, "must be a long-term access key id: KGAK followed by 16 base32 characters");

export const accessKeySpec = withKubernetes(
  z
    .strictObject({
      user: iamUserName.describe("IAM-style user, inside this namespace, that owns the key. Immutable."),
      state: accessKeyState
        .default("Active")
        .describe("Active keys verify requests, Inactive keys are refused. A key must be Inactive before it can be deleted."),
      secretName: secretName
        .describe("Secret the key pair is written to, once. Defaults to <metadata.name>-credentials. Immutable.")
        .optional(),
      description: z.string().max(256).describe("Free text shown beside the key.").optional(),
      allowedSourceCIDRs: setList(cidr)
        .max(MAX_SOURCE_CIDRS)
        .describe("When set, requests signed with this key are accepted only from these IPv4/IPv6 networks.")
        .optional(),
      restoreFrom: longTermAccessKeyId
        .describe("Id of a deleted key of the same user to bring back from the recycle bin, with its secret. Immutable.")
        .optional(),
    })
    .describe("Desired state of the access key."),
  {
    // restoreFrom chooses the key's id and secret, which never change; so it cannot change either.
    "x-kubernetes-validations": [immutable("user"), immutableOptional("secretName"), immutableOptional("restoreFrom")],
  },
);
export type AccessKeySpec = z.infer<typeof accessKeySpec>;

export const accessKeyStatus = z
  .object({
    accessKeyId: longTermAccessKeyId.describe("Public id of the key.").optional(),
    createdAt: timestamp.describe("When the key was issued.").optional(),
    state: accessKeyState.describe("State the verification service currently applies.").optional(),
    lastUsed: z
      .object({
        time: timestamp.describe("Last successful verification; the issue time until the key is first used."),
        service: z.string().max(128).describe("Service named in the last verified request.").optional(),
        region: z.string().max(64).describe("Region named in the last verified request.").optional(),
        sourceIP: ipAddress.describe("Client address of the last verified request.").optional(),
      })
      .describe("Last use of the key, updated in batches.")
      .optional(),
    secretRef: z
      .object({ name: secretName.describe("Name of the Secret, in this namespace.") })
      .describe("Secret the key pair was written to.")
      .optional(),
    conditions: conditions.describe("Ready, with a reason, per the Kubernetes API conventions.").optional(),
    observedGeneration: z
      .int()
      .min(0)
      .describe("metadata.generation the status was computed from.")
      .optional(),
  })
  .describe("Observed state of the access key.");
export type AccessKeyStatus = z.infer<typeof accessKeyStatus>;

export const accessKey = resourceSchema(ACCESS_KEY_KIND, accessKeySpec, accessKeyStatus).superRefine(
  checkDefaultSecretName,
);
export type AccessKey = z.infer<typeof accessKey>;

export function parseAccessKey(input: unknown): ParseResult<AccessKey> {
  return parseResource(ACCESS_KEY_KIND, accessKey, input);
}

export const accessKeyDefinition: KindDefinition = {
  kind: ACCESS_KEY_KIND,
  plural: ACCESS_KEY_PLURAL,
  shortNames: ["ak"],
  description: "A long-term access key pair (AK/SK) for an IAM-style user of this namespace.",
  spec: accessKeySpec,
  status: accessKeyStatus,
  validations: [defaultSecretNameFits],
  printerColumns: [
    { name: "ID", type: "string", jsonPath: ".status.accessKeyId" },
    { name: "User", type: "string", jsonPath: ".spec.user" },
    { name: "State", type: "string", jsonPath: ".status.state" },
    { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
    { name: "Last Used", type: "date", jsonPath: ".status.lastUsed.time" },
    { name: "Ready", type: "string", jsonPath: '.status.conditions[?(@.type=="Ready")].status', priority: 1 },
  ],
  selectableFields: [".spec.user", ".spec.state"],
};

import * as z from "zod";
import { ACCESS_KEY_ID_LENGTH, LONG_TERM_ACCESS_KEY_ID } from "../credentials/format.js";
import { conditions } from "./condition.js";
import { API_VERSION } from "./group.js";
import type { KindDefinition } from "./kind.js";
import { withKubernetes } from "./kubernetes.js";
import { resourceSchema, timestamp } from "./meta.js";
import { parseResource, type ParseResult } from "./parse.js";
import { iamUserName } from "./user.js";

export const RECYCLED_ACCESS_KEY_KIND = "RecycledAccessKey";
export const RECYCLED_ACCESS_KEY_PLURAL = "recycledaccesskeys";
/** What a bin object says when the deleted AccessKey did not record who deleted it. */
export const UNKNOWN_DELETER = "unknown";

// The facts are spec, not status: they are fixed when the key is deleted and the operator writes
// them in the create itself (a status cannot be set on create), so the object is never seen
// without them and one CEL rule keeps them from ever changing. Status only reports the operator's
// work on the object.
export const recycledAccessKeySpec = withKubernetes(
  z
    .strictObject({
      accessKeyId: z
        .string()
        .max(ACCESS_KEY_ID_LENGTH)
        .regex(LONG_TERM_ACCESS_KEY_ID, "must be a long-term access key id: KGAK followed by 16 base32 characters")
        .describe("Id of the deleted key; restore it with spec.restoreFrom on a new AccessKey of the same user."),
      user: iamUserName.describe("IAM-style user the deleted key belonged to."),
      accessKeyName: z.string().max(253).describe("metadata.name of the deleted AccessKey; absent for keys deleted before the bin was visible.").optional(),
      description: z.string().max(256).describe("spec.description of the deleted AccessKey.").optional(),
      deletedBy: z.string().max(512).describe(`Who deleted the AccessKey, as the API server authenticated them; "${UNKNOWN_DELETER}" when it was not recorded.`),
      deletedAt: timestamp.describe("When the key moved to the recycle bin."),
      expiresAt: timestamp.describe("When the key is purged for good unless restored before: deletedAt plus the operator's retention."),
    })
    .describe("The deleted key, as keygate recorded it when it moved to the recycle bin. Written by keygate only; never the secret."),
  { "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "spec is immutable: RecycledAccessKey is written by keygate only" }] },
);
export type RecycledAccessKeySpec = z.infer<typeof recycledAccessKeySpec>;

export const recycledAccessKeyStatus = z
  .object({
    conditions: conditions.describe("Ready, with a reason, per the Kubernetes API conventions.").optional(),
    observedGeneration: z.int().min(0).describe("metadata.generation the status was computed from.").optional(),
  })
  .describe("Observed state of the recycled key.");
export type RecycledAccessKeyStatus = z.infer<typeof recycledAccessKeyStatus>;

export const recycledAccessKey = resourceSchema(RECYCLED_ACCESS_KEY_KIND, recycledAccessKeySpec, recycledAccessKeyStatus);
export type RecycledAccessKey = z.infer<typeof recycledAccessKey>;

export function parseRecycledAccessKey(input: unknown): ParseResult<RecycledAccessKey> {
  return parseResource(RECYCLED_ACCESS_KEY_KIND, recycledAccessKey, input);
}

/** Object names are lowercase; the id is upper case. One bin object per id, so `kubectl delete rak <id>` reads naturally. */
export function recycledAccessKeyName(accessKeyId: string): string {
  return accessKeyId.toLowerCase();
}

/** The bin object for a deleted key, with the finalizer that purges the key when it is deleted. */
export function recycledAccessKeyObject(namespace: string, spec: RecycledAccessKeySpec, finalizer: string): RecycledAccessKey {
  return {
    apiVersion: API_VERSION,
    kind: RECYCLED_ACCESS_KEY_KIND,
    metadata: { name: recycledAccessKeyName(spec.accessKeyId), namespace, finalizers: [finalizer] },
    spec,
  };
}

export const recycledAccessKeyDefinition: KindDefinition = {
  kind: RECYCLED_ACCESS_KEY_KIND,
  plural: RECYCLED_ACCESS_KEY_PLURAL,
  shortNames: ["rak"],
  description:
    "A deleted access key in the recycle bin of this namespace. Read-only: deleting it purges the key for good; " +
    "spec.restoreFrom on a new AccessKey brings it back.",
  spec: recycledAccessKeySpec,
  status: recycledAccessKeyStatus,
  validations: [],
  printerColumns: [
    { name: "ID", type: "string", jsonPath: ".spec.accessKeyId" },
    { name: "User", type: "string", jsonPath: ".spec.user" },
    { name: "Deleted By", type: "string", jsonPath: ".spec.deletedBy" },
    { name: "Deleted", type: "date", jsonPath: ".spec.deletedAt" },
    // A date column prints a future instant as "<invalid>": the expiry is shown as written.
    { name: "Expires", type: "string", jsonPath: ".spec.expiresAt" },
    { name: "AccessKey", type: "string", jsonPath: ".spec.accessKeyName", priority: 1 },
    { name: "Description", type: "string", jsonPath: ".spec.description", priority: 1 },
  ],
  selectableFields: [".spec.user"],
};

import * as z from "zod";
import { API_VERSION } from "./group.js";

// RFC 3339 as the API server writes metav1.Time; offsets are accepted because clients may send them.
export const timestamp = z.iso.datetime({ offset: true });

// The name rule Kubernetes applies to Secrets and most other objects (DNS-1123 subdomain).
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
export const DNS1123_SUBDOMAIN_MAX = 253;

export const dns1123Subdomain = z
  .string()
  .max(DNS1123_SUBDOMAIN_MAX)
  .regex(DNS1123_SUBDOMAIN, "must be lowercase letters, digits, '-' and '.', starting and ending alphanumeric");

// The metadata fields keygate reads. Loose, so that fields it does not model (managedFields,
// ownerReferences, …) survive a parse and a write back. `name` is optional as in Kubernetes:
// an object sent with `generateName` has none yet.
export const objectMeta = z.looseObject({
  name: z.string().optional(),
  generateName: z.string().optional(),
  namespace: z.string().optional(),
  uid: z.string().optional(),
  resourceVersion: z.string().optional(),
  generation: z.int().min(0).optional(),
  creationTimestamp: timestamp.optional(),
  deletionTimestamp: timestamp.optional(),
  labels: z.record(z.string(), z.string()).optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  finalizers: z.array(z.string()).optional(),
});
export type ObjectMeta = z.infer<typeof objectMeta>;

// The envelope every keygate object shares: the kind's own spec and status under the common
// apiVersion, kind and metadata.
export function resourceSchema<K extends string, Spec extends z.ZodType, Status extends z.ZodType>(
  kind: K,
  spec: Spec,
  status: Status,
) {
  return z.object({
    apiVersion: z.literal(API_VERSION),
    kind: z.literal(kind),
    metadata: objectMeta,
    spec,
    status: status.optional(),
  });
}

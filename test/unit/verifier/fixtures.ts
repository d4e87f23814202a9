import type { KubernetesObject, V1Secret } from "@kubernetes/client-node";
import { type KeyRecord, type RecordState, recordToSecret } from "../../../src/keystore/record.js";

export const OPERATOR_NAMESPACE = "keygate-system";

export function recordSecret(id: string, state: RecordState, extra: Partial<KeyRecord> = {}): V1Secret {
  return recordToSecret(
    {
      accessKeyId: id,
      namespace: "team",
      user: "alice",
      ownerUid: `uid-${id}`,
      state,
      createdAt: "2024-01-01T00:00:00.000Z",
      sealed: `sealed-${id}`,
      ...extra,
    },
    OPERATOR_NAMESPACE,
  );
}

export interface AccessKeyShape {
  state?: "Active" | "Inactive";
  allowedSourceCIDRs?: string[];
  deleting?: boolean;
  namespace?: string;
  lastUsed?: string;
}

export function accessKeyObject(id: string, shape: AccessKeyShape = {}): KubernetesObject {
  return {
    apiVersion: "iam.keygate.dev/v1alpha1",
    kind: "AccessKey",
    metadata: {
      name: `key-${id.toLowerCase()}`,
      namespace: shape.namespace ?? "team",
      uid: `uid-${id}`,
      ...(shape.deleting ? { deletionTimestamp: "2024-01-02T00:00:00Z", finalizers: ["iam.keygate.dev/recycle"] } : {}),
    },
    spec: {
      user: "alice",
      state: shape.state ?? "Active",
      ...(shape.allowedSourceCIDRs ? { allowedSourceCIDRs: shape.allowedSourceCIDRs } : {}),
    },
    ...(shape.lastUsed ? { status: { accessKeyId: id, lastUsed: { time: shape.lastUsed } } } : {}),
  } as KubernetesObject;
}

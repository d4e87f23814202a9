import { type AccessKey, parseAccessKey } from "../api/accesskey.js";
import { livingKeys } from "../kinds/accesskey/decide.js";
import { MAX_KEYS_PER_USER } from "../kinds/accesskey/reasons.js";
import { type MfaDevice, parseMfaDevice } from "../api/mfadevice.js";
import { livingDevices } from "../kinds/mfadevice/decide.js";

/** The part of an admission.k8s.io/v1 AdmissionRequest the AccessKey rules read. */
export interface AdmissionRequest {
  uid: string;
  operation: "CREATE" | "UPDATE" | "DELETE" | "CONNECT";
  namespace?: string;
  name?: string;
  object?: unknown;
  oldObject?: unknown;
  userInfo?: { username?: string };
}

export interface AdmissionVerdict {
  allowed: boolean;
  message?: string;
}

export interface AdmissionContext {
  /** AccessKeys of a namespace and user, from the operator's cache. */
  keysOf(namespace: string, user: string): AccessKey[];
  /** MfaDevices of a namespace and user, from the operator's cache. */
  devicesOf(namespace: string, user: string): MfaDevice[];
  /** Whether the namespace is being deleted: its contents must then always be deletable. */
  namespaceTerminating(namespace: string): Promise<boolean>;
}

// The controllers that delete on behalf of the cluster: a namespace being torn down or an owner
// gone. They must never be blocked, or a namespace would hang in Terminating.
export const CLUSTER_DELETERS: readonly string[] = [
  "system:serviceaccount:kube-system:namespace-controller",
  "system:serviceaccount:kube-system:generic-garbage-collector",
];

const ALLOW: AdmissionVerdict = { allowed: true };

function admitCreate(request: AdmissionRequest, context: AdmissionContext): AdmissionVerdict {
  const parsed = parseAccessKey(request.object);
  // The API server's schema validation reports malformed objects better than we could.
  if (!parsed.ok) return ALLOW;
  const key = parsed.value;
  const namespace = request.namespace ?? key.metadata.namespace ?? "";
  const existing = livingKeys(context.keysOf(namespace, key.spec.user)).filter(
    (peer) => peer.metadata.name !== key.metadata.name,
  );
  if (existing.length < MAX_KEYS_PER_USER) return ALLOW;
  const names = existing.map((peer) => peer.metadata.name).join(" and ");
  return {
    allowed: false,
    message:
      `user ${key.spec.user} already has ${MAX_KEYS_PER_USER} access keys (${names}) in namespace ${namespace}; ` +
      `at most ${MAX_KEYS_PER_USER} per user, Active and Inactive both count. Delete one first ` +
      "(set its spec.state to Inactive, then delete it).",
  };
}

async function admitDelete(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  const parsed = parseAccessKey(request.oldObject);
  if (!parsed.ok || parsed.value.spec.state !== "Active") return ALLOW;
  if (CLUSTER_DELETERS.includes(request.userInfo?.username ?? "")) return ALLOW;
  const namespace = request.namespace ?? "";
  if (await context.namespaceTerminating(namespace)) return ALLOW;
  return {
    allowed: false,
    message:
      `AccessKey ${request.name ?? ""} is Active: set spec.state to Inactive first, then delete it ` +
      "(an active key cannot be deleted, as in the clouds' consoles)",
  };
}

/** The AccessKey admission rules: the two-key cap on create, deactivate-before-delete. */
export function admitAccessKey(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  if (request.operation === "CREATE") return Promise.resolve(admitCreate(request, context));
  if (request.operation === "DELETE") return admitDelete(request, context);
  return Promise.resolve(ALLOW);
}

/** The MfaDevice rule: at most one Virtual device per user, refused at apply time. */
export function admitMfaDevice(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  const parsed = request.operation === "CREATE" ? parseMfaDevice(request.object) : undefined;
  if (!parsed?.ok || parsed.value.spec.type !== "Virtual") return Promise.resolve(ALLOW);
  const device = parsed.value;
  const namespace = request.namespace ?? device.metadata.namespace ?? "";
  const existing = livingDevices(context.devicesOf(namespace, device.spec.user)).filter(
    (peer) => peer.metadata.name !== device.metadata.name,
  );
  if (existing.length === 0) return Promise.resolve(ALLOW);
  return Promise.resolve({
    allowed: false,
    message:
      `user ${device.spec.user} already has a virtual MFA device (${existing.map((d) => d.metadata.name).join(", ")}) ` +
      `in namespace ${namespace}; at most one per user. Delete it first to bind another.`,
  });
}

import { parseAccessKey } from "../../api/accesskey.js";
import { peersOf } from "../../api/peers.js";
import { ALLOW, type AdmissionContext, type AdmissionRequest, type AdmissionVerdict, CLUSTER_DELETERS } from "../../runtime/admission.js";
import { livingKeys } from "./decide.js";
import { MAX_KEYS_PER_USER } from "./reasons.js";

// The two-key cap at apply time; the controller enforces it again whatever the webhook saw.
function admitCreate(request: AdmissionRequest, context: AdmissionContext): AdmissionVerdict {
  const parsed = parseAccessKey(request.object);
  // The API server's schema validation reports malformed objects better than we could.
  if (!parsed.ok) return ALLOW;
  const key = parsed.value;
  const namespace = request.namespace ?? key.metadata.namespace ?? "";
  const peers = peersOf(context.objectsIn(namespace), parseAccessKey, namespace, key.spec.user);
  const existing = livingKeys(peers).filter((peer) => peer.metadata.name !== key.metadata.name);
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
  if (await context.namespaceTerminating(request.namespace ?? "")) return ALLOW;
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

import { ACCESS_KEY_PLURAL, type AccessKey, parseAccessKey } from "../../api/accesskey.js";
import { peersOf } from "../../api/peers.js";
import { DELETED_BY_ANNOTATION } from "../../labels.js";
import { ALLOW, type AdmissionContext, type AdmissionRequest, type AdmissionVerdict, clusterDeleting, type FailOpen } from "../../runtime/admission.js";
import { accountSettingsIn } from "../account-policy-of.js";
import { ownersChanged, refuseActingFor, refuseForRawUser } from "../acting-for.js";
import { stampIdentity } from "../identity-stamps.js";
import { refuseUnprotected } from "../operation-protection.js";
import { livingKeys } from "./decide.js";
import { MAX_KEYS_PER_USER } from "./reasons.js";

// Huawei's console warns before deleting a key used this recently.
const RECENT_USE_MS = 7 * 24 * 60 * 60 * 1000;

function namespaceOf(request: AdmissionRequest, key: AccessKey): string {
  return request.namespace ?? key.metadata.namespace ?? "";
}

function adminsOnly(context: AdmissionContext, namespace: string): boolean {
  return accountSettingsIn(context, namespace).keyManagement === "AdminsOnly";
}

// The two-key cap at apply time; the controller enforces it again whatever the webhook saw.
function refuseThirdKey(key: AccessKey, namespace: string, context: AdmissionContext): AdmissionVerdict {
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

async function admitCreate(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  const parsed = parseAccessKey(request.object);
  // A malformed object is the API server's schema's to refuse; who acts for whom is still decided.
  if (!parsed.ok) return refuseForRawUser(request, context, "create an access key");
  const key = parsed.value;
  const namespace = namespaceOf(request, key);
  const action = { doing: "create an access key", user: key.spec.user, adminsOnly: adminsOnly(context, namespace) };
  return (await refuseActingFor(request, context, action)) ?? refuseThirdKey(key, namespace, context);
}

function stateChange(before: AccessKey, after: AccessKey): "enable" | "disable" | undefined {
  if (before.spec.state === after.spec.state) return undefined;
  return after.spec.state === "Active" ? "enable" : "disable";
}

async function admitUpdate(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  const before = parseAccessKey(request.oldObject);
  const after = parseAccessKey(request.object);
  if (!before.ok || !after.ok) return refuseForRawUser(request, context, "change an access key");
  const namespace = namespaceOf(request, after.value);
  const changing = stateChange(before.value, after.value);
  const admins = adminsOnly(context, namespace);
  if (ownersChanged(request)) return (await refuseActingFor(request, context, { doing: "set the owners of an access key", user: after.value.spec.user, adminsOnly: admins })) ?? ALLOW;
  // Other metadata-only writes (finalizers, labels) act for nobody.
  if (JSON.stringify(before.value.spec) === JSON.stringify(after.value.spec)) return ALLOW;
  const action = { doing: `${changing ?? "change"} an access key`, user: after.value.spec.user, adminsOnly: changing !== undefined && admins };
  return (await refuseActingFor(request, context, action)) ?? ALLOW;
}

type LastUsed = NonNullable<NonNullable<AccessKey["status"]>["lastUsed"]>;

function usedWhere(used: LastUsed): string {
  const parts = [used.service && `service ${used.service}`, used.region && `region ${used.region}`, used.sourceIP && `from ${used.sourceIP}`];
  const where = parts.filter(Boolean).join(", ");
  return where ? ` (${where})` : "";
}

// How long ago the key was last used, when it ever was: lastUsed starts at the issue time, as in the clouds.
function usedAgoMs(key: AccessKey, now: Date): number | undefined {
  const used = key.status?.lastUsed;
  if (!used || (used.service === undefined && used.time === key.status?.createdAt)) return undefined;
  return now.getTime() - Date.parse(used.time);
}

function recentUse(key: AccessKey, now: Date): string | undefined {
  const ago = usedAgoMs(key, now);
  const used = key.status?.lastUsed;
  if (ago === undefined || used === undefined || !(ago >= 0 && ago < RECENT_USE_MS)) return undefined;
  const hours = Math.floor(ago / 3_600_000);
  return (
    `AccessKey ${key.metadata.name ?? ""} (${key.status?.accessKeyId ?? "not issued"}) was used ` +
    `${hours < 1 ? "less than an hour" : `${hours} hours`} ago${usedWhere(used)}: ` +
    "clients may still depend on it. It stays in the recycle bin, restorable with spec.restoreFrom."
  );
}

function refuseActiveDelete(key: AccessKey): AdmissionVerdict | undefined {
  if (key.spec.state !== "Active") return undefined;
  return {
    allowed: false,
    message:
      `AccessKey ${key.metadata.name ?? ""} is Active: set spec.state to Inactive first, then delete it ` +
      "(an active key cannot be deleted, as in the clouds' consoles)",
  };
}

// Who deleted the key is shown in the recycle bin. The first delete of it counts; a dry run
// writes nothing, and nor does a delete that changes nothing.
async function recordDeleter(request: AdmissionRequest, context: AdmissionContext, key: AccessKey): Promise<void> {
  const username = request.userInfo?.username ?? "";
  if (request.dryRun === true || key.metadata.deletionTimestamp !== undefined || key.metadata.annotations?.[DELETED_BY_ANNOTATION] === username) return;
  await context.recordDeleter(ACCESS_KEY_PLURAL, namespaceOf(request, key), key.metadata.name ?? "", username);
}

async function admitDelete(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  if (await clusterDeleting(request, context)) return ALLOW;
  const parsed = parseAccessKey(request.oldObject);
  if (!parsed.ok) return refuseForRawUser(request, context, "delete an access key");
  const key = parsed.value;
  const namespace = namespaceOf(request, key);
  const refused =
    (await refuseActingFor(request, context, { doing: "delete an access key", user: key.spec.user, adminsOnly: adminsOnly(context, namespace) })) ??
    refuseActiveDelete(key);
  if (refused) return refused;
  await recordDeleter(request, context, key);
  const warning = recentUse(key, context.now());
  return warning ? { allowed: true, warnings: [warning] } : ALLOW;
}

/**
 * Deactivating a key is what an on-call engineer does first when it leaks; an outage of the
 * operator must not stand in the way. Such an update goes through unchecked when no replica
 * answers (the key's other fields may change with it, but not its state back to Active).
 */
export const DEACTIVATION: FailOpen = {
  name: "deactivation",
  expression: "request.operation == 'UPDATE' && object.spec.state == 'Inactive' && oldObject.spec.state != 'Inactive'",
};

/**
 * The AccessKey admission rules: who may act for the key's user (and access key protection), the
 * two-key cap on create, deactivate-before-delete and a warning for a recently used key.
 */
export function admitAccessKey(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  if (request.operation === "CREATE") return admitCreate(request, context);
  if (request.operation === "UPDATE") return admitUpdate(request, context);
  if (request.operation === "DELETE") return admitDelete(request, context);
  return Promise.resolve(ALLOW);
}

/**
 * The AccessKey mutation: who created it, recorded unforgeably, and operation protection, whose
 * MFA code is checked here and removed before the object is stored.
 */
export async function mutateAccessKey(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  const stamped = await stampIdentity(request, context);
  const doing = protectedOperation(request, context);
  if (doing === undefined) return stamped;
  // A code is used up once checked: whatever the validation would refuse is refused first.
  const validated = await admitAccessKey(request, context);
  if (!validated.allowed) return validated;
  return (await refuseUnprotected(request, context, doing)) ?? stamped;
}

/** What operation protection covers in a request: creating a key or changing its state, in words. */
function protectedOperation(request: AdmissionRequest, context: AdmissionContext): string | undefined {
  const after = parseAccessKey(request.object);
  if (!after.ok || !accountSettingsIn(context, namespaceOf(request, after.value)).operationProtection) return undefined;
  if (request.operation === "CREATE") return "creating an access key";
  const before = parseAccessKey(request.oldObject);
  const changing = before.ok ? stateChange(before.value, after.value) : undefined;
  if (changing === undefined) return undefined;
  return `${changing === "enable" ? "enabling" : "disabling"} an access key`;
}

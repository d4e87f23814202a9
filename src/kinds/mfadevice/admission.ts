import { type MfaDevice, parseMfaDevice } from "../../api/mfadevice.js";
import { peersOf } from "../../api/peers.js";
import { CONFIRM_DELETE_ANNOTATION, CONFIRM_DELETE_VALUE } from "../../labels.js";
import { ALLOW, type AdmissionContext, type AdmissionRequest, type AdmissionVerdict, clusterDeleting } from "../../runtime/admission.js";
import { accountSettingsIn } from "../account-policy-of.js";
import { ownersChanged, refuseActingFor, refuseForRawUser } from "../acting-for.js";
import { stampIdentity } from "../identity-stamps.js";
import { refuseUnprotected } from "../operation-protection.js";
import { DEVICE_LIMITS, livingDevices } from "./limits.js";

// Who holds the slots, the rule, and what to do; the existing rule's words for a virtual device.
function limitMessage(device: MfaDevice, namespace: string, existing: readonly MfaDevice[]): string {
  const holders = `(${existing.map((d) => d.metadata.name).join(", ")}) in namespace ${namespace}`;
  const user = device.spec.user;
  if (device.spec.type === "Virtual") return `user ${user} already has a virtual MFA device ${holders}; at most one per user. Delete it first to bind another.`;
  const limit = DEVICE_LIMITS.SecurityKey;
  return `user ${user} already has ${limit} security keys ${holders}; at most ${limit} per user. Delete one first to register another.`;
}

/** At most one Virtual device and eight security keys per user, refused at apply time. */
function refuseOverLimit(device: MfaDevice, namespace: string, context: AdmissionContext): AdmissionVerdict {
  const type = device.spec.type;
  const peers = peersOf(context.objectsIn(namespace), parseMfaDevice, namespace, device.spec.user);
  const existing = livingDevices(peers, type).filter((peer) => peer.metadata.name !== device.metadata.name);
  if (existing.length < DEVICE_LIMITS[type]) return ALLOW;
  return { allowed: false, message: limitMessage(device, namespace, existing) };
}

async function admitCreate(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  const parsed = parseMfaDevice(request.object);
  if (!parsed.ok) return refuseForRawUser(request, context, "add an MFA device");
  const namespace = request.namespace ?? parsed.value.metadata.namespace ?? "";
  const refused = await refuseActingFor(request, context, { doing: "add an MFA device", user: parsed.value.spec.user });
  return refused ?? refuseOverLimit(parsed.value, namespace, context);
}

function confirming(before: MfaDevice, after: MfaDevice): boolean {
  const confirmation = (device: MfaDevice) => device.metadata.annotations?.[CONFIRM_DELETE_ANNOTATION];
  return confirmation(after) === CONFIRM_DELETE_VALUE && confirmation(before) !== CONFIRM_DELETE_VALUE;
}

// What an update does for the device's user, in words; undefined: nothing (finalizers, labels).
function updating(request: AdmissionRequest, before: MfaDevice, after: MfaDevice): string | undefined {
  if (ownersChanged(request)) return "set the owners of an MFA device";
  if (confirming(before, after)) return "confirm the removal of an MFA device";
  if (JSON.stringify(before.spec) === JSON.stringify(after.spec)) return undefined;
  return after.spec.type === "SecurityKey" ? "register a security key" : "bind an MFA device";
}

async function admitUpdate(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  const before = parseMfaDevice(request.oldObject);
  const after = parseMfaDevice(request.object);
  if (!before.ok || !after.ok) return refuseForRawUser(request, context, "change an MFA device");
  const doing = updating(request, before.value, after.value);
  if (doing === undefined) return ALLOW;
  return (await refuseActingFor(request, context, { doing, user: after.value.spec.user })) ?? ALLOW;
}

// Unbinding a device is what an attacker holding someone's session would do first; Huawei asks
// the person to type YES. Here the confirmation is an annotation set before the delete.
async function admitDelete(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  if (await clusterDeleting(request, context)) return ALLOW;
  const parsed = parseMfaDevice(request.oldObject);
  if (!parsed.ok) return refuseForRawUser(request, context, "delete an MFA device");
  const device = parsed.value;
  const refused = await refuseActingFor(request, context, { doing: "delete an MFA device", user: device.spec.user });
  return refused ?? refuseUnconfirmed(device, request.namespace ?? device.metadata.namespace ?? "");
}

function refuseUnconfirmed(device: MfaDevice, namespace: string): AdmissionVerdict {
  if (device.status?.bound !== true || device.metadata.annotations?.[CONFIRM_DELETE_ANNOTATION] === CONFIRM_DELETE_VALUE) return ALLOW;
  const name = device.metadata.name ?? "";
  return {
    allowed: false,
    message:
      `MfaDevice ${name} is bound to user ${device.spec.user}: deleting it unbinds it, and sign-ins that need MFA stop working for that user. ` +
      `To confirm, type: kubectl annotate mfadevice ${name} -n ${namespace} ${CONFIRM_DELETE_ANNOTATION}=${CONFIRM_DELETE_VALUE} && ` +
      `kubectl delete mfadevice ${name} -n ${namespace}`,
  };
}

/** The MfaDevice admission rules: who may act for the device's user, the per-type limits, confirmed unbinding. */
export function admitMfaDevice(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  if (request.operation === "CREATE") return admitCreate(request, context);
  if (request.operation === "UPDATE") return admitUpdate(request, context);
  if (request.operation === "DELETE") return admitDelete(request, context);
  return Promise.resolve(ALLOW);
}

// Whether an update answers the device's ceremony: the codes that bind a virtual device, or a
// security key's registration; a fresh answer each time it changes.
function answersCeremony(before: MfaDevice, after: MfaDevice): boolean {
  const answer = (device: MfaDevice) => JSON.stringify([device.spec.verification, device.spec.registration]);
  const given = after.spec.verification !== undefined || after.spec.registration !== undefined;
  return given && answer(before) !== answer(after);
}

// What an update does that operation protection covers, in words; undefined: nothing.
function protectedUpdate(before: MfaDevice, after: MfaDevice): string | undefined {
  if (before.status?.bound === true && confirming(before, after)) return "confirming the removal of a bound MFA device";
  if (!answersCeremony(before, after)) return undefined;
  return after.spec.type === "SecurityKey" ? "registering a security key" : "binding an MFA device";
}

/** What operation protection covers in a request for an MFA device, in words; undefined: nothing. */
function protectedOperation(request: AdmissionRequest, context: AdmissionContext): string | undefined {
  const after = parseMfaDevice(request.object);
  if (!after.ok || !accountSettingsIn(context, request.namespace ?? after.value.metadata.namespace ?? "").operationProtection) return undefined;
  if (request.operation === "CREATE") return after.value.spec.type === "SecurityKey" ? "adding a security key" : "adding an MFA device";
  const before = parseMfaDevice(request.oldObject);
  return request.operation === "UPDATE" && before.ok ? protectedUpdate(before.value, after.value) : undefined;
}

/**
 * Who created the device, recorded unforgeably; and operation protection. Whoever holds only
 * someone's session must neither strip their MFA nor add a device of their own to it, so under
 * the protection adding a device, answering its ceremony and confirming the removal of a bound
 * one each need a fresh MFA code of the person acting, as key changes do.
 */
export async function mutateMfaDevice(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  const stamped = await stampIdentity(request, context);
  const doing = protectedOperation(request, context);
  if (doing === undefined) return stamped;
  // A code is used up once checked: whatever the validation would refuse is refused first.
  const validated = await admitMfaDevice(request, context);
  if (!validated.allowed) return validated;
  return (await refuseUnprotected(request, context, doing)) ?? stamped;
}

import { MFA_DEVICE_PLURAL, type MfaDevice, parseMfaDevice } from "../../api/mfadevice.js";
import { peersOf } from "../../api/peers.js";
import { parseTemporaryCredential, type TemporaryCredentialSpec } from "../../api/temporarycredential.js";
import { type CodeCandidate, deviceForCode } from "../../otp/code-device.js";
import { ALLOW, type AdmissionContext, type AdmissionRequest, type AdmissionVerdict, clusterDeleting } from "../../runtime/admission.js";
import { accountSettingsIn } from "../account-policy-of.js";
import { ownersChanged, refuseActingFor, refuseForRawUser } from "../acting-for.js";

function deviceCandidate(device: MfaDevice): CodeCandidate {
  return { deviceName: device.spec.deviceName, securityKey: device.spec.type === "SecurityKey" };
}

// A code is checked against the virtual device it names, picked among the bound devices as the
// controller picks it; a name only security keys have is refused, since a key answers with an assertion.
function refuseCodeForKey(spec: TemporaryCredentialSpec, devices: readonly MfaDevice[]): AdmissionVerdict | undefined {
  const deviceName = spec.mfa?.code === undefined ? undefined : spec.mfa.deviceName;
  if (deviceName === undefined) return undefined;
  const bound = devices.filter((device) => device.status?.bound === true);
  const target = deviceForCode(bound, deviceCandidate, deviceName);
  if (target.found || !target.securityKey) return undefined;
  return {
    allowed: false,
    message:
      `MFA device ${deviceName} of user ${spec.user} is a security key, which takes no code: ` +
      "set spec.mfa {assertion} with its answer to a challenge from the verifier's POST /v1/mfa/challenge with purpose session",
  };
}

function refuseWithoutMfa(namespace: string, spec: TemporaryCredentialSpec, devices: readonly MfaDevice[]): AdmissionVerdict {
  const bound = devices.filter((device) => device.status?.bound === true).map((device) => device.spec.deviceName);
  if (bound.length === 0) return ALLOW;
  return {
    allowed: false,
    message:
      `AccountPolicy default of namespace ${namespace} requires MFA for temporary credentials of users with a bound MFA device, ` +
      `and user ${spec.user} has ${bound.join(", ")}: set spec.mfa {deviceName, code} with a current code of a virtual device, ` +
      "or spec.mfa {assertion} with a security key's answer to a challenge from the verifier's POST /v1/mfa/challenge with purpose session",
  };
}

async function admitCreate(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  const parsed = parseTemporaryCredential(request.object);
  if (!parsed.ok) return refuseForRawUser(request, context, "get temporary credentials");
  const { spec } = parsed.value;
  const namespace = request.namespace ?? parsed.value.metadata.namespace ?? "";
  const refused = await refuseActingFor(request, context, { doing: "get temporary credentials", user: spec.user });
  return refused ?? admitMfa(namespace, spec, context);
}

// The user's devices are read only when a code names one or the account requires MFA.
function admitMfa(namespace: string, spec: TemporaryCredentialSpec, context: AdmissionContext): AdmissionVerdict {
  const required = spec.mfa === undefined && accountSettingsIn(context, namespace).requireMfa;
  if (spec.mfa?.code === undefined && !required) return ALLOW;
  const devices = peersOf(context.objectsOf(MFA_DEVICE_PLURAL, namespace), parseMfaDevice, namespace, spec.user);
  return required ? refuseWithoutMfa(namespace, spec, devices) : (refuseCodeForKey(spec, devices) ?? ALLOW);
}

async function admitDelete(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  if (await clusterDeleting(request, context)) return ALLOW;
  const parsed = parseTemporaryCredential(request.oldObject);
  if (!parsed.ok) return refuseForRawUser(request, context, "delete temporary credentials");
  return (await refuseActingFor(request, context, { doing: "delete temporary credentials", user: parsed.value.spec.user })) ?? ALLOW;
}

// The spec cannot change; only setting owners acts for the session's user.
async function admitUpdate(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  if (!ownersChanged(request)) return ALLOW;
  return refuseForRawUser(request, context, "set the owners of temporary credentials");
}

/** The TemporaryCredential admission rules: who may act for the session's user, the account's MFA requirement, a code only for a virtual device. */
export function admitTemporaryCredential(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  if (request.operation === "CREATE") return admitCreate(request, context);
  if (request.operation === "UPDATE") return admitUpdate(request, context);
  if (request.operation === "DELETE") return admitDelete(request, context);
  return Promise.resolve(ALLOW);
}

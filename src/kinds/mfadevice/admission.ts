import { parseMfaDevice } from "../../api/mfadevice.js";
import { peersOf } from "../../api/peers.js";
import { ALLOW, type AdmissionContext, type AdmissionRequest, type AdmissionVerdict } from "../../runtime/admission.js";
import { livingDevices } from "./decide.js";

/** The MfaDevice rule: at most one Virtual device per user, refused at apply time. */
export function admitMfaDevice(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  const parsed = request.operation === "CREATE" ? parseMfaDevice(request.object) : undefined;
  if (!parsed?.ok || parsed.value.spec.type !== "Virtual") return Promise.resolve(ALLOW);
  const device = parsed.value;
  const namespace = request.namespace ?? device.metadata.namespace ?? "";
  const peers = peersOf(context.objectsIn(namespace), parseMfaDevice, namespace, device.spec.user);
  const existing = livingDevices(peers).filter((peer) => peer.metadata.name !== device.metadata.name);
  if (existing.length === 0) return Promise.resolve(ALLOW);
  return Promise.resolve({
    allowed: false,
    message:
      `user ${device.spec.user} already has a virtual MFA device (${existing.map((d) => d.metadata.name).join(", ")}) ` +
      `in namespace ${namespace}; at most one per user. Delete it first to bind another.`,
  });
}

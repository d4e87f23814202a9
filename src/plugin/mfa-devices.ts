import type { MfaDevice } from "../api/mfadevice.js";
import { Reason } from "../kinds/mfadevice/reasons.js";
import { findCondition } from "../runtime/conditions.js";
import { age } from "./time-text.js";

/** kubectl's AGE column; `<unknown>` without a time. */
function ageOf(since: string | undefined, now: number): string {
  return since === undefined ? "<unknown>" : age(now - Date.parse(since));
}
import type { KeygateObject } from "./resources.js";
import type { Progress } from "./watch.js";

/** The API server's object as an MfaDevice: its CRD schema has validated it. */
export function asMfaDevice(object: KeygateObject): MfaDevice {
  return object as MfaDevice;
}

function readyOf(device: MfaDevice) {
  const ready = findCondition(device.status?.conditions ?? [], "Ready");
  // A condition of an older generation says nothing about this one.
  return ready === undefined || (ready.observedGeneration ?? 0) < (device.metadata.generation ?? 0) ? undefined : ready;
}

// Reasons after which the device will not be issued a seed without a change by someone.
const NOT_ISSUED = new Set<string>([Reason.DeviceLimitExceeded, Reason.SecretConflict]);

/** A new device's seed Secret, once written; a refusal to issue one, with the controller's message. */
export function seedIssuance(object: KeygateObject): Progress<string> {
  const device = asMfaDevice(object);
  const secretName = device.status?.secretRef?.name;
  if (secretName !== undefined) return { done: secretName };
  const ready = readyOf(device);
  if (ready !== undefined && NOT_ISSUED.has(ready.reason)) return { failed: `mfadevice/${device.metadata.name} got no seed (${ready.reason}): ${ready.message}` };
  return undefined;
}

const BINDING_REFUSED = new Set<string>([Reason.BindingFailed, Reason.BindingLocked]);

/** Whether the codes bound the device: Bound, or the controller's refusal. */
export function bindingOutcome(object: KeygateObject): Progress<MfaDevice> {
  const device = asMfaDevice(object);
  const ready = readyOf(device);
  if (ready === undefined) return undefined;
  if (ready.status === "True" && device.status?.bound === true) return { done: device };
  if (BINDING_REFUSED.has(ready.reason)) return { failed: `mfadevice/${device.metadata.name} was not bound (${ready.reason}): ${ready.message}` };
  return undefined;
}

/** A new security key's registration challenge, once issued; a refusal to issue one, with the controller's message. */
export function registrationOffer(object: KeygateObject): Progress<string> {
  const device = asMfaDevice(object);
  const options = device.status?.registration?.options;
  if (options !== undefined) return { done: options };
  const ready = readyOf(device);
  if (ready !== undefined && NOT_ISSUED.has(ready.reason)) return { failed: `mfadevice/${device.metadata.name} got no registration challenge (${ready.reason}): ${ready.message}` };
  return undefined;
}

const REGISTRATION_REFUSED = new Set<string>([Reason.RegistrationFailed, Reason.BindingLocked, Reason.DeviceLimitExceeded]);

/** Whether the key's answer registered it: Bound, or the controller's refusal. */
export function registrationOutcome(object: KeygateObject): Progress<MfaDevice> {
  const device = asMfaDevice(object);
  const ready = readyOf(device);
  if (ready === undefined) return undefined;
  if (ready.status === "True" && device.status?.bound === true) return { done: device };
  if (REGISTRATION_REFUSED.has(ready.reason)) return { failed: `mfadevice/${device.metadata.name} was not registered (${ready.reason}): ${ready.message}` };
  return undefined;
}

export const MFA_LIST_HEADERS = ["name", "user", "type", "device", "bound", "age"] as const;
export const MFA_LIST_WIDE_HEADERS = [...MFA_LIST_HEADERS, "bound at", "status"] as const;

/** One row of `mfa list`, as `kubectl get mfadevices` shows a device; wide adds when it was bound and why it stands so. */
export function mfaDeviceRow(device: MfaDevice, now: number, wide: boolean): string[] {
  const row = [device.metadata.name ?? "", device.spec.user, device.spec.type, device.spec.deviceName, String(device.status?.bound === true), ageOf(device.metadata.creationTimestamp, now)];
  if (!wide) return row;
  return [...row, device.status?.boundAt ?? "-", findCondition(device.status?.conditions ?? [], "Ready")?.reason ?? "-"];
}

/** The `deviceName` of a new device when none is given: the user name as far as the field allows. */
export function defaultDeviceName(user: string, kind: "phone" | "key" = "phone"): string {
  return `${user.replace(/[^A-Za-z0-9_-]+/g, "-").slice(0, 58)}-${kind}`;
}

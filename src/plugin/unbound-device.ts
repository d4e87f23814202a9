import { MFA_DEVICE_PLURAL } from "../api/mfadevice.js";
import { errorLine } from "./errors.js";
import { PluginError } from "./exit.js";
import { asMfaDevice } from "./mfa-devices.js";
import { type KeygateObject, Kind } from "./resources.js";
import type { Session } from "./session.js";
import { printWarnings } from "./warnings.js";

/**
 * Removes a device whose ceremony failed, so that a failed `mfa add` or `mfa add-key` leaves the
 * account as it was. A device bound after all (its verdict came after the command gave up) stays:
 * it is the person's, and the webhook would refuse deleting it unconfirmed anyway.
 */
async function removeUnbound(session: Session, name: string, again: string): Promise<string> {
  const devices = new Kind(session, MFA_DEVICE_PLURAL);
  try {
    const found = await devices.get(name);
    if (found === undefined) return `mfadevice/${name} is gone; run ${again} once more`;
    const device = asMfaDevice(found);
    if (device.status?.bound === true) {
      const credential = device.status.credentialId === undefined ? "" : ` with credential ${device.status.credentialId}`;
      return `mfadevice/${name} was bound${credential} meanwhile, and stays: see kubectl keygate mfa list`;
    }
    await devices.delete(name, { uid: device.metadata.uid });
    return `mfadevice/${name} was removed again; run ${again} once more`;
  } catch (error) {
    return `mfadevice/${name} could not be removed (${errorLine(error)})`;
  }
}

/**
 * Creates the device and runs its ceremony (`mfa add`, `mfa add-key`): a failure before the
 * device exists is passed on as it is; one after it says what became of the device.
 */
export async function withNewDevice<T>(session: Session, device: KeygateObject, again: string, ceremony: (name: string, created: KeygateObject) => Promise<T>): Promise<T> {
  const created = await new Kind(session, MFA_DEVICE_PLURAL).create(device);
  printWarnings(created.warnings);
  const name = created.object.metadata?.name ?? "";
  try {
    return await ceremony(name, created.object);
  } catch (error) {
    throw new PluginError(`${errorLine(error)}; ${await removeUnbound(session, name, again)}`);
  }
}

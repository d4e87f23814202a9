import type { MfaDevice, MfaDeviceType } from "../../api/mfadevice.js";
import { oldestLiving } from "../../api/peers.js";
import { MAX_SECURITY_KEYS_PER_USER, MAX_VIRTUAL_DEVICES_PER_USER } from "./reasons.js";

/** How many devices of each type a user may have. */
export const DEVICE_LIMITS: Readonly<Record<MfaDeviceType, number>> = {
  Virtual: MAX_VIRTUAL_DEVICES_PER_USER,
  SecurityKey: MAX_SECURITY_KEYS_PER_USER,
};

/** The devices of a type a user may have: the oldest ones not being deleted, up to the type's limit. */
export function livingDevices(peers: readonly MfaDevice[], type: MfaDeviceType): MfaDevice[] {
  return oldestLiving(
    peers.filter((peer) => peer.spec.type === type),
    DEVICE_LIMITS[type],
  );
}

/** Whether the device is one of those its user may have. */
export function isLiving(device: MfaDevice, peers: readonly MfaDevice[]): boolean {
  return livingDevices(peers, device.spec.type).some((peer) => peer.metadata.uid === device.metadata.uid);
}


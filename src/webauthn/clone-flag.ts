import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { MFA_DEVICE_PLURAL } from "../api/mfadevice.js";
import type { MfaRecord } from "../keystore/mfa-record.js";
import { errorReason } from "../runtime/errors.js";
import { patchStatusField, uidGuardedStatusPatch } from "../runtime/status-patch.js";

/** The patch of status.cloneSuspectedAt, guarded by the MfaDevice's uid (the record's owner). */
export function cloneSuspectedPatch(record: Pick<MfaRecord, "ownerUid" | "cloneSuspectedAt">): object[] {
  return uidGuardedStatusPatch(record.ownerUid, "cloneSuspectedAt", record.cloneSuspectedAt);
}

/**
 * Shows on the device's status that its key was flagged. The keystore record, already written,
 * is what refuses the key's assertions from now on; the status tells the person, so a failure
 * here is logged and does not change the answer. A device deleted and registered again under
 * the same name is never shown as cloned.
 */
export function flagClonedDevice(custom: k8s.CustomObjectsApi, log: Logger): (record: MfaRecord) => Promise<void> {
  return async (record) => {
    if (record.objectName === undefined || record.cloneSuspectedAt === undefined) return;
    const device = { plural: MFA_DEVICE_PLURAL, namespace: record.namespace, name: record.objectName, uid: record.ownerUid };
    try {
      await patchStatusField(custom, device, "cloneSuspectedAt", record.cloneSuspectedAt);
    } catch (error) {
      log.warn({ kind: "MfaDevice", namespace: record.namespace, name: record.objectName, reason: errorReason(error) }, "could not show the cloned flag on the MfaDevice's status");
    }
  };
}

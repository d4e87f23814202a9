import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { GROUP, VERSION } from "../api/group.js";
import { MFA_DEVICE_PLURAL } from "../api/mfadevice.js";
import type { MfaRecord } from "../keystore/mfa-record.js";
import { apiStatus, errorReason } from "../runtime/errors.js";

const JSON_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch);
// Not found, or the test on the uid failed (another MfaDevice now has the name), or no status yet.
const GONE = new Set([404, 409, 422]);

/**
 * A JSON patch of status.cloneSuspectedAt, guarded by the MfaDevice's uid (the record's owner),
 * so that a device deleted and registered again under the same name is never shown as cloned.
 */
export function cloneSuspectedPatch(record: Pick<MfaRecord, "ownerUid" | "cloneSuspectedAt">): object[] {
  return [
    { op: "test", path: "/metadata/uid", value: record.ownerUid },
    { op: "add", path: "/status/cloneSuspectedAt", value: record.cloneSuspectedAt },
  ];
}

/**
 * Shows on the device's status that its key was flagged. The keystore record, already written,
 * is what refuses the key's assertions from now on; the status tells the person, so a failure
 * here is logged and does not change the answer.
 */
export function flagClonedDevice(custom: k8s.CustomObjectsApi, log: Logger): (record: MfaRecord) => Promise<void> {
  return async (record) => {
    if (record.objectName === undefined || record.cloneSuspectedAt === undefined) return;
    try {
      await custom.patchNamespacedCustomObjectStatus(
        { group: GROUP, version: VERSION, plural: MFA_DEVICE_PLURAL, namespace: record.namespace, name: record.objectName, body: cloneSuspectedPatch(record) },
        JSON_PATCH,
      );
    } catch (error) {
      const status = apiStatus(error);
      if (status !== undefined && GONE.has(status)) return;
      const device = { kind: "MfaDevice", namespace: record.namespace, name: record.objectName };
      log.warn({ ...device, reason: errorReason(error) }, "could not show the cloned flag on the MfaDevice's status");
    }
  };
}

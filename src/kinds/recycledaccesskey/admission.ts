import { ALLOW, type AdmissionContext, type AdmissionRequest, type AdmissionVerdict } from "../../runtime/admission.js";

export const READ_ONLY_MESSAGE =
  "RecycledAccessKey is written by keygate only; delete it to purge the key for good, " +
  "or restore it with spec.restoreFrom on a new AccessKey";

/** Read-only for everyone but the operator: it creates bin objects and moves their finalizer; deleting one is the purge. */
export function admitRecycledAccessKey(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  if (request.operation === "DELETE" || request.userInfo?.username === context.operatorUsername) return Promise.resolve(ALLOW);
  return Promise.resolve({ allowed: false, message: READ_ONLY_MESSAGE });
}

import * as k8s from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/group.js";
import { apiStatus } from "./errors.js";

const JSON_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.JsonPatch);
// Not found, or the test on the uid failed (another object now has the name), or no status yet.
const GONE = new Set([404, 409, 422]);

/** One of keygate's objects, as it was when a write about it was decided. */
export interface ObjectRef {
  plural: string;
  namespace: string;
  name: string;
  uid: string;
}

/**
 * A JSON patch setting one status field, guarded by the object's uid: an object deleted and
 * created again under the same name never shows what was meant for its predecessor. (A merge
 * patch cannot carry that guard: the status subresource silently ignores a uid in the body.)
 */
export function uidGuardedStatusPatch(uid: string, field: string, value: unknown): object[] {
  return [
    { op: "test", path: "/metadata/uid", value: uid },
    { op: "add", path: `/status/${field}`, value },
  ];
}

/** Writes the field to the object's status; "gone" when the object is not that one any more. */
export async function patchStatusField(custom: k8s.CustomObjectsApi, target: ObjectRef, field: string, value: unknown): Promise<"written" | "gone"> {
  try {
    await custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, plural: target.plural, namespace: target.namespace, name: target.name, body: uidGuardedStatusPatch(target.uid, field, value) },
      JSON_PATCH,
    );
    return "written";
  } catch (error) {
    if (GONE.has(apiStatus(error) ?? 0)) return "gone";
    throw error;
  }
}

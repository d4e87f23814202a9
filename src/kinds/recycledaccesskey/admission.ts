import { ALLOW, type AdmissionContext, type AdmissionRequest, type AdmissionVerdict } from "../../runtime/admission.js";

export const READ_ONLY_MESSAGE =
  "RecycledAccessKey is written by keygate only; delete it to purge the key for good, " +
  "or restore it with spec.restoreFrom on a new AccessKey";

type Metadata = { finalizers?: string[]; labels?: unknown; annotations?: unknown } | undefined;

function metadataOf(object: unknown): Metadata {
  return (object as { metadata?: Metadata } | undefined)?.metadata;
}

/**
 * Whether an update only takes finalizers away: what an administrator does by hand when the
 * operator cannot purge (it is gone, or broken) and a namespace waits in Terminating.
 */
function onlyReleasesFinalizers(request: AdmissionRequest): boolean {
  if (request.operation !== "UPDATE") return false;
  const before = metadataOf(request.oldObject) ?? {};
  const after = metadataOf(request.object) ?? {};
  const same = (a: unknown, b: unknown) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
  const spec = (object: unknown) => (object as { spec?: unknown } | undefined)?.spec;
  const unchanged = same(spec(request.object), spec(request.oldObject)) && same(after.labels, before.labels) && same(after.annotations, before.annotations);
  const held = before.finalizers ?? [];
  const kept = after.finalizers ?? [];
  return unchanged && kept.length < held.length && kept.every((finalizer) => held.includes(finalizer));
}

/**
 * Read-only for everyone but the operator: it creates bin objects and moves their finalizer;
 * deleting one is the purge, and RBAC decides who may (admin). Releasing a finalizer by hand is
 * let through, for when the operator cannot.
 */
export function admitRecycledAccessKey(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  if (request.userInfo?.username === context.operatorUsername || onlyReleasesFinalizers(request)) return Promise.resolve(ALLOW);
  return Promise.resolve({ allowed: false, message: READ_ONLY_MESSAGE });
}

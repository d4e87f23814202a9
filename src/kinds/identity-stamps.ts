import { CREATED_BY_ANNOTATION, DELETED_BY_ANNOTATION, MFA_CODE_ANNOTATION } from "../labels.js";
import type { AdmissionContext, AdmissionRequest, AdmissionVerdict, JsonPatchOperation } from "../runtime/admission.js";

type Annotations = Record<string, string>;

const LAST_APPLIED = "kubectl.kubernetes.io/last-applied-configuration";

function annotationsOf(object: unknown): Annotations | undefined {
  if (typeof object !== "object" || object === null) return undefined;
  const metadata = (object as { metadata?: { annotations?: unknown } }).metadata;
  const annotations = metadata?.annotations;
  return typeof annotations === "object" && annotations !== null ? (annotations as Annotations) : undefined;
}

/** The MFA code a request carries for operation protection, if any. */
export function mfaCodeOf(object: unknown): string | undefined {
  return annotationsOf(object)?.[MFA_CODE_ANNOTATION];
}

// `kubectl apply` copies the whole manifest, the code included, into this annotation; a spent
// code is worthless, but the rule is that no code is kept in the object at all.
function withoutCodeInLastApplied(text: string): string {
  try {
    const applied = JSON.parse(text) as { metadata?: { annotations?: Annotations } };
    const annotations = applied.metadata?.annotations;
    if (!annotations || !(MFA_CODE_ANNOTATION in annotations)) return text;
    delete annotations[MFA_CODE_ANNOTATION];
    return `${JSON.stringify(applied)}\n`;
  } catch {
    return text;
  }
}

/**
 * The annotations an admitted object is stored with: created-by is the requester on create and
 * stays what it was on every update, deleted-by is written by the operator only, and an MFA code
 * for operation protection is never stored. The operator's own writes keep what they send.
 */
export function stampedAnnotations(request: AdmissionRequest, operatorUsername: string): Annotations {
  const sent = { ...annotationsOf(request.object) };
  delete sent[MFA_CODE_ANNOTATION];
  if (sent[LAST_APPLIED] !== undefined) sent[LAST_APPLIED] = withoutCodeInLastApplied(sent[LAST_APPLIED]);
  const username = request.userInfo?.username ?? "";
  if (request.operation === "CREATE") {
    delete sent[DELETED_BY_ANNOTATION];
    return { ...sent, [CREATED_BY_ANNOTATION]: username };
  }
  if (username === operatorUsername) return sent;
  const old = annotationsOf(request.oldObject) ?? {};
  for (const key of [CREATED_BY_ANNOTATION, DELETED_BY_ANNOTATION]) {
    const kept = old[key];
    if (kept === undefined) delete sent[key];
    else sent[key] = kept;
  }
  return sent;
}

function sameAnnotations(a: Annotations, b: Annotations): boolean {
  const keys = Object.keys(a);
  return keys.length === Object.keys(b).length && keys.every((key) => a[key] === b[key]);
}

/** The JSON patch that gives the object exactly these annotations; none when it has them. */
export function annotationsPatch(object: unknown, desired: Annotations): JsonPatchOperation[] {
  const current = annotationsOf(object);
  if (current && sameAnnotations(current, desired)) return [];
  if (!current && Object.keys(desired).length === 0) return [];
  if (Object.keys(desired).length === 0) return [{ op: "remove", path: "/metadata/annotations" }];
  return [{ op: "add", path: "/metadata/annotations", value: desired }];
}

/** The mutation every user-owned kind has: who created the object, recorded unforgeably. */
export function stampIdentity(request: AdmissionRequest, context: AdmissionContext): Promise<AdmissionVerdict> {
  return Promise.resolve({ allowed: true, patch: annotationsPatch(request.object, stampedAnnotations(request, context.operatorUsername)) });
}

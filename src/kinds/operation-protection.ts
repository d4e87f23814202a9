import { GROUP } from "../api/group.js";
import { MFA_CODE_ANNOTATION } from "../labels.js";
import type { AdmissionContext, AdmissionRequest, AdmissionVerdict } from "../runtime/admission.js";
import { mfaCodeOf } from "./identity-stamps.js";

/** The RBAC grant that exempts an identity (a GitOps controller) from operation protection. */
export const BYPASS_VERB = "bypass";
export const OPERATION_PROTECTION_RESOURCE = "operationprotection";

const SIX_DIGITS = /^\d{6}$/;

// Said for every kind: the same request carries the code, whatever it creates or changes.
const HOW =
  `add the annotation ${MFA_CODE_ANNOTATION}=<code> to the same request (in metadata.annotations of the object sent, ` +
  `e.g. kubectl patch … -p '{"metadata":{"annotations":{"${MFA_CODE_ANNOTATION}":"123456"}},"spec":{…}}'; ` +
  "kubectl keygate takes --mfa-code); the code is checked once and removed before the object is stored";

function refusal(message: string): AdmissionVerdict {
  return { allowed: false, message: `operation protection is on (AccountPolicy default): ${message}` };
}

/**
 * Operation protection (Huawei's name): a sensitive change needs a fresh MFA code of the person
 * making it, given with the request and checked here once. It runs in the mutating webhook,
 * which also removes the code, so the stored object never holds it. Undefined: allowed.
 */
export async function refuseUnprotected(request: AdmissionRequest, context: AdmissionContext, doing: string): Promise<AdmissionVerdict | undefined> {
  const username = request.userInfo?.username ?? "";
  if (username === context.operatorUsername) return undefined;
  const namespace = request.namespace ?? "";
  const exempt = await context.allowed(request.userInfo ?? {}, { namespace, verb: BYPASS_VERB, resource: OPERATION_PROTECTION_RESOURCE });
  if (exempt) return undefined;
  const actor = context.userOf(username, namespace);
  if (actor === undefined) {
    return refusal(
      `${doing} needs a fresh MFA code of the person making the change, and ${username} is no keygate user of namespace ${namespace}; ` +
        `an automation such as a GitOps controller needs the verb ${BYPASS_VERB} on ${OPERATION_PROTECTION_RESOURCE} in ${GROUP} (ClusterRole keygate-gitops)`,
    );
  }
  return refuseCode(request, context, { namespace, actor, doing });
}

async function refuseCode(request: AdmissionRequest, context: AdmissionContext, { namespace, actor, doing }: { namespace: string; actor: string; doing: string }): Promise<AdmissionVerdict | undefined> {
  const code = mfaCodeOf(request.object);
  if (code === undefined) return refusal(`${doing} needs a fresh code of an MFA device of user ${actor}: ${HOW}`);
  // A dry run writes nothing, so it cannot count failures toward the lockout: it checks the
  // code's form only, or it would be a way to guess codes without limit.
  if (request.dryRun === true) return SIX_DIGITS.test(code) ? undefined : refusal(`${MFA_CODE_ANNOTATION} must be a 6-digit code`);
  const check = await context.checkMfaCode(namespace, actor, code);
  return check.valid ? undefined : refusal(`the MFA code of user ${actor} was refused (${check.reason}); nothing was changed`);
}

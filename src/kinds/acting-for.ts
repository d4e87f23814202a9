import { GROUP } from "../api/group.js";
import { ALLOW, type AdmissionContext, type AdmissionRequest, type AdmissionVerdict } from "../runtime/admission.js";

/** The RBAC verb and resource that let an identity act for a user it is not. */
export const MANAGE_VERB = "manage";
export const USERS_RESOURCE = "users";

/** What a request does to a user's credential, in words for the refusal. */
export interface UserAction {
  /** e.g. "create an AccessKey". */
  readonly doing: string;
  /** The keygate user whose credential it is (spec.user). */
  readonly user: string;
  /** Access key protection: only those granted manage may, even for their own user. */
  readonly adminsOnly?: boolean;
}

function requesterOf(request: AdmissionRequest): string {
  return request.userInfo?.username ?? "";
}

function grantHint(user: string, namespace: string): string {
  return `the verb ${MANAGE_VERB} on ${USERS_RESOURCE}/${user} in ${GROUP}, in namespace ${namespace} (for example a RoleBinding to the ClusterRole keygate-user-manager)`;
}

/**
 * Who may act for a user: the user themself (the identity that maps to them), or whoever RBAC
 * grants `manage` on users/<name>, checked with a SubjectAccessReview so that the grant is
 * ordinary RBAC, audited like any other. Undefined: allowed.
 */
export async function refuseActingFor(request: AdmissionRequest, context: AdmissionContext, action: UserAction): Promise<AdmissionVerdict | undefined> {
  const username = requesterOf(request);
  if (username === context.operatorUsername) return undefined;
  const namespace = request.namespace ?? "";
  const self = context.userOf(username, namespace) === action.user;
  if (self && !action.adminsOnly) return undefined;
  const access = { namespace, verb: MANAGE_VERB, resource: USERS_RESOURCE, name: action.user };
  if (await context.allowed(request.userInfo ?? {}, access)) return undefined;
  if (self) {
    return {
      allowed: false,
      message:
        `access key protection is on in namespace ${namespace} (AccountPolicy default: keyManagement AdminsOnly): ` +
        `${username} may not ${action.doing} even for their own user ${action.user}; only whoever is granted ${grantHint(action.user, namespace)} may`,
    };
  }
  return {
    allowed: false,
    message:
      `${username || "an anonymous request"} may not ${action.doing} for user ${action.user} in namespace ${namespace}: ` +
      `only user ${action.user} themself (ServiceAccount ${action.user} of this namespace, or a username that maps to ${action.user}) ` +
      `or whoever is granted ${grantHint(action.user, namespace)} may`,
  };
}

function field(object: unknown, ...path: string[]): unknown {
  let value = object;
  for (const key of path) value = typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
  return value;
}

/**
 * Who may act for the user of an object read as it is, for objects our schema does not parse (a
 * newer or older CRD, a field we do not know) and changes that need nothing else of the object.
 * Without a spec.user, the API server's own schema refuses it.
 */
export async function refuseForRawUser(request: AdmissionRequest, context: AdmissionContext, doing: string): Promise<AdmissionVerdict> {
  const user = field(request.operation === "DELETE" ? request.oldObject : request.object, "spec", "user");
  if (typeof user !== "string") return ALLOW;
  return (await refuseActingFor(request, context, { doing, user })) ?? ALLOW;
}

/**
 * Whether an update changes the object's owners: the garbage collector deletes an object whose
 * owners are gone, and its deletes skip admission, so setting an owner is as good as a delete.
 */
export function ownersChanged(request: AdmissionRequest): boolean {
  const owners = (object: unknown) => JSON.stringify(field(object, "metadata", "ownerReferences") ?? []);
  return owners(request.object) !== owners(request.oldObject);
}

export type AdmissionOperation = "CREATE" | "UPDATE" | "DELETE";

/** The part of an admission.k8s.io/v1 AdmissionRequest keygate's rules read. */
export interface AdmissionRequest {
  uid: string;
  operation: AdmissionOperation | "CONNECT";
  namespace?: string;
  name?: string;
  object?: unknown;
  oldObject?: unknown;
  userInfo?: AdmissionUserInfo;
  /** Set on a dry run: nothing may be written on its behalf. */
  dryRun?: boolean;
}

/** The authenticated identity of an admission request, as the API server saw it. */
export interface AdmissionUserInfo {
  username?: string;
  uid?: string;
  groups?: string[];
  extra?: Record<string, string[]>;
}

export interface AdmissionVerdict {
  allowed: boolean;
  message?: string;
  /** Shown by kubectl as "Warning: …" whether or not the request is allowed. */
  warnings?: string[];
  /** A mutating webhook's changes to the object, as RFC 6902 operations. */
  patch?: JsonPatchOperation[];
}

export type JsonPatchOperation = { op: "add" | "replace"; path: string; value: unknown } | { op: "remove"; path: string };

/** What RBAC is asked about a request's identity, in iam.keygate.dev. */
export interface KeygateAccess {
  namespace: string;
  verb: string;
  resource: string;
  name?: string;
}

/** A code checked against a user's bound MFA devices: accepted, or why not. */
export type MfaCodeCheck = { valid: true } | { valid: false; reason: string };

export const ALLOW: AdmissionVerdict = { allowed: true };

/** What a kind's admission rules may read: the operator's cache of that kind, no API call but one. */
export interface AdmissionContext {
  /** Objects of the admitted kind in a namespace, from the operator's cache. */
  objectsIn(namespace: string): readonly unknown[];
  /** Whether the namespace is being deleted: its contents must then always be deletable. */
  namespaceTerminating(namespace: string): Promise<boolean>;
  /** Objects of any keygate kind, by plural, in a namespace, from the operator's caches. */
  objectsOf(this: void, plural: string, namespace: string): readonly unknown[];
  /** The operator's own username: its writes (finalizers, the recycle bin) are always allowed. */
  readonly operatorUsername: string;
  /** The keygate user a username is in a namespace, by the operator's identity mapping; none: no user. */
  userOf(username: string, namespace: string): string | undefined;
  /** Whether RBAC grants the identity the access (a SubjectAccessReview: ordinary, audited RBAC). */
  allowed(userInfo: AdmissionUserInfo, access: KeygateAccess): Promise<boolean>;
  /** Checks and uses up a code of the user's bound MFA devices, with the same replay refusal and lockout as everywhere. */
  checkMfaCode(namespace: string, user: string, code: string): Promise<MfaCodeCheck>;
  /** Writes who is deleting an object into its deleted-by annotation (it stays until its finalizer runs). */
  recordDeleter(plural: string, namespace: string, name: string, username: string): Promise<void>;
  now(): Date;
}

/**
 * Requests of a kind that go through when no webhook replica answers (deactivating a key: the
 * safe direction must never wait for the operator), by name and CEL expression on `request`,
 * `object` and `oldObject`. When a replica answers, its rules apply as to every request.
 */
export interface FailOpen {
  name: string;
  expression: string;
}

export type Admit = (request: AdmissionRequest, context: AdmissionContext) => Promise<AdmissionVerdict>;

// The controllers that delete on behalf of the cluster: a namespace being torn down or an owner
// gone. They must never be blocked, or a namespace would hang in Terminating.
/**
 * Whether a delete comes from the cluster itself: the namespace controller, the garbage collector
 * or anyone while the namespace terminates. Such deletes are never refused.
 */
export async function clusterDeleting(request: AdmissionRequest, context: AdmissionContext): Promise<boolean> {
  return CLUSTER_DELETERS.includes(request.userInfo?.username ?? "") || (await context.namespaceTerminating(request.namespace ?? ""));
}

export const CLUSTER_DELETERS: readonly string[] = [
  "system:serviceaccount:kube-system:namespace-controller",
  "system:serviceaccount:kube-system:generic-garbage-collector",
];

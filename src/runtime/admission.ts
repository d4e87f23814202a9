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
}

export const ALLOW: AdmissionVerdict = { allowed: true };

/** What a kind's admission rules may read: the operator's cache of that kind, no API call but one. */
export interface AdmissionContext {
  /** Objects of the admitted kind in a namespace, from the operator's cache. */
  objectsIn(namespace: string): readonly unknown[];
  /** Whether the namespace is being deleted: its contents must then always be deletable. */
  namespaceTerminating(namespace: string): Promise<boolean>;
  /** Objects of any keygate kind, by plural, in a namespace, from the operator's caches. */
  objectsOf(plural: string, namespace: string): readonly unknown[];
  /** The operator's own username: its writes (finalizers, the recycle bin) are always allowed. */
  readonly operatorUsername: string;
}

export type Admit = (request: AdmissionRequest, context: AdmissionContext) => Promise<AdmissionVerdict>;

// The controllers that delete on behalf of the cluster: a namespace being torn down or an owner
// gone. They must never be blocked, or a namespace would hang in Terminating.
export const CLUSTER_DELETERS: readonly string[] = [
  "system:serviceaccount:kube-system:namespace-controller",
  "system:serviceaccount:kube-system:generic-garbage-collector",
];

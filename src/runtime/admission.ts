export type AdmissionOperation = "CREATE" | "UPDATE" | "DELETE";

/** The part of an admission.k8s.io/v1 AdmissionRequest keygate's rules read. */
export interface AdmissionRequest {
  uid: string;
  operation: AdmissionOperation | "CONNECT";
  namespace?: string;
  name?: string;
  object?: unknown;
  oldObject?: unknown;
  userInfo?: { username?: string };
}

export interface AdmissionVerdict {
  allowed: boolean;
  message?: string;
}

export const ALLOW: AdmissionVerdict = { allowed: true };

/** What a kind's admission rules may read: the operator's cache of that kind, no API call but one. */
export interface AdmissionContext {
  /** Objects of the admitted kind in a namespace, from the operator's cache. */
  objectsIn(namespace: string): readonly unknown[];
  /** Whether the namespace is being deleted: its contents must then always be deletable. */
  namespaceTerminating(namespace: string): Promise<boolean>;
}

export type Admit = (request: AdmissionRequest, context: AdmissionContext) => Promise<AdmissionVerdict>;

// The controllers that delete on behalf of the cluster: a namespace being torn down or an owner
// gone. They must never be blocked, or a namespace would hang in Terminating.
export const CLUSTER_DELETERS: readonly string[] = [
  "system:serviceaccount:kube-system:namespace-controller",
  "system:serviceaccount:kube-system:generic-garbage-collector",
];

// Every keygate kind is served under one group and version; keeping them here means a version
// bump touches one line, not every kind.
export const GROUP = "iam.keygate.dev";
export const VERSION = "v1alpha1";
export const API_VERSION = `${GROUP}/${VERSION}` as const;

// `kubectl get keygate` lists every kind at once.
export const CATEGORY = "keygate";

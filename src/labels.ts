// Labels and annotations keygate puts on the objects it creates. Whatever carries
// MANAGED_BY=keygate and a controller ownerReference to one of our resources is ours; nothing
// else is ever modified or deleted.
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "keygate";
export const ACCESS_KEY_LABEL = "iam.keygate.dev/access-key";
export const FINALIZER = "iam.keygate.dev/recycle";

// Labels and annotations keygate puts on the objects it creates. Whatever carries
// MANAGED_BY=keygate and a controller ownerReference to one of our resources is ours; nothing
// else is ever modified or deleted.
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
export const MANAGED_BY = "keygate";
export const ACCESS_KEY_LABEL = "iam.keygate.dev/access-key";
export const FINALIZER = "iam.keygate.dev/recycle";
// On a RecycledAccessKey: its deletion purges the key's record for good, even one made while the
// operator was down.
export const PURGE_FINALIZER = "iam.keygate.dev/purge";

// Who asked for an object and who deleted it, written by the admission webhook from the request's
// authenticated identity; a requester can neither set nor change them.
export const CREATED_BY_ANNOTATION = "iam.keygate.dev/created-by";
export const DELETED_BY_ANNOTATION = "iam.keygate.dev/deleted-by";
// Operation protection: a fresh MFA code of the acting user, checked once at admission and
// removed from the object before it is stored.
export const MFA_CODE_ANNOTATION = "iam.keygate.dev/mfa-code";
// Deleting a bound MFA device needs this annotation set to YES first, as the consoles ask to type YES.
export const CONFIRM_DELETE_ANNOTATION = "iam.keygate.dev/confirm-delete";
export const CONFIRM_DELETE_VALUE = "YES";
// On the new key of a rotation started by `kubectl keygate rotate`: the name of the key it
// replaces, so that an interrupted rotation continues where it stopped.
export const ROTATING_FROM_ANNOTATION = "iam.keygate.dev/rotating-from";

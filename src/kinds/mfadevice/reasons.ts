// Condition reasons and Event reasons, as named constants: dashboards and alerts match on them.
export const Reason = {
  Pending: "Pending",
  Issued: "Issued",
  Bound: "Bound",
  SeedSecretRemoved: "SeedSecretRemoved",
  BindingFailed: "BindingFailed",
  BindingLocked: "BindingLocked",
  Unbound: "Unbound",
  Deleting: "Deleting",
  DeviceLimitExceeded: "DeviceLimitExceeded",
  SecretConflict: "SecretConflict",
  RegistrationFailed: "RegistrationFailed",
  CloneSuspected: "CloneSuspected",
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export const MAX_VIRTUAL_DEVICES_PER_USER = 1;
export const MAX_SECURITY_KEYS_PER_USER = 8;

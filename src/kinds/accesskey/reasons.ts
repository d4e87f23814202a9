// Condition reasons and Event reasons, as named constants: dashboards and alerts match on them.
export const Reason = {
  Issued: "Issued",
  Inactive: "Inactive",
  Deactivated: "Deactivated",
  Reactivated: "Reactivated",
  Recycled: "Recycled",
  Restored: "Restored",
  RestoreFailed: "RestoreFailed",
  Purged: "Purged",
  KeyLimitExceeded: "KeyLimitExceeded",
  SecretConflict: "SecretConflict",
  SecretMissing: "SecretMissing",
  Pending: "Pending",
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export const MAX_KEYS_PER_USER = 2;

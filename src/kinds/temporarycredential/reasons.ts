// Condition reasons and Event reasons, as named constants: dashboards and alerts match on them.
export const Reason = {
  Issued: "Issued",
  Expired: "Expired",
  Valid: "Valid",
  MfaFailed: "MfaFailed",
  MfaRequired: "MfaRequired",
  SecretConflict: "SecretConflict",
  Pending: "Pending",
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

export const EXPIRED = "Expired";

/**
 * The annotation in which the operator records, on the object itself, that the session was
 * issued (and what) or refused: a fact that must outlive the Secret (deleted at expiry) and a
 * status that a backup restore or a status reset can lose, so a session is never issued twice.
 */
export const ISSUANCE_ANNOTATION = "iam.keygate.dev/issuance";

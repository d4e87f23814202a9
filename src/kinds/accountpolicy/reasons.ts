// Condition reasons, as named constants: dashboards and alerts match on them.
export const Reason = {
  /** The policy is in force and its status counts are current. */
  Applied: "Applied",
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

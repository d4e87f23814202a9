// Condition reasons and Event reasons, as named constants: dashboards and alerts match on them.
export const Reason = {
  InRecycleBin: "InRecycleBin",
  Purged: "Purged",
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

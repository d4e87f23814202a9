import * as z from "zod";

// Cloud IAM user names: letters, digits and +=,.@_- , at most 64 characters.
const IAM_USER_NAME = /^[A-Za-z0-9][A-Za-z0-9+=,.@_-]{0,63}$/;

/** spec.user of every kind: an IAM-style user inside the namespace (the account). */
export const iamUserName = z
  .string()
  .max(64)
  .regex(IAM_USER_NAME, "must be 1-64 letters, digits or +=,.@_-, starting with a letter or digit");

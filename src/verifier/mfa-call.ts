import { parseJson } from "../json.js";
import { type ApiError, invalidField } from "./errors.js";

/** A `POST /v1/mfa/verify` body: whose device, and the code to check. */
export interface MfaCall {
  namespace: string;
  user: string;
  code: string;
}

function field(body: Record<string, unknown>, name: keyof MfaCall, rule: RegExp, problem: string): string | ApiError {
  const value = body[name];
  return typeof value === "string" && rule.test(value) ? value : invalidField(name, problem);
}

export function parseMfaCall(text: string): MfaCall | ApiError {
  const body = parseJson(text);
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    return invalidField("body", 'must be a JSON object {"namespace", "user", "code"}');
  }
  const record = body as Record<string, unknown>;
  const namespace = field(record, "namespace", /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a namespace name");
  if (typeof namespace !== "string") return namespace;
  const user = field(record, "user", /^[A-Za-z0-9][A-Za-z0-9+=,.@_-]{0,63}$/, "must be an IAM-style user name");
  if (typeof user !== "string") return user;
  const code = field(record, "code", /^\d{6}$/, "must be a 6-digit code");
  if (typeof code !== "string") return code;
  return { namespace, user, code };
}

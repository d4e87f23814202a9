import { authenticationResponse, type AuthenticationResponse } from "../api/webauthn.js";
import { parseJson } from "../json.js";
import type { ChallengePurpose } from "../webauthn/assertion-challenge.js";
import { type ApiError, invalidField, isApiError } from "./errors.js";

/** Whose MFA device a call is about: a user of the namespace (the account) of the signing key. */
export interface MfaSubject {
  namespace: string;
  user: string;
}

/** A `POST /v1/mfa/verify` body: a code of the user's virtual device, or a security key's assertion. */
export type MfaCall = (MfaSubject & { code: string }) | (MfaSubject & { assertion: AuthenticationResponse });

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const USER = /^[A-Za-z0-9][A-Za-z0-9+=,.@_-]{0,63}$/;
const CODE = /^\d{6}$/;

type Body = Record<string, unknown>;

function field(body: Body, name: string, rule: RegExp, problem: string): string | ApiError {
  const value = body[name];
  return typeof value === "string" && rule.test(value) ? value : invalidField(name, problem);
}

function object(text: string, shape: string): Body | ApiError {
  const body = parseJson(text);
  if (typeof body !== "object" || body === null || Array.isArray(body)) return invalidField("body", `must be a JSON object ${shape}`);
  return body as Body;
}

function subject(body: Body): MfaSubject | ApiError {
  const namespace = field(body, "namespace", NAMESPACE, "must be a namespace name");
  if (isApiError(namespace)) return namespace;
  const user = field(body, "user", USER, "must be an IAM-style user name");
  if (isApiError(user)) return user;
  return { namespace, user };
}

/** A `POST /v1/mfa/challenge` body: whose security keys are to answer, and where the answer is to be spent. */
export type ChallengeCall = MfaSubject & { purpose: ChallengePurpose };

const PURPOSES: readonly unknown[] = ["verify", "session"] satisfies ChallengePurpose[];

export function parseChallengeCall(text: string): ChallengeCall | ApiError {
  const body = object(text, '{"namespace", "user", "purpose" (optional)}');
  if (isApiError(body)) return body;
  const who = subject(body);
  if (isApiError(who)) return who;
  const purpose = body.purpose === undefined ? "verify" : body.purpose;
  if (!PURPOSES.includes(purpose)) return invalidField("purpose", 'must be "verify" (POST /v1/mfa/verify, the default) or "session" (a TemporaryCredential)');
  return { ...who, purpose: purpose as ChallengePurpose };
}

// The first problem only, named by its path in the body (assertion.response.signature) and the
// rule it breaks; never the value sent.
function readAssertion(value: unknown): AuthenticationResponse | ApiError {
  const parsed = authenticationResponse.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const path = ["assertion", ...(issue?.path ?? []).map(String)].join(".");
  return invalidField(path, issue?.message ?? "is not a PublicKeyCredential's JSON");
}

export function parseMfaCall(text: string): MfaCall | ApiError {
  const body = object(text, '{"namespace", "user", and "code" or "assertion"}');
  if (isApiError(body)) return body;
  const who = subject(body);
  if (isApiError(who)) return who;
  if ((body.code === undefined) === (body.assertion === undefined)) {
    return invalidField("code/assertion", "give exactly one: a 6-digit code of the virtual device, or a security key's assertion");
  }
  if (body.code !== undefined) {
    const code = field(body, "code", CODE, "must be a 6-digit code");
    return isApiError(code) ? code : { ...who, code };
  }
  const assertion = readAssertion(body.assertion);
  return isApiError(assertion) ? assertion : { ...who, assertion };
}

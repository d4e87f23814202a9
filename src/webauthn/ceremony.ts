import { createHash } from "node:crypto";
import { decodeClientDataJSON, isoBase64URL, parseAuthenticatorData, type ParsedAuthenticatorData } from "@simplewebauthn/server/helpers";
import { originAllowed, type RelyingParty } from "./relying-party.js";

// The codes a refused ceremony answers with: clients and dashboards match on them.
export const WebAuthnCode = {
  MalformedResponse: "MalformedResponse",
  WrongCeremony: "WrongCeremony",
  OriginNotAllowed: "OriginNotAllowed",
  RpIdMismatch: "RpIdMismatch",
  UserNotPresent: "UserNotPresent",
  ChallengeMismatch: "ChallengeMismatch",
  ChallengeExpired: "ChallengeExpired",
  ChallengeUsed: "ChallengeUsed",
  StaleAssertion: "StaleAssertion",
  AttestationInvalid: "AttestationInvalid",
  CredentialAlreadyRegistered: "CredentialAlreadyRegistered",
  UnknownCredential: "UnknownCredential",
  InvalidSignature: "InvalidSignature",
  CounterNotIncreased: "CounterNotIncreased",
  AuthenticatorCloned: "AuthenticatorCloned",
} as const;
export type WebAuthnCode = (typeof WebAuthnCode)[keyof typeof WebAuthnCode];

export interface CeremonyRefusal {
  ok: false;
  code: WebAuthnCode;
  message: string;
}

export function refusal(code: WebAuthnCode, message: string): CeremonyRefusal {
  return { ok: false, code, message };
}

export interface ClientData {
  type: string;
  challenge: string;
  origin: string;
  crossOrigin: boolean;
}

/** The client data, decoded once: an assertion's challenge is read from it before anything else is judged. */
export function readClientData(clientDataJSON: string): ClientData | CeremonyRefusal {
  let data: ReturnType<typeof decodeClientDataJSON>;
  try {
    data = decodeClientDataJSON(clientDataJSON);
  } catch {
    return refusal(WebAuthnCode.MalformedResponse, "response.clientDataJSON is not base64url-encoded JSON");
  }
  if (typeof data.type !== "string" || typeof data.challenge !== "string" || typeof data.origin !== "string") {
    return refusal(WebAuthnCode.MalformedResponse, "response.clientDataJSON lacks type, challenge or origin");
  }
  return { type: data.type, challenge: data.challenge, origin: data.origin, crossOrigin: data.crossOrigin === true };
}

/**
 * What is wrong with decoded client data, read before any signature is checked so that a refusal
 * can say exactly what; the library checks the same fields again, with the signature, afterwards.
 */
export function clientDataProblem(data: ClientData, type: "webauthn.create" | "webauthn.get", rp: RelyingParty): CeremonyRefusal | undefined {
  if (data.type !== type) return refusal(WebAuthnCode.WrongCeremony, `the response is of a ${data.type} ceremony, not ${type}`);
  if (!originAllowed(data.origin, rp)) {
    return refusal(WebAuthnCode.OriginNotAllowed, `origin ${JSON.stringify(data.origin)} is not one keygate accepts (${rp.origins.join(", ")})`);
  }
  if (data.crossOrigin) return refusal(WebAuthnCode.OriginNotAllowed, "the ceremony ran in a cross-origin frame");
  return undefined;
}

/** The client data of a response, decoded and checked. */
export function checkClientData(clientDataJSON: string, type: "webauthn.create" | "webauthn.get", rp: RelyingParty): ClientData | CeremonyRefusal {
  const data = readClientData(clientDataJSON);
  if (isRefusal(data)) return data;
  return clientDataProblem(data, type, rp) ?? data;
}

/** Authenticator data of an assertion: made for our relying party id, with the user present. */
export function checkAuthenticatorData(authenticatorData: string, rp: RelyingParty): ParsedAuthenticatorData | CeremonyRefusal {
  let parsed: ParsedAuthenticatorData;
  try {
    parsed = parseAuthenticatorData(isoBase64URL.toBuffer(authenticatorData));
  } catch {
    return refusal(WebAuthnCode.MalformedResponse, "response.authenticatorData cannot be read");
  }
  const expected = createHash("sha256").update(rp.id).digest();
  if (!expected.equals(Buffer.from(parsed.rpIdHash))) return refusal(WebAuthnCode.RpIdMismatch, `the assertion was not made for relying party id ${rp.id}`);
  if (!parsed.flags.up) return refusal(WebAuthnCode.UserNotPresent, "the authenticator did not report user presence (touch the key)");
  return parsed;
}

export function isRefusal(value: object): value is CeremonyRefusal {
  return "ok" in value && value.ok === false;
}

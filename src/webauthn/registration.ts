import { randomBytes } from "node:crypto";
import { generateRegistrationOptions, verifyRegistrationResponse } from "@simplewebauthn/server";
import { isoBase64URL } from "@simplewebauthn/server/helpers";
import type { RegistrationResponse } from "../api/webauthn.js";
import type { PendingRegistration } from "../keystore/mfa-record.js";
import { checkClientData, type CeremonyRefusal, isRefusal, refusal, WebAuthnCode } from "./ceremony.js";
import type { RelyingParty } from "./relying-party.js";

/** How long a person has to touch the key once the challenge is issued. */
export const REGISTRATION_TTL_MS = 5 * 60 * 1000;

export interface Registrant {
  namespace: string;
  user: string;
  deviceName: string;
  /** The WebAuthn user handle: random, never the user name (authenticators may show or store it). */
  userId: string;
}

export interface KnownCredential {
  id: string;
  transports?: string[];
}

/** A fresh ceremony: a random challenge, and the options the browser page passes to navigator.credentials.create(). */
export async function startRegistration(rp: RelyingParty, registrant: Registrant, exclude: readonly KnownCredential[], now: Date): Promise<PendingRegistration> {
  const options = await generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: registrant.user,
    userID: isoBase64URL.toBuffer(registrant.userId),
    userDisplayName: `${registrant.user} (${registrant.namespace}) ${registrant.deviceName}`,
    challenge: randomBytes(32),
    timeout: REGISTRATION_TTL_MS,
    attestationType: "none",
    // The same authenticator twice would be one factor counted as two.
    excludeCredentials: exclude.map((credential) => ({ id: credential.id, transports: credential.transports })),
    authenticatorSelection: { residentKey: "preferred", userVerification: "preferred" },
    preferredAuthenticatorType: "securityKey",
  });
  return { challenge: options.challenge, expiresAt: new Date(now.getTime() + REGISTRATION_TTL_MS).toISOString(), rpId: rp.id, options: JSON.stringify(options) };
}

export interface RegisteredCredential {
  ok: true;
  id: string;
  /** COSE public key, base64url. */
  publicKey: string;
  counter: number;
  transports?: string[];
}

/**
 * Verifies the browser's answer to the pending ceremony: our origin, our challenge, not expired,
 * and an attestation the library accepts (a signature by the new key over our relying party id,
 * user present). Attestation format "none" was asked for: keygate trusts the person who holds
 * the key, as the clouds' consoles do, not a vendor list.
 */
export async function verifyRegistration(
  rp: RelyingParty,
  response: RegistrationResponse,
  pending: PendingRegistration,
  now: Date,
): Promise<RegisteredCredential | CeremonyRefusal> {
  const clientData = checkClientData(response.response.clientDataJSON, "webauthn.create", rp);
  if (isRefusal(clientData)) return clientData;
  if (clientData.challenge !== pending.challenge) return refusal(WebAuthnCode.ChallengeMismatch, "the response answers another challenge than status.registration.challenge");
  if (Date.parse(pending.expiresAt) <= now.getTime()) return refusal(WebAuthnCode.ChallengeExpired, `the challenge expired at ${pending.expiresAt}`);
  try {
    const verified = await verifyRegistrationResponse({
      response: { ...response, clientExtensionResults: {} },
      expectedChallenge: pending.challenge,
      expectedOrigin: clientData.origin,
      expectedRPID: pending.rpId,
      requireUserVerification: false,
    });
    if (!verified.verified) return refusal(WebAuthnCode.AttestationInvalid, "the attestation did not verify");
    const { credential } = verified.registrationInfo;
    return { ok: true, id: credential.id, publicKey: isoBase64URL.fromBuffer(credential.publicKey), counter: credential.counter, transports: credential.transports };
  } catch (error) {
    return refusal(WebAuthnCode.AttestationInvalid, `the attestation did not verify: ${(error as Error).message}`);
  }
}

import * as z from "zod";

// What a browser's PublicKeyCredential.toJSON() gives, as WebAuthn Level 3 names it, less what
// verification does not need (clientExtensionResults: keygate asks for no extension; the
// public key and algorithm the attestation object carries anyway). Every binary field is
// base64url without padding. A client copies these fields only: kubectl refuses unknown ones.
const base64url = (max: number) => z.string().min(1).max(max).regex(/^[A-Za-z0-9_-]+$/, "must be base64url without padding");

export const credentialId = base64url(1366).describe("Credential id, base64url (at most 1023 bytes, as WebAuthn allows).");

const transports = z
  .array(z.enum(["ble", "cable", "hybrid", "internal", "nfc", "smart-card", "usb"]))
  .max(7)
  .describe("How the browser reached the authenticator.");

const publicKeyCredential = {
  id: credentialId,
  rawId: credentialId.describe("The same id as id."),
  type: z.literal("public-key").describe("Always public-key."),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).describe("Where the authenticator is attached.").optional(),
};

export const registrationResponse = z
  .object({
    ...publicKeyCredential,
    response: z
      .object({
        clientDataJSON: base64url(4096).describe("The client data the browser signed over: type, challenge, origin."),
        attestationObject: base64url(16384).describe("Authenticator data and attestation statement (CBOR)."),
        transports: transports.optional(),
      })
      .describe("The authenticator's attestation response."),
  })
  .describe("The browser's answer to navigator.credentials.create(): PublicKeyCredential.toJSON().");
export type RegistrationResponse = z.infer<typeof registrationResponse>;

export const authenticationResponse = z
  .object({
    ...publicKeyCredential,
    response: z
      .object({
        clientDataJSON: base64url(4096).describe("The client data the browser signed over: type, challenge, origin."),
        authenticatorData: base64url(4096).describe("RP id hash, flags and signature counter."),
        signature: base64url(1024).describe("The authenticator's signature over authenticatorData and the client data's hash."),
        userHandle: base64url(128).describe("The user handle, given by resident keys.").optional(),
      })
      .describe("The authenticator's assertion response."),
  })
  .describe("The browser's answer to navigator.credentials.get(): PublicKeyCredential.toJSON().");
export type AuthenticationResponse = z.infer<typeof authenticationResponse>;

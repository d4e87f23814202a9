import * as z from "zod";
import type { KekSet } from "./kek.js";
import { open, SealError, seal } from "./seal.js";
import { parseJson } from "../json.js";

/**
 * A session token is self-contained: everything needed to check a request signed with the
 * temporary key travels in it, sealed (AES-256-GCM) under the operator's key-encryption key. A
 * verifier therefore needs no lookup, and the credential keeps verifying (or expiring) whether
 * or not its resource still exists. Forged or altered tokens fail authentication.
 */
export interface SessionClaims {
  accessKeyId: string;
  namespace: string;
  user: string;
  /** Issue and expiry times, Unix milliseconds. */
  issuedAt: number;
  expiresAt: number;
  mfaAuthenticated: boolean;
  secretAccessKey: string;
}

const claimsSchema = z.strictObject({
  v: z.literal(1),
  id: z.string(),
  ns: z.string(),
  user: z.string(),
  iat: z.int(),
  exp: z.int(),
  mfa: z.boolean(),
  sk: z.string(),
});

// The AAD names the purpose, so no other sealed blob of the keystore can pass for a token.
const TOKEN_AAD = "session-token";

export function sealSessionToken(keks: KekSet, claims: SessionClaims): string {
  const body = {
    v: 1,
    id: claims.accessKeyId,
    ns: claims.namespace,
    user: claims.user,
    iat: claims.issuedAt,
    exp: claims.expiresAt,
    mfa: claims.mfaAuthenticated,
    sk: claims.secretAccessKey,
  };
  return seal(Buffer.from(JSON.stringify(body), "utf8"), keks.current, TOKEN_AAD);
}

export type TokenResult = { ok: true; claims: SessionClaims } | { ok: false; reason: "malformed" | "forged" };

/** Opens a token; any failure is a plain result, never an exception carrying token material. */
export function openSessionToken(keks: KekSet, token: string): TokenResult {
  let plaintext: Buffer;
  try {
    plaintext = open(token, keks.ring, TOKEN_AAD);
  } catch (error) {
    return { ok: false, reason: error instanceof SealError && error.code === "KG_ERR_SEAL_MALFORMED" ? "malformed" : "forged" };
  }
  const parsed = claimsSchema.safeParse(parseJson(plaintext.toString("utf8")));
  if (!parsed.success) return { ok: false, reason: "malformed" };
  const c = parsed.data;
  const claims: SessionClaims = {
    accessKeyId: c.id,
    namespace: c.ns,
    user: c.user,
    issuedAt: c.iat,
    expiresAt: c.exp,
    mfaAuthenticated: c.mfa,
    secretAccessKey: c.sk,
  };
  return { ok: true, claims };
}

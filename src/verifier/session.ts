import type { KekSet } from "../keystore/kek.js";
import { deny, type Denial } from "../signing/errors.js";
import type { HttpRequestDescription } from "../signing/request.js";
import { openSessionToken, type SessionClaims } from "../keystore/session-token.js";

// Where each scheme carries the session token: a header, or (presigned SigV4) the query.
const TOKEN_HEADERS = new Set(["x-amz-security-token", "x-acs-security-token", "x-security-token"]);
const TOKEN_QUERY = "X-Amz-Security-Token=";

function fromQuery(rawQuery: string): string | undefined {
  for (const pair of rawQuery.split("&")) {
    if (!pair.startsWith(TOKEN_QUERY)) continue;
    try {
      return decodeURIComponent(pair.slice(TOKEN_QUERY.length));
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * The token a request presents, found before verification so that a temporary key's secret can
 * be taken from it. The signature check later reports the token it found signed; the two must
 * be the same, so this early read never decides anything on its own.
 */
export function presentedToken(req: HttpRequestDescription): string | undefined {
  const header = req.headers.find(([name]) => TOKEN_HEADERS.has(name.toLowerCase()));
  return header ? header[1].trim() : fromQuery(req.rawQuery);
}

export type SessionLookup = { ok: true; claims: SessionClaims } | { ok: false; denial: Denial };

/** A temporary key's claims from its token: missing, forged or mismatched tokens are refused. */
export function sessionClaims(keks: KekSet | undefined, accessKeyId: string, token: string | undefined): SessionLookup {
  if (token === undefined) return { ok: false, denial: deny("InvalidClientTokenId", "a temporary access key needs its security token") };
  if (!keks) return { ok: false, denial: deny("ServiceUnavailable", "the verifier has not loaded its keys yet; retry later") };
  const opened = openSessionToken(keks, token);
  if (!opened.ok || opened.claims.accessKeyId !== accessKeyId) {
    return { ok: false, denial: deny("InvalidClientTokenId", "the security token is invalid for this access key") };
  }
  return { ok: true, claims: opened.claims };
}

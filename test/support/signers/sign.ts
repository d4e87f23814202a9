import type { RequestView, SignatureClaim } from "../../../src/signing/claim.js";
import { hmacSha256 } from "../../../src/signing/digest.js";
import { isDenial, type Denial } from "../../../src/signing/errors.js";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { prepareRequest } from "../../../src/signing/view.js";

/** Stands in for the signature while the claim is parsed: no scheme's string to sign covers it. */
export const PLACEHOLDER_SIGNATURE = "0".repeat(64);

/** The `YYYYMMDDTHHMMSSZ` form of an instant (X-Amz-Date, X-Sdk-Date). */
export function formatCompactUtc(at: Date): string {
  return at.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}

/** A request the signers cannot describe canonically is a bug in the test using them. */
export function signerView(req: HttpRequestDescription): RequestView {
  const view = prepareRequest(req);
  if (isDenial(view)) throw new Error(`cannot sign: ${view.message}`);
  return view;
}

/**
 * The signature the verifier computes for a claim. The signers parse their own auth fields with
 * the verifier's parsers, so they share its canonicaliser: the official vectors, not these
 * signers, are the proof of interoperability.
 */
export function signatureOf(claim: SignatureClaim | Denial, secret: string): string {
  if (isDenial(claim)) throw new Error(`cannot sign: ${claim.message}`);
  const toSign = claim.stringToSign();
  if (isDenial(toSign)) throw new Error(`cannot sign: ${toSign.message}`);
  return hmacSha256(claim.signingKey(secret), toSign.value).toString("hex");
}

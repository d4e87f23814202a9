import type { HttpRequestDescription } from "../signing/request.js";
import type { Scheme } from "../signing/verify.js";

const SCHEMES: ReadonlySet<string> = new Set<Scheme>(["AWS4-HMAC-SHA256", "ACS3-HMAC-SHA256", "SDK-HMAC-SHA256"]);

/**
 * The scheme a request claims, as a metric label: one of three values or "none", so that a
 * hostile Authorization header cannot create label values.
 */
export function schemeOf(req: HttpRequestDescription): string {
  const authorization = req.headers.find(([name]) => name.toLowerCase() === "authorization")?.[1];
  if (authorization !== undefined) {
    const space = authorization.indexOf(" ");
    const algorithm = space < 0 ? authorization : authorization.slice(0, space);
    return SCHEMES.has(algorithm) ? algorithm : "none";
  }
  return req.rawQuery.includes("X-Amz-Algorithm=") ? "AWS4-HMAC-SHA256" : "none";
}

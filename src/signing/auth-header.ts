import { deny, type Denial } from "./errors.js";

/** `ALGORITHM rest…`: the algorithm is everything before the first space. */
export function splitAuthorization(value: string): { algorithm: string; rest: string } {
  const space = value.indexOf(" ");
  if (space < 0) return { algorithm: value, rest: "" };
  return { algorithm: value.slice(0, space), rest: value.slice(space + 1).trim() };
}

export type AuthParamsResult =
  | { readonly ok: true; readonly params: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly incomplete: boolean; readonly reason: string };

/** A parameter of a successful parse; the empty string for one that is absent. */
export function authParam(params: ReadonlyMap<string, string>, key: string): string {
  return params.get(key) ?? "";
}

function malformed(expected: readonly string[]): AuthParamsResult {
  return { ok: false, incomplete: false, reason: `expected ${expected.join(", ")}, each once, as Key=value` };
}

/**
 * Parses `Key=value, Key=value, …` with exactly the expected keys. SDKs write `, ` between
 * parameters and Alibaba writes `,`; both are accepted. Unknown or repeated keys are malformed
 * rather than ignored, so nothing in the header goes unchecked.
 */
export function parseAuthParams(text: string, expected: readonly string[]): AuthParamsResult {
  const params = new Map<string, string>();
  let start = 0;
  while (start <= text.length) {
    const comma = text.indexOf(",", start);
    const end = comma < 0 ? text.length : comma;
    const item = text.slice(start, end).trim();
    const eq = item.indexOf("=");
    const key = eq < 0 ? item : item.slice(0, eq);
    if (eq < 0 || !expected.includes(key) || params.has(key)) return malformed(expected);
    params.set(key, item.slice(eq + 1));
    start = end + 1;
  }
  // Every key is an expected one and none repeats, so as many keys as expected means all of them.
  if (params.size === expected.length) return { ok: true, params };
  const missing = expected.filter((key) => !params.has(key));
  if (missing.length > 0) return { ok: false, incomplete: true, reason: `missing ${missing.join(", ")}` };
  return { ok: true, params };
}

// Non-empty lowercase header names (RFC 9110 token characters) separated by single semicolons,
// checked in one pass before anything is split.
const NAME_LIST = /^[a-z0-9!#$%&'*+.^_`|~-]+(?:;[a-z0-9!#$%&'*+.^_`|~-]+)*$/;

/** No name twice: strictly ascending (as every SDK sorts them) proves it in one pass. */
function hasNoRepeats(names: readonly string[]): boolean {
  for (let i = 1; i < names.length; i++) {
    if (!((names[i - 1] as string) < (names[i] as string))) return new Set(names).size === names.length;
  }
  return true;
}

/** `a;b;c` of lowercase header names, no repeats; undefined when it is anything else. */
export function parseSignedHeaderList(value: string): string[] | undefined {
  if (!NAME_LIST.test(value)) return undefined;
  const names = value.split(";");
  return hasNoRepeats(names) ? names : undefined;
}

/** The three parameters every HMAC header scheme carries: the key, the signed headers, the signature. */
export interface KeyedAuthParams {
  readonly accessKeyId: string;
  readonly signedHeaders: string[];
  readonly signature: string;
}

/**
 * Parses `Key=AK, SignedHeaders=a;b, Signature=hex` (the key parameter named per scheme); any
 * malformation is the scheme's denial, never an exception.
 */
export function parseKeyedAuthParams(rest: string, expected: readonly string[], keyParam: string): KeyedAuthParams | Denial {
  const parsed = parseAuthParams(rest, expected);
  if (!parsed.ok) {
    return deny(parsed.incomplete ? "IncompleteSignature" : "AuthorizationHeaderMalformed", `Authorization header: ${parsed.reason}`);
  }
  const accessKeyId = authParam(parsed.params, keyParam);
  const signedHeaders = parseSignedHeaderList(authParam(parsed.params, "SignedHeaders"));
  if (accessKeyId === "" || !signedHeaders) {
    return deny("AuthorizationHeaderMalformed", `${keyParam} must be an access key and SignedHeaders lowercase header names separated by ;`);
  }
  return { accessKeyId, signedHeaders, signature: authParam(parsed.params, "Signature") };
}

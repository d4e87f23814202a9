/** `ALGORITHM rest…`: the algorithm is everything before the first space. */
export function splitAuthorization(value: string): { algorithm: string; rest: string } {
  const space = value.indexOf(" ");
  if (space < 0) return { algorithm: value, rest: "" };
  return { algorithm: value.slice(0, space), rest: value.slice(space + 1).trim() };
}

export type AuthParamsResult =
  | { readonly ok: true; readonly params: ReadonlyMap<string, string> }
  | { readonly ok: false; readonly incomplete: boolean; readonly reason: string };

/**
 * Parses `Key=value, Key=value, …` with exactly the expected keys. SDKs write `, ` between
 * parameters and Alibaba writes `,`; both are accepted. Unknown or repeated keys are malformed
 * rather than ignored, so nothing in the header goes unchecked.
 */
export function parseAuthParams(text: string, expected: readonly string[]): AuthParamsResult {
  const params = new Map<string, string>();
  for (const part of text.split(",")) {
    const item = part.trim();
    const eq = item.indexOf("=");
    const key = eq < 0 ? item : item.slice(0, eq);
    if (eq < 0 || !expected.includes(key) || params.has(key)) {
      return { ok: false, incomplete: false, reason: `expected ${expected.join(", ")}, each once, as Key=value` };
    }
    params.set(key, item.slice(eq + 1));
  }
  const missing = expected.filter((key) => !params.has(key));
  if (missing.length > 0) return { ok: false, incomplete: true, reason: `missing ${missing.join(", ")}` };
  return { ok: true, params };
}

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/** `a;b;c` of lowercase header names, no repeats; undefined when it is anything else. */
export function parseSignedHeaderList(value: string): string[] | undefined {
  const names = value.split(";");
  if (names.some((name) => !HEADER_NAME.test(name))) return undefined;
  return new Set(names).size === names.length ? names : undefined;
}

import type { HeaderIndex } from "./request.js";

const HEX_DIGITS = "0123456789ABCDEF";

// RFC 3986 unreserved characters: the only bytes every scheme leaves unescaped.
const UNRESERVED = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") {
  UNRESERVED[c.charCodeAt(0)] = 1;
}
const SLASH = 0x2f;
const PERCENT = 0x25;

/** RFC 3986 percent-encoding of raw bytes (uppercase hex, space as `%20`, never `+`). */
function encodeBytes(bytes: Uint8Array, keepSlash: boolean): string {
  let out = "";
  for (const byte of bytes) {
    if (UNRESERVED[byte] === 1 || (keepSlash && byte === SLASH)) out += String.fromCharCode(byte);
    else out += `%${HEX_DIGITS[byte >> 4]}${HEX_DIGITS[byte & 15]}`;
  }
  return out;
}

/** Encodes the UTF-8 bytes of a string; works on bytes so a lone surrogate cannot throw. */
export function uriEncode(text: string, keepSlash = false): string {
  return encodeBytes(Buffer.from(text, "utf8"), keepSlash);
}

function hexValue(byte: number | undefined): number {
  if (byte === undefined) return -1;
  if (byte >= 0x30 && byte <= 0x39) return byte - 0x30;
  const lower = byte | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/**
 * Strict percent-decoding to bytes: `%` must introduce two hex digits, `+` stays a plus (query
 * strings signed by the SDKs never use `+` for a space). Undefined means malformed input.
 */
export function percentDecode(text: string): Buffer | undefined {
  const source = Buffer.from(text, "utf8");
  if (!source.includes(PERCENT)) return source;
  const out = Buffer.alloc(source.length);
  let length = 0;
  for (let i = 0; i < source.length; i++) {
    const byte = source[i] as number;
    if (byte !== PERCENT) {
      out[length++] = byte;
      continue;
    }
    const high = hexValue(source[i + 1]);
    const low = hexValue(source[i + 2]);
    if (high < 0 || low < 0) return undefined;
    out[length++] = high * 16 + low;
    i += 2;
  }
  return out.subarray(0, length);
}

/** A query parameter with key and value in canonical (decoded, then RFC 3986) form. */
export type QueryPair = readonly [key: string, value: string];

function canonicalComponent(raw: string): string | undefined {
  const bytes = percentDecode(raw);
  return bytes === undefined ? undefined : encodeBytes(bytes, false);
}

/** Parses a raw query string; undefined when a component has invalid percent-encoding. */
export function parseQuery(rawQuery: string): QueryPair[] | undefined {
  const pairs: QueryPair[] = [];
  for (const part of rawQuery.split("&")) {
    if (part === "") continue;
    const eq = part.indexOf("=");
    const key = canonicalComponent(eq < 0 ? part : part.slice(0, eq));
    const value = canonicalComponent(eq < 0 ? "" : part.slice(eq + 1));
    if (key === undefined || value === undefined) return undefined;
    pairs.push([key, value]);
  }
  return pairs;
}

/** Decodes a canonical component back to text (for reading `X-Amz-*` parameters). */
export function decodeComponent(canonical: string): string {
  return (percentDecode(canonical) ?? Buffer.alloc(0)).toString("utf8");
}

function comparePairs(a: QueryPair, b: QueryPair): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}

/** Sorted by key then value (byte order of the encoded forms), `key=` for empty values. */
export function canonicalQuery(pairs: readonly QueryPair[], excludeKey?: string): string {
  return pairs
    .filter(([key]) => key !== excludeKey)
    .sort(comparePairs)
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
}

const WHITESPACE_RUN = /\s+/g;

/** Values trimmed (and inner white space collapsed for SigV4); repeats joined with `,` in arrival order. */
export function canonicalHeaderValue(values: readonly string[], collapse: boolean): string {
  return values.map((value) => (collapse ? value.trim().replace(WHITESPACE_RUN, " ") : value.trim())).join(",");
}

/** `name:value\n` for each signed header, in the order of the signed list. */
export function canonicalHeaders(index: HeaderIndex, signedHeaders: readonly string[], collapse: boolean): string {
  return signedHeaders.map((name) => `${name}:${canonicalHeaderValue(index.get(name) ?? [], collapse)}\n`).join("");
}

/**
 * RFC 3986 dot-segment removal as the AWS SDKs do it for non-S3 services: empty, `.` and `..`
 * segments dropped, a trailing slash kept, the empty path read as `/`. Works on the raw
 * (still encoded) path, so `%2E` is an ordinary segment, exactly as the signer saw it.
 */
export function removeDotSegments(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && rawPath.endsWith("/") ? "/" : "";
  return `/${segments.join("/")}${trailing}`;
}

/** The path as sent (S3, Alibaba): no normalisation, no second encoding. */
export function pathAsSent(rawPath: string): string {
  return rawPath === "" ? "/" : rawPath;
}

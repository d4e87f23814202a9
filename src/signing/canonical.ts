import { isUtf8 } from "node:buffer";
import type { HeaderIndex } from "./request.js";

const HEX_DIGITS = "0123456789ABCDEF";

// RFC 3986 unreserved characters: the only bytes every scheme leaves unescaped.
const UNRESERVED = new Uint8Array(256);
for (const c of "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~") {
  UNRESERVED[c.charCodeAt(0)] = 1;
}
const SLASH = 0x2f;
const PERCENT = 0x25;

// Each byte's encoded form, computed once.
const ENCODED_BYTE = Array.from({ length: 256 }, (_, byte) =>
  UNRESERVED[byte] === 1 ? String.fromCharCode(byte) : `%${HEX_DIGITS[byte >> 4]}${HEX_DIGITS[byte & 15]}`,
);

/** RFC 3986 percent-encoding of raw bytes (uppercase hex, space as `%20`, never `+`). */
function encodeBytes(bytes: Uint8Array, keepSlash: boolean): string {
  let out = "";
  for (const byte of bytes) out += keepSlash && byte === SLASH ? "/" : (ENCODED_BYTE[byte] as string);
  return out;
}

/** True when every character is unreserved (or `/`, when kept): encoding would return the text as it is. */
function isEncodedAsIs(text: string, keepSlash: boolean): boolean {
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (UNRESERVED[code] !== 1 && !(keepSlash && code === SLASH)) return false;
  }
  return true;
}

const ASCII_END = 0x80;

/**
 * The encoding of ASCII text, worked out on the string itself (an ASCII character is its own
 * UTF-8 byte): runs of characters that stay are copied whole. Null when the text holds a
 * non-ASCII character, which needs the byte path.
 */
function encodeAscii(text: string, keepSlash: boolean): string | null {
  let out = "";
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= ASCII_END) return null;
    if (UNRESERVED[code] === 1 || (keepSlash && code === SLASH)) continue;
    out += `${text.slice(run, i)}${ENCODED_BYTE[code] as string}`;
    run = i + 1;
  }
  return run === 0 ? text : `${out}${text.slice(run)}`;
}

/** Encodes the UTF-8 bytes of a string; works on bytes so a lone surrogate cannot throw. */
export function uriEncode(text: string, keepSlash = false): string {
  // Already-safe text (the usual path, key or value) is its own encoding.
  if (isEncodedAsIs(text, keepSlash)) return text;
  return encodeAscii(text, keepSlash) ?? encodeBytes(Buffer.from(text, "utf8"), keepSlash);
}

function hexValue(byte: number | undefined): number {
  if (byte === undefined || Number.isNaN(byte)) return -1;
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

/** The byte a `%XX` escape at `at` stands for, or -1 when it is not one. */
function escapedByte(text: string, at: number): number {
  const high = hexValue(text.charCodeAt(at + 1));
  const low = hexValue(text.charCodeAt(at + 2));
  return high < 0 || low < 0 ? -1 : high * 16 + low;
}

/**
 * Decode-then-encode on an ASCII component, on the string itself: an escape becomes its byte's
 * canonical form (whatever that byte), any other character its own. Undefined for a malformed
 * escape, null when a non-ASCII character needs the byte path.
 */
function canonicalAscii(raw: string): string | undefined | null {
  let out = "";
  let run = 0;
  for (let i = 0; i < raw.length; i++) {
    const code = raw.charCodeAt(i);
    if (code >= ASCII_END) return null;
    if (UNRESERVED[code] === 1) continue;
    const byte = code === PERCENT ? escapedByte(raw, i) : code;
    if (byte < 0) return undefined;
    out += `${raw.slice(run, i)}${ENCODED_BYTE[byte] as string}`;
    run = code === PERCENT ? i + 3 : i + 1;
    i = run - 1;
  }
  return run === 0 ? raw : `${out}${raw.slice(run)}`;
}

function canonicalComponent(raw: string): string | undefined {
  // Only unreserved characters (no `%`): decoding and encoding again would return it unchanged.
  if (isEncodedAsIs(raw, false)) return raw;
  const ascii = canonicalAscii(raw);
  if (ascii !== null) return ascii;
  const bytes = percentDecode(raw);
  return bytes === undefined ? undefined : encodeBytes(bytes, false);
}

function parsePair(part: string): QueryPair | undefined {
  const eq = part.indexOf("=");
  const key = canonicalComponent(eq < 0 ? part : part.slice(0, eq));
  const value = canonicalComponent(eq < 0 ? "" : part.slice(eq + 1));
  return key === undefined || value === undefined ? undefined : [key, value];
}

/** Parses a raw query string; undefined when a component has invalid percent-encoding. */
export function parseQuery(rawQuery: string): QueryPair[] | undefined {
  const pairs: QueryPair[] = [];
  let start = 0;
  while (start <= rawQuery.length) {
    const amp = rawQuery.indexOf("&", start);
    const end = amp < 0 ? rawQuery.length : amp;
    if (end > start) {
      const pair = parsePair(rawQuery.slice(start, end));
      if (pair === undefined) return undefined;
      pairs.push(pair);
    }
    start = end + 1;
  }
  return pairs;
}

/**
 * Percent-decoding on the string itself when everything it holds and every escape in it is
 * ASCII (so no UTF-8 sequence is involved); null otherwise, for the byte path to decide.
 */
function decodeAscii(text: string): string | null {
  let out = "";
  let run = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= ASCII_END) return null;
    if (code !== PERCENT) continue;
    const byte = escapedByte(text, i);
    if (byte < 0 || byte >= ASCII_END) return null;
    out += `${text.slice(run, i)}${String.fromCharCode(byte)}`;
    run = i + 3;
    i += 2;
  }
  return run === 0 ? text : `${out}${text.slice(run)}`;
}

/** Decodes a canonical component back to text (for reading `X-Amz-*` parameters). */
export function decodeComponent(canonical: string): string {
  return decodeAscii(canonical) ?? (percentDecode(canonical) ?? Buffer.alloc(0)).toString("utf8");
}

function comparePairs(a: QueryPair, b: QueryPair): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}

/** Sorted by key then value (byte order of the encoded forms), `key=` for empty values. */
export function canonicalQuery(pairs: readonly QueryPair[], excludeKey?: string): string {
  const kept: QueryPair[] = [];
  for (const pair of pairs) if (pair[0] !== excludeKey) kept.push(pair);
  kept.sort(comparePairs);
  let out = "";
  for (let i = 0; i < kept.length; i++) {
    const [key, value] = kept[i] as QueryPair;
    out += i === 0 ? `${key}=${value}` : `&${key}=${value}`;
  }
  return out;
}

/**
 * A canonical component decoded to text; undefined when its escapes are not UTF-8 (no signer
 * produces those, and text is what the Huawei order compares).
 */
function decodedText(component: string): string | undefined {
  if (!component.includes("%")) return component;
  const bytes = percentDecode(component);
  return bytes !== undefined && isUtf8(bytes) ? bytes.toString("utf8") : undefined;
}

type DecodedPair = [key: string, value: string, pair: QueryPair];

function compareDecoded(a: DecodedPair, b: DecodedPair): number {
  if (a[0] !== b[0]) return a[0] < b[0] ? -1 : 1;
  if (a[1] !== b[1]) return a[1] < b[1] ? -1 : 1;
  return 0;
}

function decodedPairs(pairs: readonly QueryPair[]): DecodedPair[] | undefined {
  const decoded: DecodedPair[] = [];
  for (const pair of pairs) {
    const key = decodedText(pair[0]);
    const value = decodedText(pair[1]);
    if (key === undefined || value === undefined) return undefined;
    decoded.push([key, value, pair]);
  }
  return decoded;
}

/**
 * The canonical query as Huawei Cloud's signers build it: sorted by the decoded key, then the
 * decoded value (JavaScript string order), and only then encoded. It differs from the encoded
 * order when repeated keys carry values such as "z" and "é" (%C3%A9 sorts before z). Undefined
 * when an escape does not decode as UTF-8.
 */
export function canonicalQueryDecodedOrder(pairs: readonly QueryPair[]): string | undefined {
  const sorted = decodedPairs(pairs)?.sort(compareDecoded);
  if (sorted === undefined) return undefined;
  let out = "";
  for (let i = 0; i < sorted.length; i++) {
    const [, , [key, value]] = sorted[i] as DecodedPair;
    out += i === 0 ? `${key}=${value}` : `&${key}=${value}`;
  }
  return out;
}

const WHITESPACE_RUN = /\s+/g;
// What trimming and collapsing could change: a character other than printable ASCII or a space,
// two spaces in a row, a space at either end. Without any, the value is already canonical; with
// one, the general path applies JavaScript's own white-space rules.
const NOT_COLLAPSED = /[^\x21-\x7e ]| {2}|^ | $/;

function canonicalValue(value: string, collapse: boolean): string {
  if (!collapse) return value.trim();
  return NOT_COLLAPSED.test(value) ? value.trim().replace(WHITESPACE_RUN, " ") : value;
}

/** Values trimmed (and inner white space collapsed for SigV4); repeats joined with `,` in arrival order. */
export function canonicalHeaderValue(values: readonly string[], collapse: boolean): string {
  let out = "";
  for (let i = 0; i < values.length; i++) {
    const value = canonicalValue(values[i] as string, collapse);
    out = i === 0 ? value : `${out},${value}`;
  }
  return out;
}

const NO_VALUES: readonly string[] = [];

/** `name:value\n` for each signed header, in the order of the signed list. */
export function canonicalHeaders(index: HeaderIndex, signedHeaders: readonly string[], collapse: boolean): string {
  let out = "";
  for (const name of signedHeaders) out += `${name}:${canonicalHeaderValue(index.get(name) ?? NO_VALUES, collapse)}\n`;
  return out;
}

/** Nothing for dot-segment removal to change: absolute, no empty segment, no `.` or `..` (nor `.x`, to keep this simple). */
function isNormalPath(rawPath: string): boolean {
  return rawPath.charCodeAt(0) === SLASH && !rawPath.includes("//") && !rawPath.includes("/.");
}

/**
 * RFC 3986 dot-segment removal as the AWS SDKs do it for non-S3 services: empty, `.` and `..`
 * segments dropped, a trailing slash kept, the empty path read as `/`. Works on the raw
 * (still encoded) path, so `%2E` is an ordinary segment, exactly as the signer saw it.
 */
export function removeDotSegments(rawPath: string): string {
  if (isNormalPath(rawPath)) return rawPath;
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

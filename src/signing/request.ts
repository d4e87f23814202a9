import { deny, type Denial } from "./errors.js";

export type HeaderList = Array<[name: string, value: string]>;

/**
 * A request exactly as it arrived. Path and query stay raw (never re-serialised through
 * `new URL()`, which would rewrite `..`, `%2E` and `+` and so change what was signed); headers
 * keep their arrival order and repetitions. A missing body means "not available" (forward-auth
 * mode), which is not the same as an empty one.
 */
export interface HttpRequestDescription {
  method: string;
  rawPath: string;
  rawQuery: string;
  headers: HeaderList;
  body?: Buffer;
}

/** Splits a request target ("path?query" as received) at its first `?`, touching nothing else. */
export function splitRequestTarget(target: string): { rawPath: string; rawQuery: string } {
  const mark = target.indexOf("?");
  if (mark < 0) return { rawPath: target, rawQuery: "" };
  return { rawPath: target.slice(0, mark), rawQuery: target.slice(mark + 1) };
}

/** Lowercased header name → values in arrival order. */
export type HeaderIndex = ReadonlyMap<string, readonly string[]>;

export function indexHeaders(headers: HeaderList): HeaderIndex {
  const index = new Map<string, string[]>();
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    const values = index.get(key);
    if (values) values.push(value);
    else index.set(key, [value]);
  }
  return index;
}

/** A repeated header read as one value, the way the canonical form joins it. */
export function headerValue(index: HeaderIndex, name: string): string | undefined {
  const values = index.get(name);
  if (values === undefined) return undefined;
  return values.length === 1 ? values[0] : values.join(",");
}

// Generous for any SDK request (a presigned URL with a session token is a few KiB) and small
// enough that canonicalising a hostile request stays cheap.
export const REQUEST_LIMITS = {
  targetLength: 16 * 1024,
  queryParameters: 1000,
  headerCount: 200,
  headerBytes: 64 * 1024,
} as const;

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,256}$/;

// CR and LF would let one header forge lines of the canonical request; NUL is never legitimate.
// Three indexOf scans run faster than one character-class search over a request's headers.
function hasForbiddenChar(value: string): boolean {
  return value.indexOf("\n") >= 0 || value.indexOf("\r") >= 0 || value.indexOf("\0") >= 0;
}

/** More than `limit` `&`-separated parts, counted without splitting. */
function hasMoreParts(text: string, limit: number): boolean {
  let parts = 1;
  for (let at = text.indexOf("&"); at >= 0; at = text.indexOf("&", at + 1)) {
    if (++parts > limit) return true;
  }
  return false;
}

/** Rejects requests no SDK would send before any canonicalisation work is spent on them. */
export function checkRequestShape(req: HttpRequestDescription): Denial | undefined {
  return checkTarget(req) ?? checkHeaders(req.headers) ?? checkBody(req.body);
}

function checkBody(body: unknown): Denial | undefined {
  return body === undefined || Buffer.isBuffer(body) ? undefined : deny("InvalidArgument", "the body must be bytes");
}

function checkTarget(req: HttpRequestDescription): Denial | undefined {
  const { method, rawPath, rawQuery } = req;
  if (typeof method !== "string" || !METHOD.test(method)) return deny("InvalidArgument", "the request method is not a valid HTTP token");
  if (typeof rawPath !== "string" || typeof rawQuery !== "string") return deny("InvalidArgument", "the request target is missing");
  if (rawPath.length + rawQuery.length > REQUEST_LIMITS.targetLength) return deny("InvalidArgument", "the request target is too long");
  if (hasForbiddenChar(rawPath) || hasForbiddenChar(rawQuery)) return deny("InvalidArgument", "the request target contains control characters");
  if (hasMoreParts(rawQuery, REQUEST_LIMITS.queryParameters)) {
    return deny("InvalidArgument", "the query string has too many parameters");
  }
  return undefined;
}

function checkHeaders(headers: HeaderList): Denial | undefined {
  if (!Array.isArray(headers)) return deny("InvalidArgument", "the headers must be a list of name and value pairs");
  if (headers.length > REQUEST_LIMITS.headerCount) return deny("RequestHeaderSectionTooLarge", "the request has too many headers");
  let bytes = 0;
  for (const header of headers) {
    if (!isStringPair(header)) return deny("InvalidArgument", "a header is not a name and a value");
    bytes += header[0].length + header[1].length;
    if (bytes > REQUEST_LIMITS.headerBytes) return deny("RequestHeaderSectionTooLarge", "the request headers are too large");
    if (!HEADER_NAME.test(header[0]) || hasForbiddenChar(header[1])) {
      return deny("InvalidArgument", "a header has an invalid name or value");
    }
  }
  return undefined;
}

function isStringPair(header: unknown): header is [string, string] {
  if (!Array.isArray(header) || header.length !== 2) return false;
  return typeof header[0] === "string" && typeof header[1] === "string";
}

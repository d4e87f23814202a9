import { parseJson } from "../json.js";
import { shown } from "../signing/errors.js";
import type { HeaderList, HttpRequestDescription } from "../signing/request.js";
import { splitRequestTarget } from "../signing/request.js";
import { apiError, type ApiError, invalidField, isApiError } from "./errors.js";
import { type ClientIp, parseClientIp } from "./ip.js";

/** A `POST /v1/verify` body, checked: the request to verify and the address its caller asserts. */
export interface VerifyCall {
  readonly request: HttpRequestDescription;
  readonly sourceIp?: ClientIp;
}

const FIELDS = new Set(["method", "url", "headers", "body", "sourceIp"]);
// Standard alphabet, padded: what Buffer#toString("base64") and btoa write. Node's decoder
// would skip anything else silently and verify a body other than the one described.
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

type Parsed<T> = T | ApiError;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function readMethod(value: unknown): Parsed<string> {
  return typeof value === "string" && value !== "" ? value : invalidField("method", "must be a non-empty string");
}

function readUrl(value: unknown): Parsed<string> {
  if (typeof value !== "string") return invalidField("url", "must be a string");
  return value.startsWith("/") ? value : invalidField("url", "must be the raw path and query as received, starting with /");
}

function headerValues(name: string, value: unknown): Parsed<string[]> {
  if (typeof value === "string") return [value];
  const valid = Array.isArray(value) && value.length > 0 && value.every((item) => typeof item === "string");
  return valid ? value : invalidField(`headers.${name}`, "must be a string or a non-empty array of strings");
}

/** `{name: value | [values…]}`: a repeated header keeps its values in arrival order. */
function readHeaders(value: unknown): Parsed<HeaderList> {
  if (!isObject(value)) return invalidField("headers", "must be an object of header names to a value or an array of values");
  const headers: HeaderList = [];
  for (const [name, raw] of Object.entries(value)) {
    const values = headerValues(shown(name), raw);
    if (isApiError(values)) return values;
    for (const item of values) headers.push([name, item]);
  }
  return headers;
}

function readBody(value: unknown, maxBodyBytes: number): Parsed<Buffer | undefined> {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string" || value.length % 4 !== 0 || !BASE64.test(value)) return invalidField("body", "must be base64");
  const padding = value.endsWith("==") ? 2 : Number(value.endsWith("="));
  if ((value.length / 4) * 3 - padding > maxBodyBytes) return apiError("EntityTooLarge", `body: larger than ${maxBodyBytes} bytes`);
  return Buffer.from(value, "base64");
}

function readSourceIp(value: unknown): Parsed<ClientIp | undefined> {
  if (value === undefined || value === null) return undefined;
  const ip = typeof value === "string" ? parseClientIp(value) : undefined;
  return ip ?? invalidField("sourceIp", "must be an IPv4 or IPv6 address");
}

function unknownField(description: Record<string, unknown>): ApiError | undefined {
  const extra = Object.keys(description).find((key) => !FIELDS.has(key));
  return extra === undefined ? undefined : invalidField(shown(extra), "unknown field");
}

function assemble(description: Record<string, unknown>, maxBodyBytes: number): Parsed<VerifyCall> {
  const method = readMethod(description.method);
  if (isApiError(method)) return method;
  const url = readUrl(description.url);
  if (isApiError(url)) return url;
  const headers = readHeaders(description.headers);
  if (isApiError(headers)) return headers;
  const body = readBody(description.body, maxBodyBytes);
  if (isApiError(body)) return body;
  const sourceIp = readSourceIp(description.sourceIp);
  if (isApiError(sourceIp)) return sourceIp;
  return { request: { method, ...splitRequestTarget(url), headers, body }, sourceIp };
}

/**
 * Reads a request description. Only its shape is checked here; what it says (a valid method
 * token, header characters, sizes) is the signing core's to judge, with its own codes.
 */
export function parseVerifyCall(text: string, maxBodyBytes: number): VerifyCall | ApiError {
  const description = parseJson(text);
  if (!isObject(description)) return apiError("InvalidRequest", "the body must be a JSON object describing a request");
  return unknownField(description) ?? assemble(description, maxBodyBytes);
}

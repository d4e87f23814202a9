import { percentDecode, uriEncode } from "../../src/signing/canonical.js";
import type { HeaderList, HttpRequestDescription } from "../../src/signing/request.js";
import { verifySignedRequest, type DenialCode, type VerifyResult } from "../../src/signing/verify.js";

export const GENERATED_KEY = { id: "AKIDGENERATED", secret: "generated/secret+with=chars" };
/** A second live key: its id in a request signed with the first is a content change, not an unknown key. */
export const OTHER_KEY = { id: "AKIDOTHERLIVEKEY", secret: "another/live+secret" };
export const UNKNOWN_KEY_ID = "AKIDNOSUCHKEY";
export const GENERATED_NOW = new Date("2024-05-01T10:00:00Z");

const KEYS = new Map([
  [GENERATED_KEY.id, { secret: GENERATED_KEY.secret }],
  [OTHER_KEY.id, { secret: OTHER_KEY.secret }],
]);

/** Fresh replay cache per call: each request, genuine or mutated, is seen once. */
export function verifyGenerated(req: HttpRequestDescription): VerifyResult<{ secret: string }> {
  return verifySignedRequest(req, { lookup: (id) => KEYS.get(id) }, GENERATED_NOW);
}

export type Expectation = { readonly code: DenialCode } | { readonly allowed: true; readonly payloadVerified: false };

export interface Mutant {
  /** Which element changed, and how. */
  readonly change: string;
  readonly request: HttpRequestDescription;
  readonly expected: Expectation;
}

export const MUTATION_KINDS = ["method", "path", "query value", "signed header value", "body", "date", "credential scope", "access key id", "signature digit"] as const;
export type MutationKind = (typeof MUTATION_KINDS)[number];

const DENY_CONTENT: Expectation = { code: "SignatureDoesNotMatch" };
const BODY_NOT_COVERED: Expectation = { allowed: true, payloadVerified: false };
const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;
const MINUTE_MS = 60_000;

// ---- Where a signed request keeps its signature ----------------------------------------------

type Scheme = "AWS4-HMAC-SHA256" | "ACS3-HMAC-SHA256" | "SDK-HMAC-SHA256";

interface Site {
  readonly scheme: Scheme;
  readonly presigned: boolean;
}

function headerIndex(req: HttpRequestDescription, name: string): number {
  return req.headers.findIndex(([n]) => n.toLowerCase() === name);
}

function header(req: HttpRequestDescription, name: string): string | undefined {
  return req.headers[headerIndex(req, name)]?.[1];
}

function queryParts(req: HttpRequestDescription): string[] {
  return req.rawQuery === "" ? [] : req.rawQuery.split("&");
}

function partKey(part: string): string {
  const eq = part.indexOf("=");
  return eq < 0 ? part : part.slice(0, eq);
}

function queryParam(req: HttpRequestDescription, key: string): string | undefined {
  const part = queryParts(req).find((p) => partKey(p) === key);
  return part === undefined ? undefined : (percentDecode(part.slice(key.length + 1)) ?? Buffer.alloc(0)).toString("utf8");
}

function siteOf(req: HttpRequestDescription): Site {
  const authorization = header(req, "authorization");
  if (authorization === undefined) return { scheme: "AWS4-HMAC-SHA256", presigned: true };
  return { scheme: authorization.slice(0, authorization.indexOf(" ")) as Scheme, presigned: false };
}

// ---- Editing one element ----------------------------------------------------------------------

function withHeader(req: HttpRequestDescription, name: string, edit: (value: string) => string): HttpRequestDescription {
  const at = headerIndex(req, name);
  const headers: HeaderList = req.headers.map(([n, v], i) => [n, i === at ? edit(v) : v]);
  return { ...req, headers };
}

function withQueryPart(req: HttpRequestDescription, index: number, edit: (part: string) => string): HttpRequestDescription {
  return { ...req, rawQuery: queryParts(req).map((part, i) => (i === index ? edit(part) : part)).join("&") };
}

/** Replaces a presigning parameter's decoded value, written back encoded as the SDKs write it. */
function withQueryParam(req: HttpRequestDescription, key: string, edit: (value: string) => string): HttpRequestDescription {
  const index = queryParts(req).findIndex((part) => partKey(part) === key);
  return withQueryPart(req, index, () => `${key}=${uriEncode(edit(queryParam(req, key) ?? ""))}`);
}

const AUTH_PARAM: Record<Scheme, string> = { "AWS4-HMAC-SHA256": "Credential", "ACS3-HMAC-SHA256": "Credential", "SDK-HMAC-SHA256": "Access" };

/** Edits one `Key=value` parameter of the Authorization header. */
function withAuthParam(req: HttpRequestDescription, key: string, edit: (value: string) => string): HttpRequestDescription {
  const pattern = new RegExp(`(^|[ ,])${key}=([^,]*)`);
  return withHeader(req, "authorization", (value) => value.replace(pattern, (_match, lead: string, found: string) => `${lead}${key}=${edit(found)}`));
}

/** The SigV4 credential `AK/date/region/service/aws4_request`, wherever the request carries it. */
function withCredential(req: HttpRequestDescription, site: Site, edit: (parts: string[]) => string[]): HttpRequestDescription {
  const change = (credential: string): string => edit(credential.split("/")).join("/");
  return site.presigned ? withQueryParam(req, "X-Amz-Credential", change) : withAuthParam(req, "Credential", change);
}

function withAccessKeyId(req: HttpRequestDescription, site: Site, id: string): HttpRequestDescription {
  if (site.scheme === "AWS4-HMAC-SHA256") return withCredential(req, site, ([, ...rest]) => [id, ...rest]);
  return withAuthParam(req, AUTH_PARAM[site.scheme], () => id);
}

// ---- Dates ------------------------------------------------------------------------------------

const COMPACT = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

function parseDate(value: string): number {
  const compact = COMPACT.exec(value);
  const iso = compact ? `${compact[1]}-${compact[2]}-${compact[3]}T${compact[4]}:${compact[5]}:${compact[6]}Z` : value;
  return Date.parse(iso);
}

/** Shifts a date by `ms`, written back in the form it had. */
function shiftDate(value: string, ms: number): string {
  const iso = new Date(parseDate(value) + ms).toISOString().replace(/\.\d{3}Z$/, "Z");
  return COMPACT.test(value) ? iso.replace(/[-:]/g, "") : iso;
}

const DATE_HEADER: Record<Scheme, string> = { "AWS4-HMAC-SHA256": "x-amz-date", "ACS3-HMAC-SHA256": "x-acs-date", "SDK-HMAC-SHA256": "x-sdk-date" };

function withDate(req: HttpRequestDescription, site: Site, ms: number): HttpRequestDescription {
  const edit = (value: string): string => shiftDate(value, ms);
  return site.presigned ? withQueryParam(req, "X-Amz-Date", edit) : withHeader(req, DATE_HEADER[site.scheme], edit);
}

/** A presigned request 20 minutes older is still within an expiry of 20 minutes or more. */
function olderRequest(req: HttpRequestDescription, site: Site): Expectation {
  if (!site.presigned) return { code: "RequestTimeTooSkewed" };
  return Number(queryParam(req, "X-Amz-Expires")) * 1000 >= 20 * MINUTE_MS ? DENY_CONTENT : { code: "AccessDenied" };
}

function dateMutants(req: HttpRequestDescription, site: Site): Mutant[] {
  return [
    { change: "date +1 s", request: withDate(req, site, 1000), expected: DENY_CONTENT },
    { change: "date +20 min", request: withDate(req, site, 20 * MINUTE_MS), expected: { code: "RequestTimeTooSkewed" } },
    { change: "date -20 min", request: withDate(req, site, -20 * MINUTE_MS), expected: olderRequest(req, site) },
  ];
}

// ---- Signed header list and payload ------------------------------------------------------------

function signedHeaderNames(req: HttpRequestDescription, site: Site): string[] {
  if (site.presigned) return (queryParam(req, "X-Amz-SignedHeaders") ?? "").split(";");
  const match = /SignedHeaders=([^,\s]*)/.exec(header(req, "authorization") ?? "");
  return (match?.[1] ?? "").split(";");
}

const DATE_HEADERS = new Set(Object.values(DATE_HEADER));
// A declared payload hash that is no longer one is refused as such, before the signature.
const PAYLOAD_HASH_HEADERS = new Set(["x-amz-content-sha256", "x-sdk-content-sha256"]);

function headerMutants(req: HttpRequestDescription, site: Site): Mutant[] {
  return signedHeaderNames(req, site)
    .filter((name) => !DATE_HEADERS.has(name) && headerIndex(req, name) >= 0)
    .map((name) => ({
      change: `header ${name} + "x"`,
      request: withHeader(req, name, (value) => `${value}x`),
      expected: PAYLOAD_HASH_HEADERS.has(name) ? { code: "InvalidArgument" } : DENY_CONTENT,
    }));
}

function sigV4BodyChange(req: HttpRequestDescription, site: Site): Expectation {
  const declared = header(req, "x-amz-content-sha256") ?? (site.presigned ? queryParam(req, "X-Amz-Content-Sha256") : undefined);
  if (declared === UNSIGNED_PAYLOAD) return BODY_NOT_COVERED;
  if (declared !== undefined && SHA256_HEX.test(declared)) return { code: "XAmzContentSHA256Mismatch" };
  const s3Presigned = site.presigned && (queryParam(req, "X-Amz-Credential") ?? "").split("/")[3] === "s3";
  return declared === undefined && s3Presigned ? BODY_NOT_COVERED : DENY_CONTENT;
}

/** What another body means: SigV4 and Huawei sign a declared hash when there is one, ACS3 always the body's. */
function bodyChange(req: HttpRequestDescription, site: Site): Expectation {
  if (site.scheme === "AWS4-HMAC-SHA256") return sigV4BodyChange(req, site);
  if (site.scheme === "SDK-HMAC-SHA256" && header(req, "x-sdk-content-sha256") === UNSIGNED_PAYLOAD) return BODY_NOT_COVERED;
  return DENY_CONTENT;
}

// ---- The mutations ------------------------------------------------------------------------------

const PRESIGN_KEYS = new Set(["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token", "X-Amz-Expires"]);
const OTHER_METHOD: Record<string, string> = { GET: "HEAD", HEAD: "GET", POST: "PUT", PUT: "POST", DELETE: "GET", PATCH: "PUT", OPTIONS: "GET" };

function queryMutants(req: HttpRequestDescription, site: Site): Mutant[] {
  const mutants: Mutant[] = [];
  queryParts(req).forEach((part, index) => {
    const key = partKey(part);
    if (PRESIGN_KEYS.has(key)) return;
    const edit = (p: string): string => (p.includes("=") ? `${p}x` : `${p}=x`);
    // The AWS SDK v3 hoists X-Amz-Content-Sha256 into a presigned query: no longer a hash, it is refused as such.
    const expected: Expectation = key === "X-Amz-Content-Sha256" ? { code: "InvalidArgument" } : DENY_CONTENT;
    mutants.push({ change: `query ${key} value + "x"`, request: withQueryPart(req, index, edit), expected });
  });
  if (site.presigned) {
    const expires = (value: string): string => String(Number(value) < 604_800 ? Number(value) + 1 : Number(value) - 1);
    mutants.push({ change: "X-Amz-Expires changed", request: withQueryParam(req, "X-Amz-Expires", expires), expected: DENY_CONTENT });
  }
  return mutants;
}

function scopeMutants(req: HttpRequestDescription, site: Site): Mutant[] {
  if (site.scheme !== "AWS4-HMAC-SHA256") return [];
  const malformed: DenialCode = site.presigned ? "AuthorizationQueryParametersError" : "AuthorizationHeaderMalformed";
  const at = (index: number, edit: (part: string) => string) => (parts: string[]) => parts.map((part, i) => (i === index ? edit(part) : part));
  return [
    { change: "scope region", request: withCredential(req, site, at(2, (region) => `${region}x`)), expected: DENY_CONTENT },
    { change: "scope service", request: withCredential(req, site, at(3, (service) => `${service}x`)), expected: DENY_CONTENT },
    { change: "scope date -1 day", request: withCredential(req, site, at(1, (date) => shiftDate(`${date}T000000Z`, -24 * 60 * MINUTE_MS).slice(0, 8))), expected: { code: malformed } },
  ];
}

function signatureMutant(req: HttpRequestDescription, site: Site, pick: number): Mutant {
  const position = pick % 64;
  const flip = (hex: string): string => `${hex.slice(0, position)}${((parseInt(hex[position] ?? "0", 16) + 1) % 16).toString(16)}${hex.slice(position + 1)}`;
  const request = site.presigned ? withQueryParam(req, "X-Amz-Signature", flip) : withAuthParam(req, "Signature", flip);
  return { change: `signature digit ${position}`, request, expected: DENY_CONTENT };
}

const MUTATORS: Record<MutationKind, (req: HttpRequestDescription, site: Site, pick: number) => Mutant[]> = {
  method: (req) => [{ change: "method", request: { ...req, method: OTHER_METHOD[req.method] ?? "GET" }, expected: DENY_CONTENT }],
  path: (req) => [{ change: 'path + "x"', request: { ...req, rawPath: `${req.rawPath}x` }, expected: DENY_CONTENT }],
  "query value": queryMutants,
  "signed header value": headerMutants,
  body: (req, site) => [{ change: 'body + "!"', request: { ...req, body: Buffer.concat([req.body ?? Buffer.alloc(0), Buffer.from("!")]) }, expected: bodyChange(req, site) }],
  date: dateMutants,
  "credential scope": scopeMutants,
  "access key id": (req, site) => [
    { change: "unknown access key id", request: withAccessKeyId(req, site, UNKNOWN_KEY_ID), expected: { code: "InvalidAccessKeyId" } },
    { change: "another live key's id", request: withAccessKeyId(req, site, OTHER_KEY.id), expected: DENY_CONTENT },
  ],
  "signature digit": (req, site, pick) => [signatureMutant(req, site, pick)],
};

/** Every request that differs from `req` in exactly one signed element of this kind, with the answer it must get. */
export function mutantsOf(kind: MutationKind, req: HttpRequestDescription, pick: number): Mutant[] {
  return MUTATORS[kind](req, siteOf(req), pick);
}

/** Whether a verification result is what a mutant must get. */
export function meets(result: VerifyResult<unknown>, expected: Expectation): boolean {
  if ("code" in expected) return !result.allowed && result.code === expected.code;
  return result.allowed && !result.payloadVerified;
}

export function summary(result: VerifyResult<unknown>): string {
  return result.allowed ? `allowed (payloadVerified ${result.payloadVerified})` : `${result.code}: ${result.message}`;
}

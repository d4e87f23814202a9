import fc from "fast-check";
import { signAcs3 } from "../../support/signers/acs3.js";
import { signHuawei } from "../../support/signers/huawei.js";
import type { HeaderList, HttpRequestDescription } from "../../../src/signing/request.js";
import { signSigV4 } from "../../support/signers/sigv4.js";
import { KEY_ID, SECRET } from "../verifier/fake-keys.js";

/** Fixed so that a failure reproduces; HOSTILE_SEED explores others. */
export const HOSTILE_SEED = Number(process.env.HOSTILE_SEED ?? 73_570);
export const SESSION_TOKEN = "FwoGZXIvYXdzEBYaDHostileSessionTokenValue==";
export const SCHEMES = ["AWS4-HMAC-SHA256", "ACS3-HMAC-SHA256", "SDK-HMAC-SHA256"] as const;

// ---- Strings that break parsers ---------------------------------------------------------------

// Every scheme's separators, quotes, controls, bytes above 0x7f as Node hands them over (latin1),
// astral and bidi characters, a byte-order mark and lone surrogates (not valid UTF-16 at all).
const NASTY = [",", ";", "=", "/", " ", "  ", "\t", '"', "%", "\\", "\0", "\r", "\n", "\x7f", "\x80", "\xff", "é", "😀", "\ud800", "\udfff", "\u202e", "\ufeff", "&", "?", "#"];
const PLAIN = [..."aZ09-_.~"];

export function nasty(maxLength = 24): fc.Arbitrary<string> {
  return fc.string({ unit: fc.oneof(fc.constantFrom(...NASTY), fc.constantFrom(...PLAIN)), maxLength });
}

/** Long runs, for limits: up to `max` characters of one kind. */
export function long(max: number): fc.Arbitrary<string> {
  return fc.tuple(fc.constantFrom("a", "%", ";", "é", ","), fc.integer({ min: 1, max })).map(([char, count]) => char.repeat(count));
}

// ---- Dates --------------------------------------------------------------------------------------

const pad = (value: number, width: number): string => String(value).padStart(width, "0");

/** `YYYYMMDDTHHMMSSZ` shapes with any field out of its range (31 February, hour 24, year 0…). */
const compactShape = fc
  .tuple(fc.integer({ min: 0, max: 99_999 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }), fc.integer({ min: 0, max: 99 }))
  .map(([y, mo, d, h, mi, s]) => `${pad(y, 4)}${pad(mo, 2)}${pad(d, 2)}T${pad(h, 2)}${pad(mi, 2)}${pad(s, 2)}Z`);

const isoShape = compactShape.map((c) => `${c.slice(0, 4)}-${c.slice(4, 6)}-${c.slice(6, 8)}T${c.slice(9, 11)}:${c.slice(11, 13)}:${c.slice(13, 15)}Z`);

const NEAR_MISSES = [
  "",
  "20240501T100000",
  "20240501t100000z",
  "2024-05-01T10:00:00Z",
  "20240501T100000Z ",
  " 20240501T100000Z",
  "20240230T100000Z",
  "20240501T240000Z",
  "20240501T100060Z",
  "２０２４０５０１Ｔ１０００００Ｚ",
  "+0240501T100000Z",
  "-0240501T100000Z",
  "2024-05-01T10:00:00.000Z",
  "2024-05-01T10:00:00+00:00",
  "Wed, 01 May 2024 10:00:00 GMT",
  "NaN",
  "99999999T999999Z",
];

export const hostileDate: fc.Arbitrary<string> = fc.oneof(compactShape, isoShape, fc.constantFrom(...NEAR_MISSES), nasty(20), long(5000));

// ---- Authorization headers ----------------------------------------------------------------------

const algorithm = fc.oneof(
  fc.constantFrom(...SCHEMES),
  fc.constantFrom("aws4-hmac-sha256", "AWS4-HMAC-SHA1", "AWS4-HMAC-SHA256\t", "ACS3-HMAC-SM3", "SDK-HMAC-SHA256,", "Bearer", "Basic", "AWS", ""),
  nasty(12),
);

const hex = fc.oneof(fc.stringMatching(/^[0-9a-fA-F]{0,70}$/), fc.stringMatching(/^[0-9a-f]{63}[g-z]$/), long(300));
const headerNames = fc.oneof(
  fc.array(fc.constantFrom("host", "x-amz-date", "x-acs-date", "x-sdk-date", "x-amz-content-sha256", "content-type", "Host", "", "a b", "x-amz-date"), { maxLength: 8 }).map((names) => names.join(";")),
  fc.integer({ min: 1, max: 5000 }).map((count) => Array.from({ length: count }, (_, i) => `h${i}`).join(";")),
  nasty(),
);
const credential = fc
  .tuple(fc.constantFrom(KEY_ID, "", "AKID", "a/b"), fc.oneof(compactShape.map((c) => c.slice(0, 8)), nasty(10)), nasty(8), fc.constantFrom("s3", "sts", ""), fc.constantFrom("aws4_request", "aws4_reques", ""))
  .chain((parts) => fc.integer({ min: 0, max: parts.length }).map((keep) => parts.slice(0, keep).join("/")));

const paramValue = fc.oneof(credential, headerNames, hex, nasty(), long(20_000));
const paramKey = fc.constantFrom("Credential", "SignedHeaders", "Signature", "Access", "credential", "Signature ", " Credential", "X", "");
const param = fc.oneof({ arbitrary: fc.tuple(paramKey, paramValue).map(([key, value]) => `${key}=${value}`), weight: 4 }, { arbitrary: nasty(), weight: 1 });

/** Malformed Authorization values of all three schemes: wrong, missing, repeated and unknown parameters, any separators. */
export const hostileAuthorization: fc.Arbitrary<string> = fc
  .tuple(algorithm, fc.constantFrom(" ", "", "  ", "\t", ","), fc.array(param, { maxLength: 6 }), fc.constantFrom(", ", ",", " ", ",,", ";", ", ,"))
  .map(([alg, gap, params, joiner]) => `${alg}${gap}${params.join(joiner)}`);

// ---- Paths, queries, headers, bodies ------------------------------------------------------------

const BAD_ENCODINGS = ["%", "%G1", "%zz", "%2", "%%", "%u00e9", "%C3", "%C3%28", "%ED%A0%80", "%FF", "%00", "%0D%0A", "%E2%82", "%C0%AF", "%2e%2e"];

const pathPiece = fc.oneof(fc.constantFrom(...BAD_ENCODINGS), fc.constantFrom("/", "//", "..", ".", "+"), nasty(6));
export const hostilePath: fc.Arbitrary<string> = fc.oneof(
  fc.array(pathPiece, { maxLength: 10 }).map((pieces) => `/${pieces.join("")}`),
  long(20_000).map((run) => `/${run}`),
  fc.constantFrom("", "*", "http://example.com/", "?"),
);

const PRESIGN_PARAMS = ["X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders", "X-Amz-Signature", "X-Amz-Security-Token", "X-Amz-Content-Sha256"];
const EXPIRES = ["-1", "0", "604801", "1e3", "0x10", "９", "99999999999", "", " 60"];
const queryPart = fc.oneof(
  fc.tuple(fc.constantFrom(...PRESIGN_PARAMS), fc.oneof(fc.constantFrom(...EXPIRES, "AWS4-HMAC-SHA256"), hostileDate, credential.map(encodeURIComponentSafe), hex)).map(([key, value]) => `${key}=${value}`),
  fc.tuple(nasty(8), fc.oneof(fc.constantFrom(...BAD_ENCODINGS), nasty(8))).map(([key, value]) => `${key}=${value}`),
  fc.constantFrom("", "=", "==", "&", "k", "k=v=w"),
);
export const hostileQuery: fc.Arbitrary<string> = fc.oneof(
  fc.array(queryPart, { maxLength: 12 }).map((parts) => parts.join("&")),
  fc.integer({ min: 990, max: 1100 }).map((count) => Array.from({ length: count }, (_, i) => `p${i}=${i}`).join("&")),
);

/** Encodes what encodeURIComponent can, and keeps what it cannot (lone surrogates) as they are. */
function encodeURIComponentSafe(value: string): string {
  try {
    return encodeURIComponent(value);
  } catch {
    return value;
  }
}

const headerName = fc.oneof(
  { arbitrary: fc.constantFrom("Authorization", "Host", "X-Amz-Date", "x-amz-content-sha256", "X-Acs-Date", "X-Sdk-Date", "x-amz-security-token", "Content-Length", "x-amz-meta-a"), weight: 4 },
  { arbitrary: fc.constantFrom("", "a b", "x:y", "é", "x\r\ny", "(paren)", "h".repeat(300)), weight: 1 },
  { arbitrary: nasty(10), weight: 1 },
);
const headerValue = fc.oneof(hostileAuthorization, hostileDate, nasty(), long(70_000), fc.constantFrom("STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "UNSIGNED-PAYLOAD", SESSION_TOKEN));
export const hostileHeaders: fc.Arbitrary<HeaderList> = fc.oneof(
  fc.array(fc.tuple(headerName, headerValue).map(([name, value]): [string, string] => [name, value]), { maxLength: 8 }),
  fc.integer({ min: 190, max: 260 }).map((count): HeaderList => Array.from({ length: count }, (_, i) => [`x-h${i}`, "v"])),
);

export const hostileBody: fc.Arbitrary<Buffer | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 256 }).map((bytes) => Buffer.from(bytes)),
  // Not UTF-8: a lone continuation byte, an overlong slash, a truncated sequence, a surrogate half.
  fc.constantFrom(...["80", "c0af", "e282", "eda080", "fffe"].map((hexText) => Buffer.from(hexText, "hex"))),
);

const METHODS = ["GET", "POST", "get", "", " GET", "GET ", "G E T", "GÉT", "PROPFIND", "X".repeat(40), "\0"];
export const hostileMethod: fc.Arbitrary<string> = fc.oneof(fc.constantFrom(...METHODS), nasty(6));

/** Hostile everywhere at once: most of these fail the shape checks, before any parsing. */
const shallowHostileRequest: fc.Arbitrary<HttpRequestDescription> = fc.record({
  method: hostileMethod,
  rawPath: hostilePath,
  rawQuery: hostileQuery,
  headers: fc.tuple(hostileHeaders, fc.array(hostileAuthorization, { minLength: 1, maxLength: 3 })).map(([headers, auths]): HeaderList => [...headers, ...auths.map((auth): [string, string] => ["Authorization", auth])]),
  body: hostileBody,
});

// Well-formed enough to get past the shape checks and into each scheme's parser, the header and
// time checks and the key lookup: a known key id, scope and dates around the verification time.
const NEAR_DATES = ["20240501T100000Z", "20240501T101400Z", "20240501T094000Z", "20240501T104500Z", "20240502T100000Z"];
const nearDate = fc.oneof({ arbitrary: fc.constantFrom(...NEAR_DATES), weight: 3 }, { arbitrary: hostileDate, weight: 1 });
const nearIsoDate = nearDate.map((d) => (/^\d{8}T\d{6}Z$/.test(d) ? `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}T${d.slice(9, 11)}:${d.slice(11, 13)}:${d.slice(13, 15)}Z` : d));
const SIGNABLE = ["content-type", "host", "x-acs-date", "x-acs-signature-nonce", "x-amz-content-sha256", "x-amz-date", "x-amz-security-token", "x-sdk-date"];
const keyId = fc.constantFrom(KEY_ID, KEY_ID, "AKIDUNKNOWN", "", KEY_ID.toLowerCase());
const scope = fc
  .tuple(keyId, fc.constantFrom("20240501", "20240501", "20240502", "2024050", "2024O501"), fc.constantFrom("eu-west-1", "", "a/b"), fc.constantFrom("things", "s3"), fc.constantFrom("aws4_request", "aws4_request", "aws4_reques"))
  .map((parts) => parts.join("/"));
const signature = fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), hex);

/** Usually exactly the headers present (so the checks pass on to the lookup and the signature), sometimes not. */
function signedListFor(present: readonly string[]): fc.Arbitrary<string> {
  const exact = [...new Set(["host", ...present.map((name) => name.toLowerCase())])].sort().join(";");
  return fc.oneof({ arbitrary: fc.constant(exact), weight: 4 }, { arbitrary: fc.subarray(SIGNABLE, { minLength: 1 }).map((names) => names.join(";")), weight: 1 }, { arbitrary: headerNames, weight: 1 });
}

function authParams(keyName: string, joiner: string, id: fc.Arbitrary<string>, list: fc.Arbitrary<string>): fc.Arbitrary<string> {
  return fc
    .tuple(id, list, signature, fc.oneof({ arbitrary: fc.constant([0, 1, 2]), weight: 5 }, { arbitrary: fc.subarray([2, 1, 0, 1]), weight: 1 }))
    .map(([credential, names, sig, keep]) => keep.map((i) => [`${keyName}=${credential}`, `SignedHeaders=${names}`, `Signature=${sig}`][i]).join(joiner));
}

const AUTH_FORMS = {
  "AWS4-HMAC-SHA256": { keyName: "Credential", joiner: ", ", required: ["X-Amz-Date"] },
  "ACS3-HMAC-SHA256": { keyName: "Credential", joiner: ",", required: ["x-acs-date", "x-acs-signature-nonce"] },
  "SDK-HMAC-SHA256": { keyName: "Access", joiner: ", ", required: ["X-Sdk-Date"] },
} as const;

function nearAuthorization(scheme: (typeof SCHEMES)[number], present: readonly string[]): fc.Arbitrary<string> {
  const form = AUTH_FORMS[scheme];
  return authParams(form.keyName, form.joiner, scheme === "AWS4-HMAC-SHA256" ? scope : keyId, signedListFor(present)).map((rest) => `${scheme} ${rest}`);
}

const OPTIONAL_HEADERS = ["X-Amz-Date", "x-acs-date", "x-acs-signature-nonce", "X-Sdk-Date", "x-amz-content-sha256", "x-amz-security-token", "Content-Type"];
const CONTENT_HASHES = ["UNSIGNED-PAYLOAD", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855", "zz", ""];

/** The scheme's own date (and nonce) headers most of the time, and a few others. */
const schemeAndHeaders = fc.constantFrom(...SCHEMES).chain((scheme) =>
  fc
    .tuple(fc.constant(scheme), fc.oneof({ arbitrary: fc.constant(AUTH_FORMS[scheme].required), weight: 5 }, { arbitrary: fc.constant([]), weight: 1 }), fc.subarray(OPTIONAL_HEADERS, { maxLength: 2 }))
    .map(([s, required, optional]) => ({ scheme: s, present: [...new Set<string>([...required, ...optional])] })),
);

const nearHeaders: fc.Arbitrary<HeaderList> = schemeAndHeaders.chain(({ scheme, present }) =>
  fc
    .tuple(nearDate, nearIsoDate, fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), nasty(8), long(200)), fc.constantFrom(...CONTENT_HASHES), nearAuthorization(scheme, present))
    .map(([date, iso, nonce, hash, auth]) => {
      const values: Record<string, string> = { "X-Amz-Date": date, "x-acs-date": iso, "x-acs-signature-nonce": nonce, "X-Sdk-Date": date, "x-amz-content-sha256": hash, "x-amz-security-token": SESSION_TOKEN, "Content-Type": "application/json" };
      return [["Host", "api.example.test"], ...present.map((name): [string, string] => [name, values[name] ?? ""]), ["Authorization", auth]];
    }),
);

const nearPath = fc.oneof(fc.constantFrom("/", "/v1/things/a%20b", "/a/../b", "//x", "/%2e%2e/", "/é"), fc.array(fc.oneof(fc.constantFrom(...BAD_ENCODINGS), fc.stringMatching(/^[a-z0-9._~-]{0,6}$/)), { maxLength: 4 }).map((pieces) => `/${pieces.join("/")}`));
const nearQuery = fc.oneof({ arbitrary: fc.constantFrom("", "limit=2&marker=x", "a=1&a=2&a=", "X-Amz-Expires=60", "k=%C3%28"), weight: 4 }, { arbitrary: fc.array(queryPart, { maxLength: 3 }).map((parts) => parts.join("&")), weight: 1 });

const deepHostileRequest: fc.Arbitrary<HttpRequestDescription> = fc.record({
  method: fc.constantFrom("GET", "POST", "PUT", "DELETE"),
  rawPath: nearPath,
  rawQuery: nearQuery,
  headers: nearHeaders,
  body: hostileBody,
});

/** A request made of hostile parts only, no genuine signature anywhere: some fail at once, most deep inside. */
export const hostileRequest: fc.Arbitrary<HttpRequestDescription> = fc.oneof({ arbitrary: shallowHostileRequest, weight: 1 }, { arbitrary: deepHostileRequest, weight: 3 });

// ---- Genuine requests, to be broken one way at a time --------------------------------------------

const ORIGINAL: HttpRequestDescription = {
  method: "POST",
  rawPath: "/v1/things/a%20b",
  rawQuery: "limit=2&marker=x",
  headers: [["Host", "api.example.test"], ["Content-Type", "application/json"]],
  body: Buffer.from('{"name":"x"}'),
};

/** One genuinely signed request per scheme and form, signed at `now` with the fake index's key. */
export function genuineRequests(now: Date): Record<string, HttpRequestDescription> {
  const aws = { accessKeyId: KEY_ID, secret: SECRET, region: "eu-west-1", service: "things" };
  return {
    "SigV4 header": signSigV4(ORIGINAL, aws, now),
    "SigV4 header, session token": signSigV4(ORIGINAL, { ...aws, sessionToken: SESSION_TOKEN }, now),
    "SigV4 presigned": signSigV4({ ...ORIGINAL, method: "GET", body: undefined }, { ...aws, presignExpires: 300 }, now),
    "ACS3 header": signAcs3(ORIGINAL, { accessKeyId: KEY_ID, secret: SECRET }, now),
    "Huawei header": signHuawei(ORIGINAL, { accessKeyId: KEY_ID, secret: SECRET }, now),
  };
}

export type GenuineName = keyof ReturnType<typeof genuineRequests>;

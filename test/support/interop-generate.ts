import fc from "fast-check";
import { uriEncode } from "../../src/signing/canonical.js";
import type { AwsOptions, Pair, SignerName, SignInput } from "../interop/signers/index.js";

/** A generated request, before credentials and time are added, and what its signer covers. */
export interface GeneratedCase {
  readonly request: Omit<SignInput, "accessKeyId" | "secret" | "time">;
  /** False when the signer signs UNSIGNED-PAYLOAD: the body is then not covered. */
  readonly payloadVerified: boolean;
  /** Free choice for mutations that need one position (which signature digit to change). */
  readonly pick: number;
}

/**
 * What one signer is given. Each SDK has documented departures from its own scheme, pinned by
 * the table tests in test/unit/interop (the "KNOWN" and "outside the rules" describes); the
 * generator keeps those inputs out, so that every generated request is one its server accepts.
 */
interface Profile {
  readonly family: "aws" | "acs3" | "huawei";
  /**
   * Dot segments (`.`, `..`) and a path ending in `//`. Huawei: the SDK signs them as given, but
   * its transport resolves dot segments and drops one of the trailing slashes before sending.
   */
  readonly dotSegments: boolean;
  /** aws4 only: no repeated query key and no %2F in an S3 path (aws4 signs the first value only, and a plain /). */
  readonly aws4S3Rules: boolean;
  /** How query keys may look and repeat, see queryFor. */
  readonly query: "any" | "single-unreserved-keys" | "unreserved-keys-and-repeated-values";
  /** Huawei signs header values untrimmed while HTTP drops the edges: values there have no outer white space. */
  readonly trimHeaderValues: boolean;
  /**
   * The AWS SDK v3's clients set Content-Length (their content-length middleware) before signing;
   * the bare signer and transport do not, and Node then sends no body with DELETE or OPTIONS.
   */
  readonly contentLength?: boolean;
}

const PROFILES: Record<SignerName, Profile> = {
  botocore: { family: "aws", dotSegments: true, aws4S3Rules: false, query: "any", trimHeaderValues: false },
  "aws-sdk-js-v3": { family: "aws", dotSegments: true, aws4S3Rules: false, query: "any", trimHeaderValues: false, contentLength: true },
  aws4: { family: "aws", dotSegments: true, aws4S3Rules: true, query: "any", trimHeaderValues: false },
  // The Alibaba SDK holds the query as a map (no repeated key) and encodes values only (keys
  // must need no encoding); ROA paths arrive encoded by getEncodePath, so no raw "+".
  "alibaba-openapi-util": { family: "acs3", dotSegments: true, aws4S3Rules: false, query: "single-unreserved-keys", trimHeaderValues: false },
  "huawei-sdk-core": { family: "huawei", dotSegments: false, aws4S3Rules: false, query: "any", trimHeaderValues: true },
};

const UNRESERVED = [..."abcxyzABCXYZ0189", "-", ".", "_", "~"];
const AWKWARD = [" ", "é", "☃", "😀", ..."!'()*;:@&=+$,?#[]%"];
const UNRESERVED_TEXT = /[^A-Za-z0-9\-._~]/g;

function text(chars: readonly string[], minLength: number, maxLength: number): fc.Arbitrary<string> {
  return fc.array(fc.constantFrom(...chars), { minLength, maxLength }).map((parts) => parts.join(""));
}

/** A path segment as an SDK serializer writes it: the decoded label, RFC 3986-encoded. */
function segment(withSlash: boolean): fc.Arbitrary<string> {
  const chars = withSlash ? [...UNRESERVED, ...AWKWARD, "/"] : [...UNRESERVED, ...AWKWARD];
  return text(chars, 1, 8)
    .map((label) => uriEncode(label))
    .filter((encoded) => encoded !== "." && encoded !== "..");
}

/** `/`, `//` (empty segments), `.` and `..` segments, encoded labels, with or without a trailing slash. */
function path(dotSegments: boolean, withSlash: boolean): fc.Arbitrary<string> {
  const structural = fc.constantFrom(...(dotSegments ? ["", ".", ".."] : [""]));
  const element = fc.oneof({ arbitrary: segment(withSlash), weight: 3 }, { arbitrary: structural, weight: 1 });
  return fc.record({ elements: fc.array(element, { maxLength: 6 }), trailing: fc.boolean() }).map(({ elements, trailing }) => {
    const joined = `/${elements.join("/")}`;
    const full = trailing && elements.length > 0 ? `${joined}/` : joined;
    return dotSegments ? full : full.replace(/\/{2,}$/, "/");
  });
}

function keepFirstOfEachKey(pairs: readonly Pair[]): Pair[] {
  const seen = new Set<string>();
  return pairs.filter(([key]) => !seen.has(key) && seen.add(key) !== undefined);
}

function unreservedRepeatedValues(pairs: readonly Pair[]): Pair[] {
  const counts = new Map<string, number>();
  for (const [key] of pairs) counts.set(key, (counts.get(key) ?? 0) + 1);
  return pairs.map(([key, value]) => [key, (counts.get(key) ?? 0) > 1 ? value.replace(UNRESERVED_TEXT, "") : value]);
}

/** Pairs as an SDK client holds them, decoded; a few shared keys make repeats likely. */
function queryFor(profile: Profile, singleValued: boolean): fc.Arbitrary<Pair[]> {
  const anyKey = profile.query === "any";
  const key = fc.oneof(fc.constantFrom("k", "id", "Filter.1"), text(anyKey ? [...UNRESERVED, ...AWKWARD] : UNRESERVED, 1, 6));
  const value = text([...UNRESERVED, ...AWKWARD, "  "], 0, 10);
  const pairs = fc.array(fc.tuple(key, value).map((pair): Pair => pair), { maxLength: 6 });
  if (singleValued || profile.query === "single-unreserved-keys") return pairs.map(keepFirstOfEachKey);
  return profile.query === "unreserved-keys-and-repeated-values" ? pairs.map(unreservedRepeatedValues) : pairs;
}

const HEADER_VALUE_CHARS = [..."abcXYZ019", " ", "  ", "   ", "\t", ..."!\"#$%&'()*+,-./:;<=>?@[]^_`{|}~"];

function headerValue(trim: boolean): fc.Arbitrary<string> {
  return text(HEADER_VALUE_CHARS, 1, 12)
    .map((value) => (trim ? value.trim() : value))
    .filter((value) => value.trim() !== "");
}

const HEADER_PREFIX = { aws: "x-amz-meta-", acs3: "x-acs-meta-", huawei: "x-note-" } as const;

/** Custom headers (each signed: the security prefixes must be), values with runs of spaces and tabs. */
function headersFor(profile: Profile): fc.Arbitrary<Pair[]> {
  const name = text([..."abcdefxyz09"], 1, 6).map((suffix) => `${HEADER_PREFIX[profile.family]}${suffix}`);
  return fc.uniqueArray(fc.tuple(name, headerValue(profile.trimHeaderValues)).map((pair): Pair => pair), { maxLength: 3, selector: ([key]) => key });
}

const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"] as const;
const BODYLESS = new Set<string>(["GET", "HEAD"]);

/** Bodies: none, text with unicode, or raw bytes; GET and HEAD carry none (Tea and most clients send none). */
function bodyFor(method: string): fc.Arbitrary<string | Buffer | undefined> {
  if (BODYLESS.has(method)) return fc.constant(undefined);
  return fc.oneof(fc.constant(undefined), text([...UNRESERVED, ...AWKWARD, "\n"], 0, 40), fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)));
}

const AWS_HOSTS: Record<string, string> = {
  s3: "bucket.s3.eu-central-1.amazonaws.com",
  "execute-api": "abc.execute-api.eu-west-1.amazonaws.com",
  sts: "sts.amazonaws.com",
  dynamodb: "dynamodb.eu-west-1.amazonaws.com",
};

const awsOptions: fc.Arbitrary<AwsOptions> = fc.record({
  service: fc.constantFrom(...Object.keys(AWS_HOSTS)),
  region: fc.constantFrom("us-east-1", "eu-west-1", "ap-southeast-2"),
  mode: fc.constantFrom("signed", "signed", "unsigned-payload", "presigned"),
  expires: fc.constantFrom(60, 900, 3600, 604_800),
}).map(({ service, region, mode, expires }) => ({
  service,
  region,
  ...(mode === "presigned" ? { presignExpires: expires } : {}),
  ...(mode === "unsigned-payload" ? { unsignedPayload: true } : {}),
}));

function awsPayloadVerified(aws: AwsOptions): boolean {
  return !(aws.unsignedPayload === true || (aws.presignExpires !== undefined && aws.service === "s3"));
}

function contentLength(profile: Profile, body: string | Buffer | undefined): Pair[] {
  const length = body === undefined ? 0 : Buffer.byteLength(body);
  return profile.contentLength === true && length > 0 ? [["Content-Length", String(length)]] : [];
}

function awsCase(profile: Profile): fc.Arbitrary<GeneratedCase> {
  return fc.record({ aws: awsOptions, method: fc.constantFrom(...METHODS), pick: fc.nat() }).chain(({ aws, method, pick }) => {
    const s3ByAws4 = profile.aws4S3Rules && aws.service === "s3";
    // A presigned URL is signed without a body (botocore would move one into the query).
    const body = aws.presignExpires === undefined ? bodyFor(method) : fc.constant(undefined);
    return fc
      .record({ path: path(profile.dotSegments, !s3ByAws4), query: queryFor(profile, s3ByAws4), headers: headersFor(profile), body })
      .map(({ path: p, query, headers, body: b }) => ({
        request: { method, url: `https://${AWS_HOSTS[aws.service] as string}${p}`, query, headers: [...headers, ...contentLength(profile, b)], body: b, aws },
        payloadVerified: awsPayloadVerified(aws),
        pick,
      }));
  });
}

function acs3Case(profile: Profile): fc.Arbitrary<GeneratedCase> {
  return fc.record({ method: fc.constantFrom(...METHODS), pick: fc.nat(), action: fc.constantFrom("DescribeInstances", "RunInstances", "CreateCluster") }).chain(({ method, pick, action }) =>
    fc.record({ path: path(profile.dotSegments, true), query: queryFor(profile, true), headers: headersFor(profile), body: bodyFor(method) }).map(({ path: p, query, headers, body }) => {
      const api: Pair[] = [["x-acs-action", action], ["x-acs-version", "2014-05-26"]];
      return { request: { method, url: `https://ecs.cn-shanghai.aliyuncs.com${p}`, query, headers: [...api, ...headers], body }, payloadVerified: true, pick };
    }),
  );
}

/** Huawei's generated clients send JSON objects (serialised by the SDK, body hashed) or bytes (UNSIGNED-PAYLOAD). */
function huaweiBody(method: string): fc.Arbitrary<{ body?: string | Buffer; contentType?: string; payloadVerified: boolean }> {
  if (BODYLESS.has(method)) return fc.constant({ payloadVerified: true });
  const json = fc.record({ name: text([...UNRESERVED, ...AWKWARD], 0, 12), count: fc.integer({ min: -5, max: 5000 }) }).map((value) => ({ body: JSON.stringify(value), contentType: "application/json", payloadVerified: true }));
  const bytes = fc.uint8Array({ minLength: 1, maxLength: 64 }).map((value) => ({ body: Buffer.from(value), contentType: "application/octet-stream", payloadVerified: false }));
  return fc.oneof(fc.constant({ payloadVerified: true }), json, bytes);
}

function huaweiCase(profile: Profile): fc.Arbitrary<GeneratedCase> {
  return fc.record({ method: fc.constantFrom(...METHODS), pick: fc.nat() }).chain(({ method, pick }) =>
    fc.record({ path: path(profile.dotSegments, true), query: queryFor(profile, false), headers: headersFor(profile), body: huaweiBody(method) }).map(({ path: p, query, headers, body }) => {
      const contentType: Pair[] = body.contentType === undefined ? [] : [["Content-Type", body.contentType]];
      return {
        request: { method, url: `https://vpc.cn-north-4.myhuaweicloud.com/v1/p${p}`, query, headers: [...contentType, ...headers], body: body.body },
        payloadVerified: body.payloadVerified,
        pick,
      };
    }),
  );
}

const FAMILIES = { aws: awsCase, acs3: acs3Case, huawei: huaweiCase } as const;

/** The request generator for one signer, within what that signer signs by its scheme's rules. */
export function generatedCases(signer: SignerName): fc.Arbitrary<GeneratedCase> {
  const profile = PROFILES[signer];
  return FAMILIES[profile.family](profile);
}

/** A fixed, reproducible sample: the same seed gives the same requests. */
export function sampleCases(signer: SignerName, seed: number, count: number): GeneratedCase[] {
  return fc.sample(generatedCases(signer), { seed, numRuns: count });
}

/** One line that reproduces a case: its input, the body as base64. */
export function describeCase(generated: GeneratedCase): string {
  const { body } = generated.request;
  const shown = body === undefined ? undefined : Buffer.isBuffer(body) ? `base64:${body.toString("base64")}` : body;
  return JSON.stringify({ ...generated.request, body: shown });
}

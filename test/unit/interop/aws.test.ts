import { beforeAll, describe, expect, it } from "vitest";
import type { AwsOptions, SignedRequest, SignerName } from "../../interop/signers/index.js";
import { itDeniesTampering, expectDenied, headerValue, signedRow, signTable, tamperBody, verify, type Case } from "./helpers.js";

interface AwsCase extends Case {
  /** False when the SDK signed UNSIGNED-PAYLOAD: the body then is not covered. */
  readonly payloadVerified: boolean;
}

const STS = { region: "us-east-1", service: "sts" };
const API = { region: "eu-west-1", service: "execute-api" };
const S3 = { region: "eu-central-1", service: "s3" };
const TOKEN = "FwoGZXIvYXdzEBYaDK+session/token==";
const AWKWARD_QUERY: Case["request"]["query"] = [
  ["Action", "ListThings"],
  ["q", "a b  c"],
  ["u", "ünïcödé ☃ 😀"],
  ["r", "!'()*;:@&=+$,/?#[]%"],
  ["k", "b"],
  ["k", "a"],
  ["k", ""],
  ["key with space", "v"],
];

const CASES: readonly AwsCase[] = [
  { name: "non-S3 GET without query", payloadVerified: true, request: { method: "GET", url: "https://sts.amazonaws.com/", aws: STS } },
  {
    name: "non-S3 GET, query with spaces, unicode, reserved characters and repeated keys",
    payloadVerified: true,
    request: { method: "GET", url: "https://abc.execute-api.eu-west-1.amazonaws.com/prod/items", query: AWKWARD_QUERY, aws: API },
  },
  {
    name: "non-S3 GET, path with spaces, %2F and unicode (encoded again in the canonical form)",
    payloadVerified: true,
    request: { method: "GET", url: "https://abc.execute-api.eu-west-1.amazonaws.com/prod/a%20b/c%2Fd/%C3%A9t%C3%A9", aws: API },
  },
  {
    name: "non-S3 GET, path with . and .. segments (normalised in the canonical form)",
    payloadVerified: true,
    request: { method: "GET", url: "https://abc.execute-api.eu-west-1.amazonaws.com/prod/./a/../b/", aws: API },
  },
  {
    name: "non-S3 POST with a JSON body",
    payloadVerified: true,
    request: {
      method: "POST",
      url: "https://dynamodb.eu-west-1.amazonaws.com/",
      headers: [
        ["Content-Type", "application/x-amz-json-1.0"],
        ["X-Amz-Target", "DynamoDB_20120810.GetItem"],
      ],
      body: '{"TableName":"t","Key":{"id":{"S":"ü 1"}}}',
      aws: { region: "eu-west-1", service: "dynamodb" },
    },
  },
  {
    name: "non-S3 POST with UNSIGNED-PAYLOAD",
    payloadVerified: false,
    request: { method: "POST", url: "https://abc.execute-api.eu-west-1.amazonaws.com/prod/upload", headers: [["Content-Type", "application/octet-stream"]], body: "payload", aws: { ...API, unsignedPayload: true } },
  },
  {
    name: "non-S3 GET with a session token and a header whose value has inner runs of spaces",
    payloadVerified: true,
    request: { method: "GET", url: "https://sts.amazonaws.com/", query: [["Action", "GetCallerIdentity"], ["Version", "2011-06-15"]], headers: [["X-Amz-Meta-Note", "a   b \t c"]], sessionToken: TOKEN, aws: STS },
  },
  {
    name: "S3 PUT, key with spaces, %2F, unicode and .. (signed as sent)",
    payloadVerified: true,
    request: { method: "PUT", url: "https://bucket.s3.eu-central-1.amazonaws.com/dir/../a%20b%2Fc/%E2%9C%93.txt", headers: [["Content-Type", "text/plain"]], body: "hello", aws: S3 },
  },
  {
    name: "S3 GET, list with a prefix query and an empty body",
    payloadVerified: true,
    request: { method: "GET", url: "https://bucket.s3.eu-central-1.amazonaws.com/", query: [["list-type", "2"], ["prefix", "a b/ü"], ["delimiter", "/"]], aws: S3 },
  },
  {
    name: "S3 PUT with UNSIGNED-PAYLOAD",
    payloadVerified: false,
    request: { method: "PUT", url: "https://bucket.s3.eu-central-1.amazonaws.com/big.bin", headers: [["Content-Type", "application/octet-stream"]], body: "0123456789", aws: { ...S3, unsignedPayload: true } },
  },
  {
    name: "S3 PUT with a session token, to a host with a port",
    payloadVerified: true,
    request: { method: "PUT", url: "https://s3.keygate.test:8443/bucket/key", body: "data", sessionToken: TOKEN, aws: S3 },
  },
  {
    name: "presigned S3 GET",
    payloadVerified: false,
    request: { method: "GET", url: "https://bucket.s3.eu-central-1.amazonaws.com/a%20b/%E2%9C%93.txt", query: [["response-content-type", "text/plain; charset=utf-8"]], aws: { ...S3, presignExpires: 900 } },
  },
  {
    name: "presigned S3 PUT with a session token",
    payloadVerified: false,
    request: { method: "PUT", url: "https://bucket.s3.eu-central-1.amazonaws.com/upload.bin", sessionToken: TOKEN, aws: { ...S3, presignExpires: 3600 } },
  },
  {
    name: "presigned non-S3 GET with a signed extra header (an EKS-style STS token)",
    payloadVerified: true,
    request: {
      method: "GET",
      url: "https://sts.amazonaws.com/",
      query: [["Action", "GetCallerIdentity"], ["Version", "2011-06-15"]],
      headers: [["x-k8s-aws-id", "my-cluster"]],
      aws: { ...STS, presignExpires: 60 },
    },
  },
  {
    name: "presigned non-S3 GET, query with spaces, unicode and reserved characters, session token",
    payloadVerified: true,
    request: { method: "GET", url: "https://abc.execute-api.eu-west-1.amazonaws.com/prod/a%20b", query: AWKWARD_QUERY.filter(([key]) => key !== "k"), sessionToken: TOKEN, aws: { ...API, presignExpires: 300 } },
  },
];

const NAMES = CASES.map((row) => row.name);
const SIGNED_BODIES = CASES.filter((row) => row.payloadVerified).map((row) => row.name);
const UNSIGNED_BODIES = CASES.filter((row) => !row.payloadVerified).map((row) => row.name);
const SIGNERS: readonly SignerName[] = ["botocore", "aws-sdk-js-v3"];

function caseNamed(name: string): AwsCase {
  const row = CASES.find((c) => c.name === name);
  if (!row) throw new Error(`no case ${name}`);
  return row;
}

/** SigV4 denies a body that contradicts a declared hash before it gets to the signature. */
function bodyTamperCode(req: SignedRequest): "XAmzContentSHA256Mismatch" | "SignatureDoesNotMatch" {
  return /^[0-9a-f]{64}$/.test(headerValue(req, "x-amz-content-sha256") ?? "") ? "XAmzContentSHA256Mismatch" : "SignatureDoesNotMatch";
}

describe.each(SIGNERS)("AWS SigV4 signed by %s", (signer) => {
  let table: Map<string, SignedRequest> | undefined;
  // Generous for a cold machine: Python importing botocore, or an HTTP round trip per row.
  beforeAll(async () => {
    table = await signTable(signer, CASES);
  }, 60_000);
  const signed = (name: string): SignedRequest => signedRow(table, name);

  it.each(NAMES)("%s: verifies", (name) => {
    const { request, payloadVerified } = caseNamed(name);
    const aws: AwsOptions = request.aws ?? STS;
    expect(verify(signed(name))).toMatchObject({
      allowed: true,
      scheme: "AWS4-HMAC-SHA256",
      presigned: aws.presignExpires !== undefined,
      payloadVerified,
      region: aws.region,
      service: aws.service,
      securityToken: request.sessionToken,
    });
  });

  itDeniesTampering(NAMES, signed);

  it.each(SIGNED_BODIES)("%s: a tampered body is denied", (name) => {
    const req = signed(name);
    expectDenied(verify(tamperBody(req)), bodyTamperCode(req));
  });

  it.each(UNSIGNED_BODIES)("%s: another body still verifies, reported as not verified", (name) => {
    expect(verify(tamperBody(signed(name)))).toMatchObject({ allowed: true, payloadVerified: false });
  });
});

import { request as httpRequest } from "node:http";
import aws4, { type Request as Aws4Request } from "aws4";
import { uriEncode } from "../../../src/signing/canonical.js";
import { captureOne } from "../capture.js";
import { awsOptions, compactUtc, headerObject, splitUrl } from "./common.js";
import type { AwsOptions, Pair, SignedRequest, SignInput } from "./types.js";

const CONTENT_SHA256 = "X-Amz-Content-Sha256";
const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

/**
 * The path aws4 is given: the encoded path and, as aws4 takes it, the query in the same string
 * (RFC 3986-encoded by the caller: aws4 parses it with querystring, which reads `+` as a space).
 * A presigned request names its lifetime in the query, which is how aws4 is told it; without
 * X-Amz-Expires it only sets one for S3.
 */
function pathWithQuery(path: string, query: readonly Pair[], aws: AwsOptions): string {
  const pairs = aws.presignExpires === undefined ? query : [...query, ["X-Amz-Expires", String(aws.presignExpires)] as const];
  if (pairs.length === 0) return path;
  return `${path}?${pairs.map(([key, value]) => `${uriEncode(key)}=${uriEncode(value)}`).join("&")}`;
}

function requestOptions(input: SignInput, aws: AwsOptions): Aws4Request {
  const url = splitUrl(input.url);
  const headers: Record<string, string> = headerObject(input.headers);
  if (aws.unsignedPayload) headers[CONTENT_SHA256] = UNSIGNED_PAYLOAD;
  return {
    host: url.hostname,
    port: url.port,
    method: input.method,
    path: pathWithQuery(url.path, input.query ?? [], aws),
    headers,
    body: input.body,
    service: aws.service,
    region: aws.region,
    signQuery: aws.presignExpires !== undefined,
  };
}

/**
 * Signs with the `aws4` package as its users do (`https.request(aws4.sign(options))`): the
 * RequestSigner adds Host (with the port), X-Amz-Date, Content-Type and Content-Length for a
 * body and, for S3, X-Amz-Content-Sha256. The signing time is pinned through the signer's
 * `datetime`, which aws4 reads instead of the clock when it is set.
 */
function sign(input: SignInput): Aws4Request {
  const aws = awsOptions(input);
  const credentials = { accessKeyId: input.accessKeyId, secretAccessKey: input.secret, sessionToken: input.sessionToken };
  const signer = new aws4.RequestSigner(requestOptions(input, aws), credentials);
  signer.datetime = compactUtc(input.time);
  return signer.sign();
}

/** Sends the signed options through Node's own http.request, as aws4's users do, to see the wire. */
function send(signed: Aws4Request, origin: string): Promise<void> {
  const local = splitUrl(origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: local.hostname, port: local.port, method: signed.method, path: signed.path, headers: signed.headers, agent: false }, (res) => {
      res.resume();
      res.on("end", resolve);
    });
    req.on("error", reject);
    req.end(signed.body);
  });
}

export function signWithAws4(input: SignInput): Promise<SignedRequest> {
  const signed = sign(input);
  return captureOne((origin) => send(signed, origin));
}

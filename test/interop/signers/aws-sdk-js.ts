import type { Readable } from "node:stream";
import { Hash } from "@smithy/hash-node";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import { HttpRequest } from "@smithy/protocol-http";
import { SignatureV4 } from "@smithy/signature-v4";
import { captureOne } from "../capture.js";
import { awsOptions, headerObject, queryObject, splitUrl } from "./common.js";
import type { AwsOptions, SignedRequest, SignInput } from "./types.js";

const CONTENT_SHA256 = "X-Amz-Content-Sha256";
const UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD";

/**
 * The signer as the SDK's clients configure it: SHA-256 from @smithy/hash-node (the Node
 * runtime's choice), and for S3 the path signed as sent (the S3 client's signingEscapePath:
 * false, which S3RequestPresigner shares).
 */
function signerFor(input: SignInput, aws: AwsOptions): SignatureV4 {
  return new SignatureV4({
    service: aws.service,
    region: aws.region,
    credentials: { accessKeyId: input.accessKeyId, secretAccessKey: input.secret, sessionToken: input.sessionToken },
    sha256: Hash.bind(null, "sha256"),
    uriEscapePath: aws.service !== "s3",
  });
}

function toHttpRequest(input: SignInput, aws: AwsOptions): HttpRequest {
  const url = splitUrl(input.url);
  const headers = headerObject(input.headers);
  // The SDK's host-header middleware adds Host before signing; S3RequestPresigner always signs
  // UNSIGNED-PAYLOAD, and clients that skip payload signing declare it the same way.
  headers.host = url.authority;
  if (aws.unsignedPayload || (aws.service === "s3" && aws.presignExpires !== undefined)) headers[CONTENT_SHA256] = UNSIGNED_PAYLOAD;
  return new HttpRequest({
    method: input.method,
    protocol: `${url.protocol}:`,
    hostname: url.hostname,
    port: url.port,
    path: url.path,
    query: queryObject(input.query),
    headers,
    body: input.body,
  });
}

type SmithyRequest = Awaited<ReturnType<SignatureV4["presign"]>>;

async function signRequest(input: SignInput): Promise<SmithyRequest> {
  const aws = awsOptions(input);
  const signer = signerFor(input, aws);
  const request = toHttpRequest(input, aws);
  if (aws.presignExpires === undefined) return signer.sign(request, { signingDate: input.time });
  // As S3RequestPresigner: content-type stays out of an S3 presigned URL's signature.
  const unsignableHeaders = aws.service === "s3" ? new Set(["content-type"]) : undefined;
  return signer.presign(request, { signingDate: input.time, expiresIn: aws.presignExpires, unsignableHeaders });
}

/** Sends the signed request through the SDK's own Node transport, to see exactly what goes on the wire. */
async function send(signed: SmithyRequest, origin: string): Promise<void> {
  const local = splitUrl(origin);
  const handler = new NodeHttpHandler();
  try {
    const { response } = await handler.handle(new HttpRequest({ ...signed, protocol: "http:", hostname: local.hostname, port: local.port }));
    (response.body as Readable).resume();
  } finally {
    handler.destroy();
  }
}

export async function signWithAwsSdkJs(input: SignInput): Promise<SignedRequest> {
  const signed = await signRequest(input);
  return captureOne((origin) => send(signed, origin));
}

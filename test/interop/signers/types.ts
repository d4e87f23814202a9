import type { HttpRequestDescription } from "../../../src/signing/request.js";

export type SignerName = "botocore" | "aws-sdk-js-v3" | "alibaba-openapi-util" | "huawei-sdk-core";

export type Pair = readonly [name: string, value: string];

/** AWS only: what the credential scope names and how the SDK is asked to sign. */
export interface AwsOptions {
  readonly region: string;
  readonly service: string;
  /** Presign for this many seconds instead of signing with an Authorization header. */
  readonly presignExpires?: number;
  /** Ask the SDK to sign `UNSIGNED-PAYLOAD` instead of the body hash. */
  readonly unsignedPayload?: boolean;
}

/**
 * One request, described the way an SDK client hands it to its signer: the path already
 * percent-encoded (SDK serializers encode path labels before signing), query parameters
 * decoded (each SDK encodes them itself), headers in order.
 */
export interface SignInput {
  readonly accessKeyId: string;
  readonly secret: string;
  readonly sessionToken?: string;
  readonly method: string;
  /** `scheme://host[:port]/encoded/path`, without a query string. */
  readonly url: string;
  readonly query?: readonly Pair[];
  readonly headers?: readonly Pair[];
  readonly body?: string | Buffer;
  /** The signing time, injected into each SDK the way it allows. */
  readonly time: Date;
  readonly aws?: AwsOptions;
}

/** The request as it leaves the SDK: raw target, headers in sending order, body bytes. */
export type SignedRequest = HttpRequestDescription & { body: Buffer };

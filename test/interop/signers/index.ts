import { signWithAlibaba } from "./alibaba.js";
import { signWithAwsSdkJs } from "./aws-sdk-js.js";
import { signWithAws4 } from "./aws4.js";
import { signWithBotocore } from "./botocore.js";
import { signWithHuawei } from "./huawei.js";
import type { SignedRequest, SignerName as CloudSdkSignerName, SignInput } from "./types.js";

export type { AwsOptions, Pair, SignedRequest, SignInput } from "./types.js";

/** The clouds' own SDK signers, and the aws4 package, the other widely used SigV4 signer. */
export type SignerName = CloudSdkSignerName | "aws4";

const ONE_AT_A_TIME: Record<Exclude<SignerName, "botocore">, (input: SignInput) => Promise<SignedRequest>> = {
  "aws-sdk-js-v3": signWithAwsSdkJs,
  aws4: signWithAws4,
  "alibaba-openapi-util": signWithAlibaba,
  "huawei-sdk-core": signWithHuawei,
};

/**
 * Signs several requests with one cloud's official SDK signer, in order. Prefer it to repeated
 * signWith calls for botocore, which then starts Python once.
 */
export async function signAllWith(signer: SignerName, inputs: readonly SignInput[]): Promise<SignedRequest[]> {
  if (signer === "botocore") return signWithBotocore(inputs);
  const signed: SignedRequest[] = [];
  for (const input of inputs) signed.push(await ONE_AT_A_TIME[signer](input));
  return signed;
}

/**
 * Signs one request with a cloud's official SDK signer and returns it as it goes on the wire.
 * The signature covers the Host header, which is the input URL's host[:port]: to replay the
 * request against a server, give that server's address in the URL and send the request target,
 * headers and body exactly as returned.
 */
export async function signWith(signer: SignerName, input: SignInput): Promise<SignedRequest> {
  const [signed] = await signAllWith(signer, [input]);
  if (!signed) throw new Error(`${signer} returned no request`);
  return signed;
}

import { createRequire } from "node:module";
import type { HcClient, HttpRequestOptions } from "@huaweicloud/huaweicloud-sdk-core/HcClient.js";
import { captureOne } from "../capture.js";
import { bodyBytes, compactUtc, headerObject, queryObject, splitUrl } from "./common.js";
import type { SignedRequest, SignInput } from "./types.js";

// CommonJS without an exports map: require() reaches the SDK's own modules the same way in Node and vitest.
const require = createRequire(import.meta.url);
const { BasicCredentials } = require("@huaweicloud/huaweicloud-sdk-core") as typeof import("@huaweicloud/huaweicloud-sdk-core");
const { ClientBuilder } = require("@huaweicloud/huaweicloud-sdk-core/ClientBuilder") as typeof import("@huaweicloud/huaweicloud-sdk-core/ClientBuilder.js");

function takeContentType(headers: Record<string, string>): string {
  const name = Object.keys(headers).find((key) => key.toLowerCase() === "content-type");
  if (name === undefined) return "";
  const value = headers[name] as string;
  delete headers[name];
  return value;
}

/** Generated service clients pass JSON bodies as objects (the SDK serialises them) and anything else as bytes. */
function requestData(body: Buffer, contentType: string): HttpRequestOptions["data"] {
  if (body.length === 0) return undefined;
  const json = contentType === "" || contentType.toLowerCase().includes("application/json");
  return json ? (JSON.parse(body.toString("utf8")) as Record<string, unknown>) : body;
}

/**
 * What a generated service client hands to HcClient.sendRequest. The date goes in as an
 * X-Sdk-Date header, which AKSKSigner uses instead of the clock when present; Host too, which
 * AKSKSigner signs instead of the endpoint's host.
 */
function requestOptions(input: SignInput): HttpRequestOptions {
  const url = splitUrl(input.url);
  const headers = headerObject(input.headers);
  const contentType = takeContentType(headers);
  headers.host = url.authority;
  headers["X-Sdk-Date"] = compactUtc(input.time);
  return {
    method: input.method,
    url: url.path,
    contentType,
    queryParams: queryObject(input.query),
    pathParams: {},
    headers,
    data: requestData(bodyBytes(input.body), contentType),
  };
}

/**
 * Signs through the SDK's whole request path: HcClient, BasicCredentials.processAuthRequest
 * (which calls AKSKSigner.sign) and the SDK's axios transport, pointed at a local server.
 */
export function signWithHuawei(input: SignInput): Promise<SignedRequest> {
  const credentials = new BasicCredentials().withAk(input.accessKeyId).withSk(input.secret);
  if (input.sessionToken !== undefined) credentials.withSecurityToken(input.sessionToken);
  return captureOne((origin) => {
    const client = new ClientBuilder<HcClient>((hcClient: HcClient) => hcClient).withCredential(credentials).withEndpoint(origin).build();
    return client.sendRequest(requestOptions(input));
  });
}

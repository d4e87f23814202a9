import { randomBytes } from "node:crypto";
import { createRequire } from "node:module";
import { stringify } from "node:querystring";
import { Readable } from "node:stream";
import { parse } from "node:url";
import { splitRequestTarget } from "../../../src/signing/request.js";
import { bodyBytes, headerObject, isoUtcSeconds, queryObject, splitUrl } from "./common.js";
import type { SignedRequest, SignInput } from "./types.js";

// A CommonJS module with an `exports.default`: require() gives the same object in Node and in vitest.
const require = createRequire(import.meta.url);
const OpenApiUtil = (require("@alicloud/openapi-util") as typeof import("@alicloud/openapi-util")).default;

const ALGORITHM = "ACS3-HMAC-SHA256";
type TeaRequest = Parameters<typeof OpenApiUtil.getAuthorization>[0];

function singleValued(input: SignInput): Record<string, string> {
  const query = queryObject(input.query);
  const repeated = Object.entries(query).find(([, value]) => Array.isArray(value));
  if (repeated) throw new Error(`query key ${repeated[0]} repeated: the Alibaba Cloud SDK holds the query as a map`);
  return query as Record<string, string>;
}

/**
 * Builds the request the way `@alicloud/openapi-client`'s doRequest does for ACS3: its default
 * headers but the unsigned user-agent (the caller's headers override them, which is how
 * x-acs-date is pinned here; the nonce is random as the SDK's), the body hashed
 * as bytes ("byte" request bodies) into x-acs-content-sha256, and for a session token the
 * x-acs-accesskey-id and x-acs-security-token headers, all before getAuthorization.
 */
function teaRequest(input: SignInput, body: Buffer): TeaRequest {
  const url = splitUrl(input.url);
  const headers: Record<string, string> = {
    host: url.authority,
    "x-acs-date": isoUtcSeconds(input.time),
    "x-acs-signature-nonce": randomBytes(16).toString("hex"),
    accept: "application/json",
    ...headerObject(input.headers),
  };
  headers["x-acs-content-sha256"] = OpenApiUtil.hexEncode(OpenApiUtil.hash(body, ALGORITHM));
  if (input.sessionToken !== undefined) {
    headers["x-acs-accesskey-id"] = input.accessKeyId;
    headers["x-acs-security-token"] = input.sessionToken;
  }
  // doRequest leaves the port unset (0 to Tea): the endpoint, port included, travels in host.
  return { protocol: url.protocol, port: 0, method: input.method, pathname: url.path, query: singleValued(input), headers, body: Readable.from(body) };
}

/** Tea's buildURL and httpx, which turn the request into the target that goes on the wire. */
function wireTarget(request: TeaRequest): string {
  let url = `${request.protocol}://${request.headers.host}${request.pathname}`;
  if (Object.keys(request.query).length > 0) url += `${parse(url).query ? "&" : "?"}${stringify(request.query)}`;
  return parse(url).path ?? "/";
}

export function signWithAlibaba(input: SignInput): Promise<SignedRequest> {
  const body = bodyBytes(input.body);
  const request = teaRequest(input, body);
  request.headers.Authorization = OpenApiUtil.getAuthorization(request, ALGORITHM, request.headers["x-acs-content-sha256"] as string, input.accessKeyId, input.secret);
  // Tea's doAction sends no body with GET or HEAD, whatever was hashed.
  const sent = input.method === "GET" || input.method === "HEAD" ? Buffer.alloc(0) : body;
  return Promise.resolve({ method: input.method, ...splitRequestTarget(wireTarget(request)), headers: Object.entries(request.headers as Record<string, string>), body: sent });
}

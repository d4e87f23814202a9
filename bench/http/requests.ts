import type { HttpRequestDescription } from "../../src/signing/request.js";
import { signSigV4 } from "../../test/support/signers/sigv4.js";
import { benchKeys, sigV4HeaderRequest } from "../inprocess/fixtures.js";

/** Distinct keys (and so distinct signed requests) the load cycles through. */
export const HTTP_KEYS = 16;

// What an allowed /v1/verify answers, so the comparison server sends the same bytes back.
export const ALLOWED_BODY = {
  allowed: true,
  principal: { namespace: "bench", user: "load", accessKeyId: "AKIABENCH00000000000", credentialType: "AccessKey", mfaAuthenticated: false },
  scheme: "AWS4-HMAC-SHA256",
  payloadVerified: true,
  service: "dynamodb",
  region: "eu-west-1",
  date: "2026-11-28T12:00:00.000Z",
};

export const GATEWAY_ANSWER_HEADERS = {
  "x-keygate-namespace": "bench",
  "x-keygate-user": "load",
  "x-keygate-access-key-id": "AKIABENCH00000000000",
  "x-keygate-credential-type": "AccessKey",
  "x-keygate-payload-verified": "false",
  "x-keygate-date": "2026-11-28T12:00:00.000Z",
  "x-keygate-service": "execute-api",
  "x-keygate-region": "eu-west-1",
};

export interface LoadRequest {
  readonly method: "GET" | "POST";
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

function headerObject(req: HttpRequestDescription): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of req.headers) headers[name] = value;
  return headers;
}

/** `POST /v1/verify` describing a signed DynamoDB-style call with its 250-byte body. */
export function verifyRequests(now: Date): LoadRequest[] {
  return benchKeys(HTTP_KEYS).map((key) => {
    const signed = sigV4HeaderRequest(key, now);
    const description = {
      method: signed.method,
      url: signed.rawQuery === "" ? signed.rawPath : `${signed.rawPath}?${signed.rawQuery}`,
      headers: headerObject(signed),
      body: (signed.body ?? Buffer.alloc(0)).toString("base64"),
    };
    return { method: "POST", path: "/v1/verify", headers: { "content-type": "application/json" }, body: JSON.stringify(description) };
  });
}

const ORIGINAL_HOST = "api.bench.internal";

/**
 * The authorization subrequest NGINX `auth_request` sends for a signed `GET` (no body forwarded):
 * the client's headers, its Host, and X-Original-Method / X-Original-URI.
 */
export function forwardAuthRequests(now: Date): LoadRequest[] {
  return benchKeys(HTTP_KEYS).map((key) => {
    const original: HttpRequestDescription = {
      method: "GET",
      rawPath: "/v1/orders/4711/items",
      rawQuery: "limit=50&after=2024-05-01",
      headers: [
        ["host", ORIGINAL_HOST],
        ["accept", "application/json"],
        ["user-agent", "aws-sdk-js/3.600.0"],
      ],
    };
    const signed = signSigV4(original, { accessKeyId: key.accessKeyId, secret: key.secret, region: "eu-west-1", service: "execute-api" }, now);
    return {
      method: "GET",
      path: "/v1/forward-auth/nginx",
      headers: { ...headerObject(signed), "x-original-method": "GET", "x-original-uri": `${signed.rawPath}?${signed.rawQuery}` },
    };
  });
}

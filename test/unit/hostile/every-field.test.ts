import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { signHuawei } from "../../support/signers/huawei.js";
import { LogCapture } from "../../support/log-capture.js";
import { postVerify, targetOf, verifyBody } from "../../support/verifier-http.js";
import { KEY_ID, SECRET } from "../verifier/fake-keys.js";
import { genuineRequests, HOSTILE_SEED } from "./arbitraries.js";
import { frameable, rawExchange, rawRequest, wireTarget, wireValue } from "./raw-http.js";
import { startServer, type RunningServer } from "./verifier-server.js";

// A genuinely signed request of each scheme and form (a known key, a fresh date), with one field
// replaced by arbitrary bytes, sent through every route that verifies a request: /v1/verify,
// each gateway's forward-auth path and the owner lookup. Whatever the bytes, the answer is never
// a 5xx (there is no overload here to justify a 503) and never the verifier's "a check threw"
// code, and nothing is logged at warn or above. Seeded (HOSTILE_SEED).
const PARAMS = { seed: HOSTILE_SEED, numRuns: 400 };
const MAX_BODY = 4096;

// Escapes that are not UTF-8 (a lone byte above 0x7f, a cut sequence, a surrogate half), beside
// any bytes at all.
const NOT_UTF8 = ["%FF", "%C3", "%ED%A0%80", "%C3%28", "%80", "%F0%9F%98"];
const bytes = fc.uint8Array({ minLength: 1, maxLength: 48 }).map((b) => Buffer.from(b));
const escaped = fc.oneof(fc.constantFrom(...NOT_UTF8), bytes.map((b) => [...b].map((byte) => `%${byte.toString(16).toUpperCase().padStart(2, "0")}`).join("")));
const latin1 = bytes.map((b) => b.toString("latin1"));

const AUTH_PARAM = /\b(Credential|Access|SignedHeaders|Signature)=([^,]*)/g;

type Mutation = (req: HttpRequestDescription) => fc.Arbitrary<HttpRequestDescription>;

function replaceParam(authorization: string, pick: number, value: string): string {
  let index = 0;
  return authorization.replace(AUTH_PARAM, (whole, name: string) => (index++ === pick % 3 ? `${name}=${value}` : whole));
}

function replaceQueryValue(rawQuery: string, pick: number, value: string): string {
  const parts = rawQuery.split("&");
  const at = pick % parts.length;
  const [key = ""] = (parts[at] ?? "").split("=");
  parts[at] = `${key}=${value}`;
  return parts.join("&");
}

/** One field of the request replaced (or one added) with arbitrary bytes. */
const MUTATIONS: Record<string, Mutation> = {
  method: (req) => latin1.map((method) => ({ ...req, method })),
  path: (req) => escaped.map((text) => ({ ...req, rawPath: `${req.rawPath}/${text}` })),
  "query parameter added": (req) => fc.tuple(escaped, escaped).map(([key, value]) => ({ ...req, rawQuery: req.rawQuery === "" ? `${key}=${value}` : `${key}=${value}&${req.rawQuery}` })),
  "query value": (req) => fc.tuple(fc.nat(), escaped).map(([pick, value]) => ({ ...req, rawQuery: replaceQueryValue(req.rawQuery, pick, value) })),
  "header value": (req) => fc.tuple(fc.nat(), latin1).map(([pick, value]) => ({ ...req, headers: req.headers.map(([name, old], i): [string, string] => [name, i === pick % req.headers.length ? value : old]) })),
  "header added": (req) => fc.tuple(fc.constantFrom("x-amz-meta-a", "x-acs-a", "x-sdk-a", "X-Security-Token", "Content-Type", "X-Original-URL", "X-Forwarded-Uri"), latin1).map(([name, value]) => ({ ...req, headers: [...req.headers, [name, value] as [string, string]] })),
  "authorization parameter": (req) =>
    fc.tuple(fc.nat(), latin1).map(([pick, value]) => ({ ...req, headers: req.headers.map(([name, old]): [string, string] => [name, name === "Authorization" ? replaceParam(old, pick, value) : old]) })),
  body: (req) => bytes.map((body) => ({ ...req, body })),
};

type Carrier = "verify" | "nginx" | "ingress-nginx" | "traefik" | "caddy" | "envoy" | "owner";
const CARRIERS: readonly Carrier[] = ["verify", "nginx", "ingress-nginx", "traefik", "caddy", "envoy", "owner"];

function hostOf(req: HttpRequestDescription): string {
  return req.headers.find(([name]) => name.toLowerCase() === "host")?.[1] ?? "";
}

/** The request as one route receives it: described to /v1/verify, or framed as a gateway's call. */
function asCall(carrier: Exclude<Carrier, "verify">, req: HttpRequestDescription): Buffer {
  const body = req.body ?? Buffer.alloc(0);
  const target = wireTarget(targetOf(req));
  const client = frameable(req.headers);
  const withoutHost = client.filter(([name]) => name.toLowerCase() !== "host");
  const method = wireValue(req.method).replace(/[^!#$%&'*+.^_`|~0-9A-Za-z-]/g, "") || "GET";
  const calls: Record<typeof carrier, () => [string, Array<[string, string]>]> = {
    nginx: () => [`GET /v1/forward-auth/nginx`, [...client, ["X-Original-Method", method], ["X-Original-URI", target]]],
    "ingress-nginx": () => [`GET /v1/forward-auth/ingress-nginx`, [["Host", "verifier"], ...withoutHost, ["X-Original-Method", method], ["X-Original-URL", `https://${wireValue(hostOf(req))}${target}`]]],
    traefik: () => [`POST /v1/forward-auth/traefik`, [["Host", "verifier"], ...withoutHost, ["X-Forwarded-Method", method], ["X-Forwarded-Uri", target], ["X-Forwarded-Host", wireValue(hostOf(req))]]],
    caddy: () => [`GET /v1/forward-auth/caddy`, [...client, ["X-Forwarded-Method", method], ["X-Forwarded-Uri", target], ["X-Forwarded-Host", wireValue(hostOf(req))]]],
    envoy: () => [`${method} /v1/forward-auth/envoy${target}`, client],
    owner: () => [`${method} /v1/access-keys/${KEY_ID}/owner${req.rawQuery === "" ? "" : `?${wireTarget(req.rawQuery)}`}`, client],
  };
  const [line, headers] = calls[carrier]();
  return rawRequest(`${line} HTTP/1.1`, [...headers, ["Content-Length", String(body.length)]], body);
}

describe("one field of a genuine request of every scheme, replaced by arbitrary bytes, through every route", () => {
  const logs = new LogCapture();
  let running: RunningServer;

  beforeAll(async () => {
    running = await startServer(MAX_BODY, logs);
  });

  afterAll(async () => {
    await running.close();
  });

  async function send(carrier: Carrier, req: HttpRequestDescription): Promise<{ status: number; code: unknown }> {
    if (carrier === "verify") {
      const answer = await postVerify(running.url, verifyBody(req));
      return { status: answer.status, code: answer.json.code };
    }
    const answer = await rawExchange(running.port, asCall(carrier, req));
    return { status: answer.status, code: answer.json?.code };
  }

  it.each(CARRIERS)("refuses a Huawei request whose query escapes are not UTF-8 with a 4xx through %s (no 500)", async (carrier) => {
    for (const bad of NOT_UTF8) {
      // No signer can sign it (the canonical query needs the decoded text); the query is checked
      // before the signature, so a known key id and a fresh date are all it takes.
      const signed = signHuawei({ method: "GET", rawPath: "/v1/things", rawQuery: "limit=2", headers: [["Host", "api.example.test"]] }, { accessKeyId: KEY_ID, secret: SECRET }, new Date());
      const answer = await send(carrier, { ...signed, rawQuery: `limit=2&marker=${bad}` });
      expect([answer.status, answer.code], bad).toEqual(carrier === "verify" || carrier === "owner" ? [400, "InvalidArgument"] : [403, "InvalidArgument"]);
    }
  });

  it("answers every such request below 500, with the route's own codes", async () => {
    const genuine = fc.constantFrom(...Object.values(genuineRequests(new Date())));
    const mutated = fc.tuple(genuine, fc.constantFrom(...Object.values(MUTATIONS))).chain(([req, mutate]) => mutate(req));
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...CARRIERS), mutated, async (carrier, req) => {
        const answer = await send(carrier, req);
        expect(answer.status, carrier).toBeGreaterThanOrEqual(200);
        expect(answer.status, carrier).toBeLessThan(500);
        expect(answer.code, carrier).not.toBe("UnverifiableRequest");
      }),
      PARAMS,
    );
  });

  // Runs last: everything above has been logged by now.
  it("logged nothing at warn or above", () => {
    const levels = logs.lines.map((line) => (JSON.parse(line) as { level: number }).level);
    expect(levels.length).toBeGreaterThan(100);
    expect(levels.filter((level) => level >= 40)).toEqual([]);
  });
});

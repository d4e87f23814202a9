import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAcs3 } from "../../support/signers/acs3.js";
import { DENIAL_STATUS } from "../../../src/signing/errors.js";
import { signHuawei } from "../../support/signers/huawei.js";
import type { HeaderList, HttpRequestDescription } from "../../../src/signing/request.js";
import { signSigV4 } from "../../support/signers/sigv4.js";
import { seal } from "../../../src/keystore/seal.js";
import { sealSessionToken } from "../../../src/keystore/session-token.js";
import { authenticationResponse } from "../../../src/api/webauthn.js";
import { API_ERROR_STATUS } from "../../../src/verifier/errors.js";
import { postVerify, targetOf, verifyBody, type HttpAnswer } from "../../support/verifier-http.js";
import { KEY_ID, SECRET } from "../verifier/fake-keys.js";
import { genuineRequests, HOSTILE_SEED, hostileAuthorization, hostileBody, hostileDate, hostileHeaders, hostileMethod, hostilePath, hostileQuery, hostileRequest, long, nasty, SESSION_TOKEN } from "./arbitraries.js";
import { frameable, rawExchange, rawRequest, wireTarget, type RawAnswer } from "./raw-http.js";
import { LogCapture } from "../../support/log-capture.js";
import { KEKS, sessionToken, startServer, TEMPORARY_KEY_ID, TEMPORARY_SECRET, type RunningServer } from "./verifier-server.js";

// The verifier's HTTP handler, run in-process against a fixed key table, fed hostile input over
// real sockets. Every answer must be a 4xx with a JSON code (never a 5xx, never a crash), and
// nothing it logs may carry the secret, a session token or a signature. Seeded (HOSTILE_SEED).
const MAX_BODY = 4096;
const RUNS = 150;
const PARAMS = { seed: HOSTILE_SEED, numRuns: RUNS };
const STATUS_OF: Record<string, number> = { ...DENIAL_STATUS, ...API_ERROR_STATUS };
const SIGNATURE_HEX = /[0-9a-f]{64}/i;

/** 4xx, JSON `{allowed: false, code, message}`, and the status that code has. */
function expectCodedRefusal(status: number, json: Record<string, unknown> | undefined): void {
  expect(status).toBeGreaterThanOrEqual(400);
  expect(status).toBeLessThan(500);
  expect(json).toMatchObject({ allowed: false, code: expect.any(String) as unknown, message: expect.any(String) as unknown });
  expect(STATUS_OF[json?.code as string], `status of ${String(json?.code)}`).toBe(status);
}

/**
 * Gateways get 401 without a signature, 403 for any other refusal, and 400 or 413 for a broken
 * call itself (404 for a path that names no gateway, such as the Envoy prefix without its slash;
 * 431 for more header lines than the server takes).
 */
function expectGatewayRefusal(answer: RawAnswer): void {
  expect([400, 401, 403, 404, 413, 431]).toContain(answer.status);
  expect(answer.json).toMatchObject({ allowed: false, code: expect.any(String) as unknown });
  if (answer.status === 401 || answer.status === 403) expect(answer.headers["x-keygate-error-code"]).toBe(answer.json?.code);
}

/** `{name: value | [values…]}` as /v1/verify takes headers; own properties even for `__proto__`. */
function headerObject(headers: HeaderList): Record<string, string | string[]> {
  const grouped = new Map<string, string[]>();
  for (const [name, value] of headers) grouped.set(name, [...(grouped.get(name) ?? []), value]);
  return Object.fromEntries([...grouped].map(([name, values]) => [name, values.length === 1 ? (values[0] as string) : values]));
}


const jsonAnything = fc.jsonValue({ maxDepth: 2 });
const hostileDescription = fc
  .record(
    {
      method: fc.oneof(hostileMethod, jsonAnything),
      url: fc.oneof(fc.tuple(hostilePath, hostileQuery).map(([path, query]) => (query === "" ? path : `${path}?${query}`)), jsonAnything),
      headers: fc.oneof(hostileHeaders.map(headerObject), hostileRequest.map((req) => headerObject(req.headers)), fc.constant(JSON.parse('{"__proto__":"x","constructor":["a",1],"toString":"y"}') as unknown), jsonAnything),
      body: fc.oneof(hostileBody.map((body) => body?.toString("base64")), fc.constantFrom("not base64!", "QQ", "QQ=", "Q===", "QUJD\n", "QUJD===="), jsonAnything),
      sourceIp: fc.oneof(fc.constantFrom("::ffff:1.2.3.4", "300.1.1.1", "1.2.3.4/24", "", "fe80::1%eth0", "::ffff:999.1.1.1"), jsonAnything),
      extra: jsonAnything,
    },
    { requiredKeys: [] },
  )
  .map((description) => {
    const { extra, ...rest } = description;
    return extra === undefined ? rest : { ...rest, [typeof extra === "string" ? extra : "extra"]: extra };
  });

// ---- Raw requests for the gateway endpoints ------------------------------------------------------


const GATEWAY_HEADER_NAMES = ["X-Original-Method", "X-Original-URI", "X-Original-URL", "X-Forwarded-Method", "X-Forwarded-Uri", "X-Forwarded-Host", "X-Forwarded-For", "X-Envoy-Auth-Partial-Body", "X-Original-Content-Length", "Host"];
const gatewayHeaders = fc.array(
  fc.tuple(fc.constantFrom(...GATEWAY_HEADER_NAMES), fc.oneof(hostilePath, fc.constantFrom("GET", "https://api.example.test/x", "1.2.3.4, 10.0.0.1", "true", "-1", "::1", ""), nasty())).map(([name, value]): [string, string] => [name, value]),
  { maxLength: 6 },
);
const GATEWAY_PATHS = ["/v1/forward-auth/nginx", "/v1/forward-auth/traefik", "/v1/forward-auth/envoy", "/v1/forward-auth/envoy/", "/v1/forward-auth/envoy/x?y=%G1&X-Amz-Signature=0"];
const gatewayCall = fc
  .record({
    path: fc.oneof(fc.constantFrom(...GATEWAY_PATHS), hostilePath.map((p) => `/v1/forward-auth/envoy${p}`)),
    method: fc.constantFrom("GET", "POST", "PUT", "DELETE"),
    headers: fc.tuple(hostileRequest.map((req) => req.headers), gatewayHeaders, fc.array(hostileAuthorization.map((auth): [string, string] => ["Authorization", auth]), { maxLength: 2 })),
    body: hostileBody,
  })
  .map(({ path, method, headers: [request, gateway, auths], body }) => {
    const headers = frameable([["Host", "verifier.test"], ...request, ...gateway, ...auths]);
    const payload = body ?? Buffer.alloc(0);
    return rawRequest(`${method} ${wireTarget(path)} HTTP/1.1`, [...headers, ["Content-Length", String(payload.length)]], payload);
  })
  // Over Node's own header limit, its parser answers (see the Node describe below).
  .filter((bytes) => bytes.length < 90 * 1024);

describe("the verifier's HTTP handler on hostile input, in-process", () => {
  const logs = new LogCapture();
  let running: RunningServer;
  let url = "";
  let port = 0;

  beforeAll(async () => {
    running = await startServer(MAX_BODY, logs);
    ({ url, port } = running);
  });

  afterAll(async () => {
    await running.close();
  });

  const expectAnswer = (answer: HttpAnswer): void => expectCodedRefusal(answer.status, answer.json);

  it("answers every malformed /v1/verify description with a 4xx and a JSON code", async () => {
    await fc.assert(
      fc.asyncProperty(hostileDescription, async (description) => expectAnswer(await postVerify(url, description))),
      PARAMS,
    );
  });

  it("answers requests made of hostile parts, described to /v1/verify, with the denial's code and status", async () => {
    await fc.assert(
      fc.asyncProperty(hostileRequest, async (req) => expectAnswer(await postVerify(url, verifyBody(req)))),
      PARAMS,
    );
  });

  it("answers genuine requests broken one way at a time with a 4xx and the code, never allowing them", async () => {
    const genuine = Object.values(genuineRequests(new Date()));
    const broken = fc.tuple(fc.constantFrom(...genuine), fc.nat()).chain(([req, pick]) => brokenOneWay(req, pick));
    await fc.assert(
      fc.asyncProperty(broken, async (req) => expectAnswer(await postVerify(url, verifyBody(req)))),
      PARAMS,
    );
  });

  it("answers a body that is not JSON at all (any bytes, invalid UTF-8 included) with 400 InvalidRequest", async () => {
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 512 }).map((b) => Buffer.from(b)), nasty(60).map((text) => Buffer.from(text, "latin1")));
    await fc.assert(
      fc.asyncProperty(bytes, async (body) => {
        const answer = await rawExchange(port, rawRequest("POST /v1/verify HTTP/1.1", [["Host", "v"], ["Content-Type", "application/json"], ["Content-Length", String(body.length)]], body));
        expectCodedRefusal(answer.status, answer.json);
        expect(answer.json?.code).toBe("InvalidRequest");
      }),
      PARAMS,
    );
  });

  it("answers forward-auth calls with hostile, repeated, huge and non-UTF-8 headers with 400, 401, 403 or 413 and the code", async () => {
    await fc.assert(
      fc.asyncProperty(gatewayCall, async (bytes) => expectGatewayRefusal(await rawExchange(port, bytes))),
      PARAMS,
    );
  });

  it("refuses bodies over the limit with 413 EntityTooLarge: declared, streamed, or inside a description", async () => {
    const over = fc.integer({ min: MAX_BODY + 1, max: MAX_BODY * 4 });
    const path = fc.constantFrom("/v1/verify", "/v1/forward-auth/envoy/x", `/v1/access-keys/${KEY_ID}/owner`);
    // The owner lookup is a GET; a body sent with it is read (and limited) all the same.
    const method = (p: string): string => (p.endsWith("/owner") ? "GET" : "POST");
    const declared = fc.tuple(path, fc.integer({ min: 300 * 1024, max: 2 ** 40 })).map(([p, length]) => rawRequest(`${method(p)} ${p} HTTP/1.1`, [["Host", "v"], ["Content-Length", String(length)]], Buffer.from("{")));
    const streamed = fc.tuple(fc.constantFrom("/v1/forward-auth/envoy/x", `/v1/access-keys/${KEY_ID}/owner`), over).map(([p, size]) => rawRequest(`${method(p)} ${p} HTTP/1.1`, [["Host", "v"], ["Transfer-Encoding", "chunked"]], chunked(size)));
    const described = over.map((size) => {
      const text = JSON.stringify({ method: "PUT", url: "/", headers: { Host: "x" }, body: Buffer.alloc(size, 1).toString("base64") });
      return rawRequest("POST /v1/verify HTTP/1.1", [["Host", "v"], ["Content-Length", String(Buffer.byteLength(text))]], Buffer.from(text));
    });
    await fc.assert(
      fc.asyncProperty(fc.oneof(declared, streamed, described), async (bytes) => {
        const answer = await rawExchange(port, bytes);
        expect([answer.status, answer.json?.code]).toEqual([413, "EntityTooLarge"]);
      }),
      { ...PARAMS, numRuns: 60 },
    );
  });

  it("answers bytes that are not HTTP with a 4xx from Node's parser, and keeps serving", async () => {
    const broken = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b)),
      fc.tuple(fc.constantFrom("\0", "\x01", "\x7f", "\r", "\n "), nasty(10)).map(([control, text]) => rawRequest("GET /v1/forward-auth/nginx HTTP/1.1", [["Host", "v"], ["Authorization", `AWS4-HMAC-SHA256 ${text}${control}x`]])),
      fc.constantFrom("a b", "(x)", "é", "").map((name) => rawRequest("GET /healthz HTTP/1.1", [["Host", "v"], [name, "v"]])),
      nasty(8).map((text) => Buffer.concat([Buffer.from("GET /v1/forward-auth/envoy/", "latin1"), Buffer.from(`${text}é\xff `, "latin1"), Buffer.from("HTTP/1.1\r\nHost: v\r\n\r\n")])),
      fc.integer({ min: 97 * 1024, max: 200 * 1024 }).map((size) => rawRequest("GET /v1/forward-auth/nginx HTTP/1.1", [["Host", "v"], ["Authorization", "a".repeat(size)]])),
    );
    await fc.assert(
      fc.asyncProperty(broken, async (bytes) => {
        const answer = await rawExchange(port, bytes);
        // Nothing at all is an answer too when the bytes never complete a request head.
        if (answer.status !== 0) expect([400, 431]).toContain(answer.status);
        expect((await rawExchange(port, rawRequest("GET /healthz HTTP/1.1", [["Host", "v"]]))).status).toBe(200);
      }),
      { ...PARAMS, numRuns: 60 },
    );
  });

  it("allows a genuine temporary key, and refuses forged, altered, mismatched, expired and malformed session tokens with a code", async () => {
    const genuine = sessionToken();
    const control = await postVerify(url, verifyBody(signedWithToken(genuine, 0)));
    expect(control.json).toMatchObject({ allowed: true, principal: { accessKeyId: TEMPORARY_KEY_ID, credentialType: "TemporaryCredential" } });
    await fc.assert(
      fc.asyncProperty(hostileToken(genuine), fc.nat(), async (token, form) => {
        const answer = await postVerify(url, verifyBody(signedWithToken(token, form)));
        expectAnswer(answer);
        expect(["InvalidClientTokenId", "ExpiredToken", "SignatureDoesNotMatch", "InvalidArgument"]).toContain(answer.json.code);
      }),
      PARAMS,
    );
  });

  it("answers /v1/mfa/verify, signed or not, with hostile bodies with a 4xx and a code, and lets only well-formed calls of the caller's namespace reach the checker", async () => {
    const wellFormed = fc.record({ namespace: fc.constantFrom("team", "other"), user: fc.constantFrom("alice", "bob@x"), code: fc.stringMatching(/^\d{6}$/) }).map((call) => JSON.stringify(call));
    const body = fc.oneof(
      wellFormed,
      fc.record({ namespace: fc.oneof(fc.constantFrom("team", "other", "Team", "-team", ""), nasty(), long(300)), user: fc.oneof(fc.constantFrom("alice", "a b", ""), nasty()), code: fc.oneof(fc.stringMatching(/^\d{6}$/), fc.constantFrom("12345", "1234567", "１２３４５６", "12345a"), nasty()) }, { requiredKeys: [] }).map((call) => JSON.stringify(call)),
      fc.jsonValue().map((value) => JSON.stringify(value)),
      nasty(40),
    );
    await fc.assert(
      fc.asyncProperty(body, fc.boolean(), async (text, signed) => {
        const answer = await rawExchange(port, mfaCall(Buffer.from(text, "utf8"), signed));
        if (answer.status === 200) expect(answer.json).toEqual({ valid: false, code: "MfaDeviceNotFound" });
        else expectCodedRefusal(answer.status, answer.json);
      }),
      PARAMS,
    );
    expect(running.mfaCalls.length).toBeGreaterThan(0);
    for (const call of running.mfaCalls) expect(call).toMatchObject({ namespace: "team", user: expect.stringMatching(/^[A-Za-z0-9][A-Za-z0-9+=,.@_-]{0,63}$/) as unknown, code: expect.stringMatching(/^\d{6}$/) as unknown });
  });

  it("answers the security-key routes, signed or not, with hostile bodies with a coded answer, and lets only well-formed calls reach the checker", async () => {
    const base64url = fc.stringMatching(/^[A-Za-z0-9_-]{1,40}$/);
    const field = fc.oneof(base64url, fc.constantFrom("", "a+b/c==", "é"), nasty(), long(5000), fc.integer());
    const assertion = fc.record(
      {
        id: field,
        rawId: field,
        type: fc.constantFrom("public-key", "password", ""),
        authenticatorAttachment: fc.constantFrom("platform", "cross-platform", "usb"),
        response: fc.oneof(fc.record({ clientDataJSON: field, authenticatorData: field, signature: field, userHandle: field }, { requiredKeys: [] }), fc.jsonValue()),
      },
      { requiredKeys: [] },
    );
    const wellFormed = fc.record({
      namespace: fc.constant("team"),
      user: fc.constant("alice"),
      assertion: fc.record({ id: base64url, rawId: base64url, type: fc.constant("public-key"), response: fc.record({ clientDataJSON: base64url, authenticatorData: base64url, signature: base64url }) }),
    });
    const body = fc.oneof(
      wellFormed,
      fc.record({ namespace: fc.constantFrom("team", "other", "Team"), user: fc.oneof(fc.constantFrom("alice", "a b"), nasty()), assertion: fc.oneof(assertion, fc.jsonValue()), code: fc.constantFrom(undefined, "123456") }, { requiredKeys: ["namespace", "user"] }),
      fc.jsonValue(),
    ).map((call) => JSON.stringify(call) ?? "");
    const route = fc.constantFrom("/v1/mfa/verify", "/v1/mfa/challenge");
    await fc.assert(
      fc.asyncProperty(route, fc.oneof(body, nasty(40)), fc.boolean(), async (path, text, signed) => {
        const answer = await rawExchange(port, mfaCall(Buffer.from(text, "utf8"), signed, path));
        if (answer.status === 200) expect(answer.json).toMatchObject({ valid: false, code: "MfaDeviceNotFound" });
        else if (answer.status === 404) expect(answer.json).toEqual({ code: "MfaDeviceNotFound", message: "no registered security key" });
        else expectCodedRefusal(answer.status, answer.json);
      }),
      PARAMS,
    );
    expect(running.keyCalls.some((call) => call.assertion !== undefined)).toBe(true);
    for (const call of running.keyCalls) {
      expect(call.namespace).toBe("team");
      if (call.assertion) expect(authenticationResponse.safeParse(call.assertion).success).toBe(true);
    }
  });

  // Runs last: everything above has been logged by now.
  it("logged no secret, session token, signature, warning or error, and made no metric label out of input", async () => {
    const text = logs.text();
    expect(logs.lines.length).toBeGreaterThan(100);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(SESSION_TOKEN);
    expect(text).not.toContain(TEMPORARY_SECRET);
    expect(text).not.toContain(sessionToken().slice(0, 24));
    expect(text).not.toMatch(SIGNATURE_HEX);
    // No check threw (that is logged at warn) and nothing failed (error).
    expect(logs.lines.filter((line) => (JSON.parse(line) as { level: number }).level >= 40)).toEqual([]);
    const metrics = (await rawExchange(port, rawRequest("GET /metrics HTTP/1.1", [["Host", "v"]]))).body;
    const schemes = new Set([...metrics.matchAll(/scheme="([^"]*)"/g)].map((match) => match[1]));
    expect([...schemes].every((scheme) => ["AWS4-HMAC-SHA256", "ACS3-HMAC-SHA256", "SDK-HMAC-SHA256", "none"].includes(scheme ?? ""))).toBe(true);
    expect(schemes.size).toBeGreaterThan(1);
  });
});

// ---- Session tokens and the MFA route ----------------------------------------------------------

const TEMPORARY = { accessKeyId: TEMPORARY_KEY_ID, secret: TEMPORARY_SECRET };
const TOKEN_REQUEST: HttpRequestDescription = { method: "GET", rawPath: "/v1/things", rawQuery: "limit=2", headers: [["Host", "api.example.test"]] };

/** A request signed with the temporary key and the given token, in one of the four forms that carry one. */
function signedWithToken(token: string, form: number): HttpRequestDescription {
  const now = new Date();
  const aws = { ...TEMPORARY, region: "eu-west-1", service: "things", sessionToken: token };
  const forms = [
    () => signSigV4(TOKEN_REQUEST, aws, now),
    () => signSigV4(TOKEN_REQUEST, { ...aws, presignExpires: 300 }, now),
    () => signAcs3(TOKEN_REQUEST, { ...TEMPORARY, securityToken: token }, now),
    () => signHuawei(TOKEN_REQUEST, { ...TEMPORARY, securityToken: token }, now),
  ];
  // A presigned URL has room for a token of a few KiB only (the verifier limits the target to 16 KiB).
  const usable = Buffer.byteLength(token) * 3 < 12 * 1024 ? forms : [forms[0], forms[2], forms[3]];
  return (usable[form % usable.length] as () => HttpRequestDescription)();
}

function flipChar(text: string, at: number): string {
  const i = at % text.length;
  const replacement = text[i] === "A" ? "B" : "A";
  return `${text.slice(0, i)}${replacement}${text.slice(i + 1)}`;
}

/** Tokens a client could send: made up, altered, someone else's, expired, or sealed around hostile claims. */
function hostileToken(genuine: string): fc.Arbitrary<string> {
  const otherKek = { current: { version: 1, key: Buffer.alloc(32, 7) }, ring: new Map([[1, Buffer.alloc(32, 7)]]) };
  return fc
    .oneof(
      nasty(60),
      fc.base64String({ maxLength: 400 }),
      long(5000),
      fc.nat().map((at) => flipChar(genuine, at)),
      fc.nat({ max: 40 }).map((cut) => genuine.slice(0, genuine.length - 1 - cut)),
      fc.constant(sessionToken({ accessKeyId: "KGASOTHEROTHEROTHERX" })),
      fc.constant(sessionToken({ expiresAt: Date.now() - 1000 })),
      fc.constant(sessionToken({ secretAccessKey: "not-the-secret-this-request-was-signed-w" })),
      fc.constant(sealSessionToken(otherKek, sessionClaimsOf())),
      fc.oneof(fc.jsonValue(), fc.record({ v: fc.constantFrom(1, 2), id: fc.constant(TEMPORARY_KEY_ID), sk: fc.anything() })).map((claims) => seal(Buffer.from(JSON.stringify(claims) ?? "", "utf8"), KEKS.current, "session-token")),
    )
    .filter((token) => token !== genuine && !/[\r\n\0]/.test(token) && token.trim() === token && token !== "");
}

function sessionClaimsOf() {
  const now = Date.now();
  return { accessKeyId: TEMPORARY_KEY_ID, namespace: "team", user: "alice", issuedAt: now, expiresAt: now + 60_000, mfaAuthenticated: false, secretAccessKey: TEMPORARY_SECRET };
}

/** POST to an MFA route with a body, signed by the fake index's key (namespace "team") or not signed at all. */
function mfaCall(body: Buffer, signed: boolean, path = "/v1/mfa/verify"): Buffer {
  const request: HttpRequestDescription = { method: "POST", rawPath: path, rawQuery: "", headers: [["Host", "verifier.test"], ["Content-Type", "application/json"]], body };
  const sent = signed ? signSigV4(request, { accessKeyId: KEY_ID, secret: SECRET, region: "eu-west-1", service: "keygate" }, new Date()) : request;
  return rawRequest(`POST ${path} HTTP/1.1`, [...sent.headers, ["Content-Length", String(body.length)]], body);
}

function chunked(size: number): Buffer {
  const chunk = Buffer.alloc(1024, 0x61);
  const parts: Buffer[] = [];
  for (let sent = 0; sent < size; sent += chunk.length) parts.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from("\r\n"));
  parts.push(Buffer.from("0\r\n\r\n"));
  return Buffer.concat(parts);
}

function replaceValue(req: HttpRequestDescription, name: string, value: string): HttpRequestDescription {
  return { ...req, headers: req.headers.map(([n, v]): [string, string] => [n, n.toLowerCase() === name ? value : v]) };
}

/** The date header, or for a presigned request the X-Amz-Date parameter (encoded as far as it can be). */
function withDate(req: HttpRequestDescription, header: string | undefined, date: string): HttpRequestDescription {
  if (header !== undefined) return replaceValue(req, header, date);
  const encoded = Buffer.from(date, "utf8").toString("latin1").replace(/[^A-Za-z0-9]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, "0")}`);
  return { ...req, rawQuery: req.rawQuery.replace(/X-Amz-Date=[^&]*/, `X-Amz-Date=${encoded}`) };
}

/** One hostile change to a genuine request, each of which a verifier must refuse. */
function brokenOneWay(req: HttpRequestDescription, pick: number): fc.Arbitrary<HttpRequestDescription> {
  const hasAuth = req.headers.some(([n]) => n.toLowerCase() === "authorization");
  const dateName = req.headers.map(([n]) => n.toLowerCase()).find((n) => /^x-(amz|acs|sdk)-date$/.test(n)) ?? "x-amz-date";
  const edits = [
    hostileAuthorization.map((auth) => (hasAuth ? replaceValue(req, "authorization", auth) : { ...req, headers: [...req.headers, ["Authorization", auth] as [string, string]] })),
    hostileAuthorization.map((auth) => ({ ...req, headers: [...req.headers, ["Authorization", auth] as [string, string]] })),
    hostileDate.filter((date) => !req.headers.some(([, v]) => v === date) && !req.rawQuery.includes(`X-Amz-Date=${date}&`)).map((date) => withDate(req, hasAuth ? dateName : undefined, date)),
    fc.constantFrom("\r\n", "\0", "\n").map((control) => replaceValue(req, "host", `api.example.test${control}x-amz-date: 1`)),
    fc.integer({ min: 64 * 1024, max: 80 * 1024 }).map((size) => ({ ...req, headers: [...req.headers, ["x-padding", "a".repeat(size)] as [string, string]] })),
    fc.constantFrom("x-amz-meta-hostile", "x-acs-hostile", "x-sdk-hostile", "x-security-token").map((name) => ({ ...req, headers: [...req.headers, [name, SESSION_TOKEN] as [string, string]] })),
    fc.constantFrom("%", "%G1", "%zz").map((bad) => ({ ...req, rawQuery: `k=${bad}&${req.rawQuery}` })),
    fc.uint8Array({ minLength: 1, maxLength: 64 }).map((bytes) => ({ ...req, body: Buffer.concat([Buffer.from(bytes), Buffer.from("!")]) })),
  ];
  return edits[pick % edits.length] as fc.Arbitrary<HttpRequestDescription>;
}

// A request that declares a STREAMING- payload hash is refused before the signature is compared,
// so anyone who knows a key id (ids are not secret) can send one: the signature below is zeros.
// It must still be a 4xx, never a 5xx. Gateways get 403 (forward-auth maps refusals to 401/403).
describe("a declared STREAMING- payload is refused with a 4xx, even without any valid signature", () => {
  let running: RunningServer;
  let url = "";

  beforeAll(async () => {
    running = await startServer(MAX_BODY);
    url = running.url;
  });

  afterAll(async () => {
    await running.close();
  });

  /** Written by hand: a well-formed SigV4 header claiming a STREAMING- payload, with an all-zero signature. */
  function forged(keyId = KEY_ID): HttpRequestDescription {
    const amzDate = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
    const credential = `${keyId}/${amzDate.slice(0, 8)}/eu-west-1/s3/aws4_request`;
    const headers: HeaderList = [
      ["Host", "s3.example.test"],
      ["X-Amz-Date", amzDate],
      ["x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"],
      ["Authorization", `AWS4-HMAC-SHA256 Credential=${credential}, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=${"0".repeat(64)}`],
    ];
    return { method: "PUT", rawPath: "/bucket/key", rawQuery: "", headers };
  }

  it("/v1/verify and the owner lookup answer 400 NotImplemented", async () => {
    const answer = await postVerify(url, verifyBody(forged()));
    expect([answer.status, answer.json.code]).toEqual([400, "NotImplemented"]);
    const owner = await rawExchange(running.port, rawRequest(`GET /v1/access-keys/${KEY_ID}/owner HTTP/1.1`, forged().headers));
    expect([owner.status, owner.json?.code]).toEqual([400, "NotImplemented"]);
  });

  it("an unknown key id gets InvalidAccessKeyId instead, and a gateway 403", async () => {
    const answer = await postVerify(url, verifyBody(forged("AKIDUNKNOWNKEY")));
    expect([answer.status, answer.json.code]).toEqual([403, "InvalidAccessKeyId"]);
    const req = forged();
    const gateway = await rawExchange(running.port, rawRequest(`PUT /v1/forward-auth/envoy${targetOf(req)} HTTP/1.1`, [...req.headers, ["Content-Length", "0"]]));
    expect([gateway.status, gateway.json?.code]).toEqual([403, "NotImplemented"]);
  });
});

// Node's HTTP parser refuses these before the verifier's handler sees them: a malformed request
// (control characters, a header name that is not a token, a non-ASCII request target), and
// headers over the server's maxHeaderSize (96 KiB). They still get a 4xx with a JSON code.
describe("what Node's HTTP parser cannot parse is answered with a 4xx and a JSON code", () => {
  let running: RunningServer;

  beforeAll(async () => {
    running = await startServer(MAX_BODY);
  });

  afterAll(async () => {
    await running.close();
  });

  it.each([
    ["a NUL in a header value", rawRequest("GET /v1/forward-auth/nginx HTTP/1.1", [["Host", "v"], ["Authorization", "AWS4-HMAC-SHA256 a\0b"]]), 400, "InvalidRequest"],
    ["a header name with a space", rawRequest("GET /v1/forward-auth/nginx HTTP/1.1", [["Host", "v"], ["X A", "b"]]), 400, "InvalidRequest"],
    ["a raw non-ASCII byte in the request target", Buffer.from("GET /v1/forward-auth/envoy/caf\xe9 HTTP/1.1\r\nHost: v\r\nConnection: close\r\n\r\n", "latin1"), 400, "InvalidRequest"],
    ["headers over 96 KiB", rawRequest("GET /v1/forward-auth/nginx HTTP/1.1", [["Host", "v"], ["Authorization", "a".repeat(100 * 1024)]]), 431, "RequestHeaderFieldsTooLarge"],
  ] as const)("%s", async (_kind, bytes, status, code) => {
    const answer = await rawExchange(running.port, bytes);
    expect(answer.status).toBe(status);
    expect(answer.json?.code).toBe(code);
  });
});

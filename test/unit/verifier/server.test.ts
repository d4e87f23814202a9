import { createHash } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAcs3 } from "../../support/signers/acs3.js";
import { signHuawei } from "../../support/signers/huawei.js";
import { MemoryReplayStore } from "../../../src/replay/memory.js";
import type { HeaderList, HttpRequestDescription } from "../../../src/signing/request.js";
import { signSigV4 } from "../../support/signers/sigv4.js";
import { parseNetworks } from "../../../src/verifier/ip.js";
import type { AccessKeyRef } from "../../../src/verifier/key-table.js";
import type { LastUsed } from "../../../src/verifier/last-used.js";
import { VerifierMetrics } from "../../../src/verifier/metrics.js";
import { createVerifierServer } from "../../../src/verifier/server.js";
import { Verification } from "../../../src/verifier/verification.js";
import { httpSend, postVerify, targetOf, verifyBody } from "../../support/verifier-http.js";
import { FakeKeys, KEY_ID, SECRET } from "./fake-keys.js";
import { LogCapture } from "../../support/log-capture.js";
import { NO_SECURITY_KEYS, serverDeps } from "./server-deps.js";

const MAX_BODY = 4096;
const aws = { accessKeyId: KEY_ID, secret: SECRET, region: "eu-west-1", service: "things" };
const original: HttpRequestDescription = { method: "GET", rawPath: "/things/1", rawQuery: "view=full", headers: [["Host", "api.example.test"]] };

function networks(...entries: string[]) {
  const parsed = parseNetworks(entries);
  if (!parsed.ok) throw new Error(parsed.entry);
  return parsed.networks;
}

describe("the verifier's HTTP API, in-process", () => {
  const keys = new FakeKeys();
  const uses: Array<{ target: AccessKeyRef; usage: LastUsed }> = [];
  const mfaUsers: string[] = [];
  const nonces = new MemoryReplayStore();
  const metrics = new VerifierMetrics({ keyCounts: () => ({ Active: 1, Inactive: 0, Recycled: 0 }), replayCacheSize: () => nonces.size(), ready: () => keys.isReady });
  let server: Server;
  let url = "";
  let draining = false;

  beforeAll(async () => {
    server = createVerifierServer({
      verification: new Verification(keys, nonces, () => new Date()),
      owners: keys,
      securityKeys: NO_SECURITY_KEYS,
      mfa: {
        verify: (namespace, user) => {
          mfaUsers.push(`${namespace}/${user}`);
          return Promise.resolve({ valid: false, code: "MfaDeviceNotFound" });
        },
      },
      ready: () => keys.isReady,
      draining: () => draining,
      metrics,
      lastUsed: { record: (target, usage) => uses.push({ target, usage }) },
      trustedProxies: networks("127.0.0.1"),
      trustedCallers: networks("127.0.0.1"),
      maxBodyBytes: MAX_BODY,
      now: () => new Date(),
      log: pino({ level: "silent" }),
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it("answers /v1/verify with the principal and records the use with the asserted source address", async () => {
    keys.set(KEY_ID, { cidrs: ["192.0.2.0/24"] });
    const answer = await postVerify(url, verifyBody(signSigV4(original, aws, new Date()), "::ffff:192.0.2.44"));
    keys.set(KEY_ID, {});
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      allowed: true,
      principal: { namespace: "team", user: "alice", accessKeyId: KEY_ID, credentialType: "AccessKey", mfaAuthenticated: false },
      scheme: "AWS4-HMAC-SHA256",
      payloadVerified: false,
      service: "things",
      region: "eu-west-1",
      date: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/) as unknown,
    });
    expect(uses.at(-1)).toMatchObject({ target: { uid: "uid-alpha" }, usage: { service: "things", region: "eu-west-1", sourceIP: "192.0.2.44" } });
  });

  it("answers a denial with the cloud code and its status", async () => {
    const forged = signSigV4(original, { ...aws, secret: "not-the-secret" }, new Date());
    const answer = await postVerify(url, verifyBody(forged));
    expect(answer.status).toBe(403);
    expect(answer.json).toMatchObject({ allowed: false, code: "SignatureDoesNotMatch" });
  });

  it("answers a malformed description with 400 InvalidRequest naming the field", async () => {
    const answer = await postVerify(url, { method: "GET", url: "/", headers: "Host: x" });
    expect(answer.status).toBe(400);
    expect(answer.json).toMatchObject({ code: "InvalidRequest", message: expect.stringContaining("headers") as unknown });
  });

  it("refuses an oversized body with 413 before reading it", async () => {
    const answer = await postVerify(url, { method: "GET", url: "/", headers: {}, body: Buffer.alloc(MAX_BODY * 100).toString("base64") });
    expect(answer.status).toBe(413);
    expect(answer.json).toMatchObject({ code: "EntityTooLarge" });
  });

  it("answers unknown routes and wrong methods with codes", async () => {
    expect((await httpSend(url, { method: "GET", target: "/nope", headers: [["Host", "x"]] })).json).toMatchObject({ code: "NotFound" });
    const wrong = await httpSend(url, { method: "GET", target: "/v1/verify", headers: [["Host", "x"]] });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.allow).toBe("POST");
  });

  it("passes NGINX auth_request with the principal in response headers", async () => {
    const signed = signSigV4(original, aws, new Date());
    const headers: HeaderList = [
      ...signed.headers,
      ["X-Original-Method", "GET"],
      ["X-Original-URI", targetOf(signed)],
      ["X-Forwarded-For", "198.51.100.9"],
    ];
    const answer = await httpSend(url, { method: "GET", target: "/v1/forward-auth/nginx", headers });
    expect(answer.status).toBe(200);
    expect(answer.headers).toMatchObject({
      "x-keygate-namespace": "team",
      "x-keygate-user": "alice",
      "x-keygate-access-key-id": KEY_ID,
      "x-keygate-payload-verified": "false",
      "x-keygate-credential-type": "AccessKey",
      "x-keygate-service": "things",
      "x-keygate-region": "eu-west-1",
      "x-keygate-date": expect.stringMatching(/Z$/) as unknown,
    });
    expect(uses.at(-1)?.usage.sourceIP).toBe("198.51.100.9");
  });

  it("answers a gateway 401 without a signature and 403 with a bad one, with the code in a header", async () => {
    const headers: HeaderList = [["Host", "api.example.test"], ["X-Original-Method", "GET"], ["X-Original-URI", "/"]];
    const missing = await httpSend(url, { method: "GET", target: "/v1/forward-auth/nginx", headers });
    expect(missing.status).toBe(401);
    expect(missing.headers["x-keygate-error-code"]).toBe("MissingAuthenticationToken");
    const signed = signSigV4(original, aws, new Date());
    const tampered: HeaderList = [...signed.headers, ["X-Original-Method", "DELETE"], ["X-Original-URI", targetOf(signed)]];
    const bad = await httpSend(url, { method: "GET", target: "/v1/forward-auth/nginx", headers: tampered });
    expect(bad.status).toBe(403);
    expect(bad.headers["x-keygate-error-code"]).toBe("SignatureDoesNotMatch");
  });

  it("refuses, on the NGINX path, a captured request replayed for another URI with a client-made X-Original-URL", async () => {
    const captured = signSigV4({ ...original, rawPath: "/public/readme", rawQuery: "" }, aws, new Date());
    const headers: HeaderList = [...captured.headers, ["X-Original-Method", "GET"], ["X-Original-URI", "/admin/delete-all"], ["X-Original-URL", "https://api.example.test/public/readme"]];
    const answer = await httpSend(url, { method: "GET", target: "/v1/forward-auth/nginx", headers });
    expect([answer.status, answer.headers["x-keygate-error-code"]]).toEqual([403, "SignatureDoesNotMatch"]);
  });

  it("passes ingress-nginx on its own path, the original host taken from X-Original-URL", async () => {
    const signed = signSigV4(original, aws, new Date());
    const headers: HeaderList = [["Host", "keygate-verifier.svc"], ...signed.headers.filter(([name]) => name !== "Host"), ["X-Original-Method", "GET"], ["X-Original-URL", `https://api.example.test${targetOf(signed)}`]];
    const answer = await httpSend(url, { method: "GET", target: "/v1/forward-auth/ingress-nginx", headers });
    expect(answer.status).toBe(200);
  });

  it("refuses a swapped body Traefik forwards, whatever partial-body and length headers the client adds", async () => {
    const body = Buffer.from('{"name":"x"}');
    // The hash declared in a signed header, as the AWS SDKs send it for S3.
    const declared: HeaderList = [...original.headers, ["x-amz-content-sha256", createHash("sha256").update(body).digest("hex")]];
    const signed = signSigV4({ ...original, method: "POST", headers: declared, body }, aws, new Date());
    const swapped = Buffer.from('{"name":"y"}');
    const forwarded: HeaderList = [["X-Forwarded-Method", "POST"], ["X-Forwarded-Uri", targetOf(signed)], ["X-Forwarded-Host", "api.example.test"]];
    const client: HeaderList = [["x-envoy-auth-partial-body", "true"], ["X-Original-Content-Length", String(body.length)]];
    const call = (sent: Buffer) => httpSend(url, { method: "POST", target: "/v1/forward-auth/traefik", headers: [["Host", "verifier"], ...signed.headers.filter(([name]) => name !== "Host"), ...forwarded, ...client], body: sent });
    expect((await call(body)).status).toBe(200);
    const answer = await call(swapped);
    expect([answer.status, answer.headers["x-keygate-error-code"]]).toEqual([403, "XAmzContentSHA256Mismatch"]);
  });

  it("always answers the scope headers, empty for a scheme without a scope, so that a gateway replaces a client's copy", async () => {
    const signed = signHuawei(original, { accessKeyId: KEY_ID, secret: SECRET }, new Date());
    const answer = await httpSend(url, { method: "GET", target: `/v1/forward-auth/envoy${targetOf(signed)}`, headers: signed.headers });
    expect(answer.status).toBe(200);
    expect([answer.headers["x-keygate-service"], answer.headers["x-keygate-region"]]).toEqual(["", ""]);
  });

  it("verifies a body Envoy forwards to the ext_authz service", async () => {
    const body = Buffer.from('{"name":"x"}');
    const signed = signAcs3({ ...original, method: "POST", headers: [...original.headers, ["Content-Type", "application/json"]], body }, { accessKeyId: KEY_ID, secret: SECRET }, new Date());
    const answer = await httpSend(url, { method: "POST", target: `/v1/forward-auth/envoy${targetOf(signed)}`, headers: signed.headers, body });
    expect(answer.status).toBe(200);
    expect(answer.headers["x-keygate-payload-verified"]).toBe("true");
  });

  it("checks an MFA code only for a body under the signature: an UNSIGNED-PAYLOAD call replayed with another user is refused", async () => {
    const host = new URL(url).host;
    const call = (user: string): Buffer => Buffer.from(JSON.stringify({ namespace: "team", user, code: "123456" }));
    const request: HttpRequestDescription = { method: "POST", rawPath: "/v1/mfa/verify", rawQuery: "", headers: [["Host", host], ["Content-Type", "application/json"]], body: call("alice") };
    const signed = signSigV4(request, { ...aws, service: "keygate" }, new Date());
    expect((await httpSend(url, { method: "POST", target: "/v1/mfa/verify", headers: signed.headers, body: call("alice") })).status).toBe(200);
    const swapped = await httpSend(url, { method: "POST", target: "/v1/mfa/verify", headers: signed.headers, body: call("bob") });
    expect([swapped.status, swapped.json.code]).toEqual([403, "SignatureDoesNotMatch"]);
    // UNSIGNED-PAYLOAD in an s3 scope passes the signature check with any body, so the route refuses it.
    const unsigned = signSigV4({ ...request, headers: [...request.headers, ["x-amz-content-sha256", "UNSIGNED-PAYLOAD"]] }, { ...aws, service: "s3" }, new Date());
    const replayed = await httpSend(url, { method: "POST", target: "/v1/mfa/verify", headers: unsigned.headers, body: call("bob") });
    expect([replayed.status, replayed.json.code]).toEqual([403, "AccessDenied"]);
    expect(mfaUsers).toEqual(["team/alice"]);
  });

  it("tells a key's owner only to a validly signed request", async () => {
    const host = new URL(url).host;
    const lookup: HttpRequestDescription = { method: "GET", rawPath: `/v1/access-keys/${KEY_ID}/owner`, rawQuery: "", headers: [["Host", host]] };
    const unsigned = await httpSend(url, { method: "GET", target: lookup.rawPath, headers: lookup.headers });
    expect(unsigned.status).toBe(403);
    expect(unsigned.json).toMatchObject({ code: "MissingAuthenticationToken" });
    const signed = signSigV4(lookup, { ...aws, service: "sts" }, new Date());
    const answer = await httpSend(url, { method: "GET", target: lookup.rawPath, headers: signed.headers });
    expect(answer.json).toEqual({ accessKeyId: KEY_ID, namespace: "team", user: "alice" });
    const unknown = { ...lookup, rawPath: "/v1/access-keys/KGAKNOPENOPENOPENOPE/owner" };
    const none = await httpSend(url, { method: "GET", target: unknown.rawPath, headers: signSigV4(unknown, aws, new Date()).headers });
    expect(none.status).toBe(404);
    expect(none.json).toMatchObject({ code: "NoSuchEntity" });
  });

  it("closes each connection after its answer while draining, so that clients move to another replica", async () => {
    const get = () => httpSend(url, { method: "GET", target: "/healthz", headers: [["Host", "x"], ["Connection", "keep-alive"]] });
    expect((await get()).headers.connection).toBe("keep-alive");
    draining = true;
    const answer = await get();
    draining = false;
    expect(answer.status).toBe(200);
    expect(answer.headers.connection).toBe("close");
  });

  it("serves health, readiness and metrics", async () => {
    const get = (target: string) => httpSend(url, { method: "GET", target, headers: [["Host", "x"]] });
    expect((await get("/healthz")).status).toBe(200);
    keys.isReady = false;
    expect((await get("/readyz")).status).toBe(503);
    keys.isReady = true;
    expect((await get("/readyz")).status).toBe(200);
    const text = (await get("/metrics")).text;
    expect(text).toMatch(/keygate_verifier_verifications_total\{endpoint="verify",scheme="AWS4-HMAC-SHA256",code="Allowed"\} 1/);
    expect(text).toMatch(/keygate_verifier_verifications_total\{endpoint="forward-auth",scheme="none",code="MissingAuthenticationToken"\} 1/);
    expect(text).toContain("keygate_verifier_verification_duration_seconds_bucket");
    expect(text).toContain('keygate_verifier_index_keys{state="Active"} 1');
    expect(text).toContain("keygate_verifier_replay_cache_entries 1");
  });
});

describe("a verification check that throws", () => {
  it("is that request's 400 UnverifiableRequest, logged at warn by the error's name only", async () => {
    const logs = new LogCapture();
    const check = () => {
      throw new TypeError("quoted input: AKIA-and-more");
    };
    const throwing = { verify: check, verifyNow: check } as unknown as Verification;
    const server = createVerifierServer(serverDeps({ verification: throwing, maxBodyBytes: MAX_BODY, log: pino({ level: "debug" }, logs) }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const answer = await postVerify(base, verifyBody(original));
    await new Promise((resolve) => server.close(resolve));
    expect([answer.status, answer.json.code]).toEqual([400, "UnverifiableRequest"]);
    const lines = logs.lines.map((line) => JSON.parse(line) as { level: number; error?: string });
    expect(lines.map((line) => [line.level, line.error])).toEqual([[40, "TypeError"]]);
    expect(logs.text()).not.toContain("quoted input");
  });
});

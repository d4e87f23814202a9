import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AuthenticationResponse } from "../../../src/api/webauthn.js";
import type { MfaAnswer } from "../../../src/otp/checker.js";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { createVerifierServer, type ServerDeps } from "../../../src/verifier/server.js";
import { VerifierMetrics } from "../../../src/verifier/metrics.js";
import type { KeyAnswer } from "../../../src/webauthn/checker.js";
import { signSigV4 } from "../../support/signers/sigv4.js";
import { httpSend } from "../../support/verifier-http.js";
import { KEY_ID, SECRET } from "./fake-keys.js";
import { serverDeps } from "./server-deps.js";

const assertion: AuthenticationResponse = {
  id: "a2V5LW9uZQ",
  rawId: "a2V5LW9uZQ",
  type: "public-key",
  response: { clientDataJSON: "e30", authenticatorData: "AAAA", signature: "AAAA" },
};
const OPTIONS = { challenge: "Y2hhbGxlbmdl", rpId: "localhost", allowCredentials: [{ id: "a2V5LW9uZQ", type: "public-key" as const }], timeout: 300_000 };

describe("the security-key routes, in-process", () => {
  const calls: string[] = [];
  let answer: KeyAnswer = { valid: true, deviceName: "yubikey" };
  const securityKeys: ServerDeps["securityKeys"] = {
    challenge: (subject) => {
      const { namespace, user } = subject;
      calls.push(`challenge ${namespace}/${user} ${subject.purpose === "verify" ? `verify for ${subject.accessKeyId}` : "session"}`);
      return Promise.resolve(user === "alice" ? { found: true, options: OPTIONS } : { found: false, code: "MfaDeviceNotFound", message: `user ${user} has no registered security key` });
    },
    verify: ({ namespace, user, accessKeyId }, sent) => {
      calls.push(`verify ${namespace}/${user} by ${accessKeyId} ${sent.id}`);
      return Promise.resolve(answer);
    },
  };
  let codeAnswer: MfaAnswer = { valid: true };
  const mfa: ServerDeps["mfa"] = {
    verify: (namespace, user, code) => {
      calls.push(`code ${namespace}/${user} ${code}`);
      return Promise.resolve(codeAnswer);
    },
  };
  const metrics = new VerifierMetrics({ keyCounts: () => ({ Active: 1, Inactive: 0, Recycled: 0 }), replayCacheSize: () => 0, ready: () => true });
  let server: Server;
  let url = "";

  beforeAll(async () => {
    server = createVerifierServer(serverDeps({ mfa, securityKeys, metrics }));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  function send(path: string, body: unknown, options: { secret?: string; unsigned?: boolean } = {}) {
    const text = Buffer.from(JSON.stringify(body));
    const request: HttpRequestDescription = { method: "POST", rawPath: path, rawQuery: "", headers: [["Host", new URL(url).host], ["Content-Type", "application/json"]], body: text };
    const unsigned: HttpRequestDescription = { ...request, headers: [...request.headers, ["x-amz-content-sha256", "UNSIGNED-PAYLOAD"]] };
    const service = options.unsigned ? "s3" : "keygate";
    const signed = signSigV4(options.unsigned ? unsigned : request, { accessKeyId: KEY_ID, secret: options.secret ?? SECRET, region: "eu-west-1", service }, new Date());
    return httpSend(url, { method: "POST", target: path, headers: signed.headers, body: text });
  }

  it("answers a challenge with the options for navigator.credentials.get(), for /v1/mfa/verify by the signing key unless told otherwise", async () => {
    const answered = await send("/v1/mfa/challenge", { namespace: "team", user: "alice" });
    expect([answered.status, answered.json]).toEqual([200, OPTIONS]);
    expect(calls.at(-1)).toBe(`challenge team/alice verify for ${KEY_ID}`);
  });

  it("binds a verify challenge to the signing key, whatever key id the body names", async () => {
    await send("/v1/mfa/challenge", { namespace: "team", user: "alice", purpose: "verify", accessKeyId: "KGAKOTHERKEYOTHERKEY" });
    expect(calls.at(-1)).toBe(`challenge team/alice verify for ${KEY_ID}`);
  });

  it("asks for a session challenge, bound to no key, with purpose session", async () => {
    const answered = await send("/v1/mfa/challenge", { namespace: "team", user: "alice", purpose: "session" });
    expect(answered.status).toBe(200);
    expect(calls.at(-1)).toBe("challenge team/alice session");
  });

  it("refuses another purpose, naming the field", async () => {
    const before = calls.length;
    for (const purpose of ["login", 1, null]) {
      const answered = await send("/v1/mfa/challenge", { namespace: "team", user: "alice", purpose });
      expect([answered.status, answered.json.code, answered.json.message]).toEqual([400, "InvalidRequest", expect.stringMatching(/^purpose: must be "verify" .* or "session"/)]);
    }
    expect(calls.length).toBe(before);
  });

  it("answers 404 MfaDeviceNotFound for a user without a registered key", async () => {
    const answered = await send("/v1/mfa/challenge", { namespace: "team", user: "bob" });
    expect([answered.status, answered.json]).toEqual([404, { code: "MfaDeviceNotFound", message: "user bob has no registered security key" }]);
  });

  it("authenticates a challenge call as a verify call: a signature, over the body, by a key of the namespace", async () => {
    const before = calls.length;
    const forged = await send("/v1/mfa/challenge", { namespace: "team", user: "alice" }, { secret: "not-the-secret" });
    expect([forged.status, forged.json.code]).toEqual([403, "SignatureDoesNotMatch"]);
    const unsigned = await send("/v1/mfa/challenge", { namespace: "team", user: "alice" }, { unsigned: true });
    expect([unsigned.status, unsigned.json.code]).toEqual([403, "AccessDenied"]);
    const elsewhere = await send("/v1/mfa/challenge", { namespace: "other", user: "alice" });
    expect([elsewhere.status, elsewhere.json.code]).toEqual([403, "AccessDenied"]);
    const malformed = await send("/v1/mfa/challenge", { namespace: "team" });
    expect([malformed.status, malformed.json]).toEqual([400, { allowed: false, code: "InvalidRequest", message: "user: must be an IAM-style user name" }]);
    expect(calls.length).toBe(before);
    const counted = await metrics.text();
    expect(counted).toMatch(/keygate_verifier_verifications_total\{endpoint="mfa-challenge",scheme="AWS4-HMAC-SHA256",code="SignatureDoesNotMatch"\} 1/);
  });

  it("verifies an assertion, naming the device that made it", async () => {
    answer = { valid: true, deviceName: "yubikey" };
    const answered = await send("/v1/mfa/verify", { namespace: "team", user: "alice", assertion });
    expect([answered.status, answered.json]).toEqual([200, { valid: true, deviceName: "yubikey" }]);
    expect(calls.at(-1)).toBe(`verify team/alice by ${KEY_ID} ${assertion.id}`);
  });

  it("answers a refused assertion with 200, its code and message", async () => {
    answer = { valid: false, code: "ChallengeUsed", message: "this challenge was already answered; ask for a new one" };
    const answered = await send("/v1/mfa/verify", { namespace: "team", user: "alice", assertion });
    expect([answered.status, answered.json]).toEqual([200, answer]);
  });

  it("answers a locked key with 429 and Retry-After", async () => {
    answer = { valid: false, code: "MfaLocked", message: "too many failed attempts: locked until 2030-01-01T00:05:00.000Z", retryAfterSeconds: 300 };
    const answered = await send("/v1/mfa/verify", { namespace: "team", user: "alice", assertion });
    expect([answered.status, answered.headers["retry-after"], answered.json]).toEqual([429, "300", { valid: false, code: "MfaLocked", message: answer.message }]);
  });

  it("refuses a body with both a code and an assertion before any check", async () => {
    const before = calls.length;
    const answered = await send("/v1/mfa/verify", { namespace: "team", user: "alice", code: "123456", assertion });
    expect([answered.status, answered.json.code, answered.json.message]).toEqual([400, "InvalidRequest", expect.stringMatching(/^code\/assertion: give exactly one/)]);
    expect(calls.length).toBe(before);
  });

  /** Every series of the MFA check counter, by its labels as the text shows them. */
  async function mfaChecks(): Promise<Map<string, number>> {
    const lines = [...(await metrics.text()).matchAll(/^keygate_verifier_mfa_checks_total\{(.*)\} (\d+)$/gm)];
    return new Map(lines.map(([, labels, count]) => [labels ?? "", Number(count)]));
  }

  // The checker's answer (a code's or an assertion's), the status sent, and the one series it must add to.
  const checks: Array<[string, { code: MfaAnswer } | { assertion: KeyAnswer }, number, string]> = [
    ["a valid code", { code: { valid: true } }, 200, 'method="code",result="valid"'],
    ["a wrong code", { code: { valid: false, code: "InvalidCode" } }, 200, 'method="code",result="InvalidCode"'],
    ["a locked virtual device", { code: { valid: false, code: "MfaLocked", retryAfterSeconds: 300 } }, 429, 'method="code",result="MfaLocked"'],
    ["a valid assertion", { assertion: { valid: true, deviceName: "yubikey" } }, 200, 'method="assertion",result="valid"'],
    [
      "a key flagged as cloned",
      { assertion: { valid: false, code: "CounterNotIncreased", message: "signature counter 0 is not above 7" } },
      200,
      'method="assertion",result="CounterNotIncreased"',
    ],
    [
      "a locked key",
      { assertion: { valid: false, code: "MfaLocked", message: "too many failed attempts", retryAfterSeconds: 300 } },
      429,
      'method="assertion",result="MfaLocked"',
    ],
  ];
  it.each(checks)("counts %s once, by method and result", async (_name, checked, status, labels) => {
    if ("code" in checked) codeAnswer = checked.code;
    else answer = checked.assertion;
    const before = await mfaChecks();
    const answered = await send("/v1/mfa/verify", { namespace: "team", user: "alice", ...("code" in checked ? { code: "123456" } : { assertion }) });
    expect(answered.status).toBe(status);
    const after = await mfaChecks();
    const changed = [...after].filter(([series, count]) => count !== before.get(series));
    expect(changed).toEqual([[labels, (before.get(labels) ?? Number.NaN) + 1]]);
  });

  it("counts no check for a call refused before any check is made", async () => {
    const before = await mfaChecks();
    await send("/v1/mfa/verify", { namespace: "team", user: "alice", code: "123456" }, { secret: "not-the-secret" });
    await send("/v1/mfa/verify", { namespace: "team", user: "alice", code: "123456" }, { unsigned: true });
    await send("/v1/mfa/verify", { namespace: "other", user: "alice", assertion });
    await send("/v1/mfa/verify", { namespace: "team", user: "alice", code: "12345" });
    await send("/v1/mfa/challenge", { namespace: "team", user: "alice" });
    expect(await mfaChecks()).toEqual(before);
  });

  it("shows every result of each method from the start, at 0, and never whose device was checked", async () => {
    const fresh = new VerifierMetrics({ keyCounts: () => ({ Active: 0, Inactive: 0, Recycled: 0 }), replayCacheSize: () => 0, ready: () => true });
    const text = await fresh.text();
    expect(text).toContain('keygate_verifier_mfa_checks_total{method="assertion",result="CounterNotIncreased"} 0');
    expect(text).toContain('keygate_verifier_mfa_checks_total{method="assertion",result="MfaLocked"} 0');
    expect(text).toContain('keygate_verifier_mfa_checks_total{method="code",result="MfaLocked"} 0');
    expect(text).not.toContain('keygate_verifier_mfa_checks_total{method="code",result="CounterNotIncreased"}');
    const series = [...(await mfaChecks()).keys()];
    expect(series.filter((labels) => !/^method="(code|assertion)",result="[A-Za-z]+"$/.test(labels) || /alice|team|yubikey/.test(labels))).toEqual([]);
  });

  it("takes only POST on the challenge route", async () => {
    const answered = await httpSend(url, { method: "GET", target: "/v1/mfa/challenge", headers: [["Host", "x"]] });
    expect([answered.status, answered.headers.allow]).toEqual([405, "POST"]);
  });
});

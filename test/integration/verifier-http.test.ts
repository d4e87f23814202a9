import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signAcs3 } from "../support/signers/acs3.js";
import { signHuawei } from "../support/signers/huawei.js";
import type { HeaderList, HttpRequestDescription } from "../../src/signing/request.js";
import { signSigV4 } from "../support/signers/sigv4.js";
import { statusFlush } from "../../src/verifier/last-used-patch.js";
import type { RunningVerifier } from "../../src/verifier/verifier.js";
import { apply, getKey, GROUP, manifest, PLURAL, readSecretData, setState, VERSION, waitForReason } from "../support/accesskeys.js";
import { kubectl, useNamespace } from "../support/cluster.js";
import { LogCapture } from "../support/log-capture.js";
import { capturingLogger, startTestOperator, startTestVerifier, type TestOperator } from "../support/operator.js";
import { httpSend, postVerify, targetOf, verifyBody } from "../support/verifier-http.js";
import { waitFor } from "../support/wait.js";

interface IssuedKey {
  readonly id: string;
  readonly secret: string;
}

const API = "api.example.test";
const original: HttpRequestDescription = { method: "GET", rawPath: "/v1/things/a%20b", rawQuery: "limit=2&marker=x", headers: [["Host", API]] };

describe("the verifier against the real API server and operator", () => {
  const ns = useNamespace("vf");
  const elsewhere = useNamespace("vf-other");
  const logs = new LogCapture();
  const secrets: string[] = [];
  let op: TestOperator;
  let verifier: RunningVerifier;

  beforeAll(async () => {
    op = await startTestOperator();
    verifier = await startTestVerifier(op.namespace, { trustLoopback: true, lastUsedFlushMs: 1000, log: capturingLogger(logs) });
  });

  afterAll(async () => {
    await verifier.stop();
    await op.operator.stop();
    // Invariant 1: no secret reaches a log line, and neither does a signature.
    const text = logs.text() + op.logs.text();
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/Signature=[0-9a-f]{64}/);
  });

  async function issue(name: string, spec: Record<string, unknown>, into = ns): Promise<IssuedKey> {
    await apply(into, [manifest(name, spec)]);
    const key = await waitForReason(into, name, "Issued");
    const data = await readSecretData(into, key.status?.secretRef?.name ?? "");
    const pair = { id: data?.accessKeyId ?? "", secret: data?.secretAccessKey ?? "" };
    secrets.push(pair.secret);
    return pair;
  }

  function sigv4(key: IssuedKey, req: HttpRequestDescription = original, presignExpires?: number): HttpRequestDescription {
    return signSigV4(req, { accessKeyId: key.id, secret: key.secret, region: "eu-central-1", service: "things", presignExpires }, new Date());
  }

  function verify(req: HttpRequestDescription, sourceIp?: string, extra: HeaderList = []) {
    return postVerify(verifier.url, verifyBody(req, sourceIp), extra);
  }

  let alpha: IssuedKey;
  let beta: IssuedKey;

  it("is ready, and healthy, once its caches have synced", async () => {
    expect(verifier.isReady()).toBe(true);
    expect((await httpSend(verifier.url, { method: "GET", target: "/readyz", headers: [["Host", "v"]] })).status).toBe(200);
    expect((await httpSend(verifier.url, { method: "GET", target: "/healthz", headers: [["Host", "v"]] })).status).toBe(200);
  });

  it("allows a freshly issued key under every scheme and form, naming the principal", async () => {
    alpha = await issue("alpha", { user: "alice" });
    const signed = [
      ["AWS4-HMAC-SHA256", await waitFor("the key to verify", async () => {
        const request = sigv4(alpha);
        return (await verify(request)).status === 200 ? request : undefined;
      }, 5000)],
      ["AWS4-HMAC-SHA256", sigv4(alpha, original, 300)],
      ["ACS3-HMAC-SHA256", signAcs3(original, { accessKeyId: alpha.id, secret: alpha.secret }, new Date())],
      ["SDK-HMAC-SHA256", signHuawei({ ...original, method: "POST", body: Buffer.from("{}") }, { accessKeyId: alpha.id, secret: alpha.secret }, new Date())],
    ] as const;
    for (const [scheme, request] of signed) {
      const answer = await verify(request);
      expect(answer.status, scheme).toBe(200);
      expect(answer.json).toMatchObject({
        allowed: true,
        scheme,
        principal: { namespace: ns.name, user: "alice", accessKeyId: alpha.id, credentialType: "AccessKey", mfaAuthenticated: false },
      });
    }
  });

  it("refuses an unknown key with InvalidAccessKeyId and a wrong secret with SignatureDoesNotMatch", async () => {
    const unknown = await verify(sigv4({ id: "KGAKAAAAAAAAAAAAAAAA", secret: alpha.secret }));
    expect([unknown.status, unknown.json.code]).toEqual([403, "InvalidAccessKeyId"]);
    const forged = await verify(sigv4({ id: alpha.id, secret: "x".repeat(40) }));
    expect([forged.status, forged.json.code]).toEqual([403, "SignatureDoesNotMatch"]);
  });

  it("applies allowedSourceCIDRs to sourceIp from a trusted caller only, IPv4-mapped addresses included", async () => {
    beta = await issue("beta", { user: "bob", allowedSourceCIDRs: ["10.1.0.0/16", "2001:db8::/32"] });
    const cases: Array<[string | undefined, HeaderList, string]> = [
      ["10.1.2.3", [], "allowed"],
      ["::ffff:10.1.9.9", [], "allowed"],
      ["2001:db8::7", [], "allowed"],
      ["10.2.0.1", [], "AccessDenied"],
      [undefined, [], "AccessDenied"],
      // Behind the trusted proxy 127.0.0.1, the caller is 203.0.113.5: not trusted to assert sourceIp.
      ["10.1.2.3", [["X-Forwarded-For", "203.0.113.5"]], "AccessDenied"],
    ];
    for (const [sourceIp, extra, expected] of cases) {
      const answer = await verify(sigv4(beta), sourceIp, extra);
      expect(answer.json.allowed === true ? "allowed" : answer.json.code, `${sourceIp} ${JSON.stringify(extra)}`).toBe(expected);
    }
  });

  it("passes each gateway's forward-auth call for a genuine request and refuses a tampered one", async () => {
    const signed = sigv4(alpha);
    const gateways: Array<[string, string, HeaderList]> = [
      ["nginx", "/v1/forward-auth/nginx", [["X-Original-Method", "GET"], ["X-Original-URI", targetOf(signed)]]],
      ["ingress-nginx", "/v1/forward-auth/ingress-nginx", [["X-Original-Method", "GET"], ["X-Original-URL", `https://${API}${targetOf(signed)}`]]],
      ["traefik", "/v1/forward-auth/traefik", [["X-Forwarded-Method", "GET"], ["X-Forwarded-Uri", targetOf(signed)], ["X-Forwarded-Host", API]]],
      ["envoy", `/v1/forward-auth/envoy${targetOf(signed)}`, []],
    ];
    for (const [gateway, path, extra] of gateways) {
      const hostless = gateway === "traefik" || gateway === "ingress-nginx";
      const headers: HeaderList = [...signed.headers.filter(([name]) => !hostless || name !== "Host"), ...extra, ["X-Forwarded-For", "198.51.100.7"]];
      if (hostless) headers.unshift(["Host", "keygate-verifier.keygate-system.svc"]);
      const answer = await httpSend(verifier.url, { method: "GET", target: path, headers });
      expect(answer.status, gateway).toBe(200);
      expect(answer.headers).toMatchObject({ "x-keygate-namespace": ns.name, "x-keygate-user": "alice", "x-keygate-access-key-id": alpha.id });
    }
    const tampered = await httpSend(verifier.url, {
      method: "GET",
      target: "/v1/forward-auth/nginx",
      headers: [...signed.headers, ["X-Original-Method", "DELETE"], ["X-Original-URI", targetOf(signed)]],
    });
    expect([tampered.status, tampered.headers["x-keygate-error-code"]]).toEqual([403, "SignatureDoesNotMatch"]);
  });

  it("tells a key's owner to a validly signed request only", async () => {
    const lookup: HttpRequestDescription = {
      method: "GET",
      rawPath: `/v1/access-keys/${beta.id}/owner`,
      rawQuery: "",
      headers: [["Host", new URL(verifier.url).host]],
    };
    const answer = await httpSend(verifier.url, { method: "GET", target: lookup.rawPath, headers: sigv4(alpha, lookup).headers });
    expect(answer.json).toEqual({ accessKeyId: beta.id, namespace: ns.name, user: "bob" });
    const unsigned = await httpSend(verifier.url, { method: "GET", target: lookup.rawPath, headers: lookup.headers });
    expect([unsigned.status, unsigned.json.code]).toEqual([403, "MissingAuthenticationToken"]);
  });

  it("with --owner-lookup-scope=namespace, tells a key's owner only to callers of its namespace", async () => {
    const scoped = await startTestVerifier(op.namespace, { ownerLookupScope: "namespace" });
    try {
      const outsider = await issue("outsider", { user: "eve" }, elsewhere);
      const lookUp = async (caller: IssuedKey, accessKeyId: string) => {
        const lookup: HttpRequestDescription = { method: "GET", rawPath: `/v1/access-keys/${accessKeyId}/owner`, rawQuery: "", headers: [["Host", new URL(scoped.url).host]] };
        const answer = await httpSend(scoped.url, { method: "GET", target: lookup.rawPath, headers: sigv4(caller, lookup).headers });
        return { status: answer.status, json: answer.json };
      };
      await waitFor("the outsider's key to verify", async () => ((await verify(sigv4(outsider))).status === 200 ? true : undefined), 5000);
      expect(await lookUp(alpha, beta.id)).toEqual({ status: 200, json: { accessKeyId: beta.id, namespace: ns.name, user: "bob" } });
      const refused = await lookUp(outsider, beta.id);
      expect(refused).toEqual(await lookUp(outsider, "KGAKNOPENOPENOPENOPE"));
      expect([refused.status, refused.json.code]).toEqual([404, "NoSuchEntity"]);
      expect((await lookUp(outsider, outsider.id)).json).toEqual({ accessKeyId: outsider.id, namespace: elsewhere.name, user: "eve" });
    } finally {
      await scoped.stop();
    }
  });

  it("writes the last use to the AccessKey's status, with the SigV4 scope and the normalised source address", async () => {
    const gamma = await issue("gamma", { user: "carol" });
    const created = (await getKey(ns, "gamma"))?.status?.createdAt ?? "";
    await waitFor("gamma to verify", async () => ((await verify(sigv4(gamma), "::ffff:192.0.2.33")).status === 200 ? true : undefined), 5000);
    const lastUsed = await waitFor("lastUsed to be written", async () => {
      const used = (await getKey(ns, "gamma"))?.status?.lastUsed;
      return used && used.time !== created ? used : undefined;
    }, 10_000);
    expect(lastUsed).toMatchObject({ service: "things", region: "eu-central-1", sourceIP: "192.0.2.33" });
    expect(Date.parse(lastUsed.time)).toBeGreaterThan(Date.parse(created));
    // A different AccessKey under the same name (deleted and recreated) refuses the write.
    const flush = statusFlush(ns.custom, { lastUsedMs: () => undefined });
    expect(await flush({ namespace: ns.name, name: "gamma", uid: "another-uid" }, { time: new Date().toISOString() })).toBe("gone");
    expect((await getKey(ns, "gamma"))?.status?.lastUsed).toEqual(lastUsed);
  });

  it("refuses a deactivated key within 1 s of the change, and allows it again once reactivated", async () => {
    const patched = Date.now();
    await ns.custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace: ns.name, plural: PLURAL, name: "alpha", body: { spec: { state: "Inactive" } } },
      k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch),
    );
    const refused = await waitFor("alpha to be refused", async () => {
      const answer = await verify(sigv4(alpha));
      return answer.status === 200 ? undefined : answer;
    }, 5000);
    const elapsed = Date.now() - patched;
    expect(elapsed).toBeLessThan(1000);
    expect(refused.json.code).toBe("InvalidClientTokenId");
    await setState(ns, "alpha", "Active");
    await waitFor("alpha to verify again", async () => ((await verify(sigv4(alpha))).status === 200 ? true : undefined), 10_000);
  });

  it("refuses a deleted key with InvalidAccessKeyId once it is in the recycle bin", async () => {
    await setState(ns, "beta", "Inactive");
    await waitForReason(ns, "beta", "Inactive");
    await kubectl(["delete", "accesskey", "beta", "-n", ns.name, "--timeout=60s"]);
    const answer = await verify(sigv4(beta), "10.1.2.3");
    expect([answer.status, answer.json.code]).toEqual([403, "InvalidAccessKeyId"]);
  });

  it("counts verifications by scheme and code in /metrics", async () => {
    // The recycled record reaches the index through its own watch, possibly just after the
    // AccessKey's deletion that already made the key unusable.
    const text = await waitFor("the recycled record in the index gauge", async () => {
      const scraped = (await httpSend(verifier.url, { method: "GET", target: "/metrics", headers: [["Host", "v"]] })).text;
      return /keygate_verifier_index_keys\{state="Recycled"\} 1/.test(scraped) ? scraped : undefined;
    }, 10_000);
    const count = (labels: string): number => Number(new RegExp(`keygate_verifier_verifications_total\\{${labels}\\} (\\d+)`).exec(text)?.[1] ?? 0);
    expect(count('endpoint="verify",scheme="ACS3-HMAC-SHA256",code="Allowed"')).toBe(1);
    expect(count('endpoint="verify",scheme="SDK-HMAC-SHA256",code="Allowed"')).toBe(1);
    expect(count('endpoint="verify",scheme="AWS4-HMAC-SHA256",code="InvalidAccessKeyId"')).toBeGreaterThanOrEqual(2);
    expect(count('endpoint="forward-auth",scheme="AWS4-HMAC-SHA256",code="Allowed"')).toBe(4);
    expect(count('endpoint="owner",scheme="AWS4-HMAC-SHA256",code="Allowed"')).toBe(1);
    expect(text).toMatch(/keygate_verifier_index_keys\{state="Active"\} [1-9]/);
    expect(text).toMatch(/keygate_verifier_index_keys\{state="Recycled"\} 1/);
    expect(text).toMatch(/keygate_verifier_replay_cache_entries 1/);
    expect(text).toMatch(/keygate_verifier_verification_duration_seconds_count\{endpoint="verify"\} \d+/);
  });
});

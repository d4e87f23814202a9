import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ACCOUNT_POLICY_KIND, ACCOUNT_POLICY_NAME } from "../../src/api/accountpolicy.js";
import { sha256Hex } from "../../src/signing/digest.js";
import type { HeaderList, HttpRequestDescription } from "../../src/signing/request.js";
import type { RunningVerifier } from "../../src/verifier/verifier.js";
import { apply, GROUP, manifest, readSecretData, VERSION, waitForReason } from "../support/accesskeys.js";
import { kubectl, useNamespace } from "../support/cluster.js";
import { type EchoBackend, startEchoBackend, valuesOf } from "../support/gateways/backend.js";
import { startCaddy } from "../support/gateways/caddy.js";
import { findNginx, startNginx } from "../support/gateways/nginx.js";
import type { RunningGateway } from "../support/gateways/process.js";
import { LogCapture } from "../support/log-capture.js";
import { capturingLogger, startTestOperator, startTestVerifier, type TestOperator } from "../support/operator.js";
import { signAcs3 } from "../support/signers/acs3.js";
import { signHuawei } from "../support/signers/huawei.js";
import { startRedis, type RunningRedis } from "../support/redis.js";
import { signSigV4 } from "../support/signers/sigv4.js";
import { type HttpAnswer, httpSend, postVerify, verifyBody } from "../support/verifier-http.js";
import { waitFor } from "../support/wait.js";

// Real gateways configured from docs/gateways.md, in front of a real verifier and an echo
// service: what a client can send through each, not what a test imagines the gateway sends.
const API = "api.example.test";
const ANSWER_HEADERS = ["X-Keygate-Namespace", "X-Keygate-User", "X-Keygate-Access-Key-Id", "X-Keygate-Credential-Type", "X-Keygate-Payload-Verified"];
// Every header some gateway sets on its authorization call, as a client would forge them.
const FORGED_GATEWAY_HEADERS = (target: string, method: string): HeaderList => [
  ["X-Original-URL", `https://${API}${target}`],
  ["X-Original-URI", target],
  ["X-Original-Method", method],
  ["X-Forwarded-Uri", target],
  ["X-Forwarded-Method", method],
  ["X-Forwarded-Host", API],
];

// The only address the account allows, which the client (on loopback) claims to be at.
const CLAIMED_SOURCE = "203.0.113.7";
// Every way a client could claim an address to a gateway; the loopback hop after it is one the verifier trusts.
const CLAIMED_SOURCE_HEADERS: Array<[string, HeaderList]> = [
  ["X-Forwarded-For", [["X-Forwarded-For", CLAIMED_SOURCE]]],
  ["X-Forwarded-For with a trusted hop after it", [["X-Forwarded-For", `198.51.100.1, ${CLAIMED_SOURCE}, 127.0.0.1`]]],
  ["X-Forwarded-For twice", [["X-Forwarded-For", CLAIMED_SOURCE], ["X-Forwarded-For", CLAIMED_SOURCE]]],
  ["X-Real-IP", [["X-Real-IP", CLAIMED_SOURCE]]],
  ["Forwarded", [["Forwarded", `for=${CLAIMED_SOURCE}`]]],
];
CLAIMED_SOURCE_HEADERS.push(["all of them", CLAIMED_SOURCE_HEADERS.flatMap(([, headers]) => headers)]);

function accountPolicy(allowedSourceCIDRs: string[]): Record<string, unknown> {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: ACCOUNT_POLICY_KIND, metadata: { name: ACCOUNT_POLICY_NAME }, spec: { allowedSourceCIDRs } };
}

interface IssuedKey {
  readonly id: string;
  readonly secret: string;
}

interface GatewayUnderTest {
  readonly name: string;
  /** Why it cannot run here; only ever set where the test may skip (never in CI, which runs as root). */
  readonly unavailable: string | undefined;
  /** The gateway tells the verifier the client's Content-Length, so a client may sign it. */
  readonly passesLength: boolean;
  /** The gateway answers a refused client with the verifier's own answer, its code included. */
  readonly passesRefusal: boolean;
  start(targets: { verifierPort: number; backendPort: number }): Promise<RunningGateway>;
}

const nginx = findNginx();
const GATEWAYS: GatewayUnderTest[] = [
  {
    name: "nginx",
    unavailable: "missing" in nginx ? nginx.missing : undefined,
    passesLength: true,
    passesRefusal: false,
    start: (targets) => startNginx("binary" in nginx ? nginx.binary : "nginx", targets),
  },
  // Built from the Go module proxy on first use and cached, like Helm.
  { name: "caddy", unavailable: undefined, passesLength: false, passesRefusal: true, start: startCaddy },
];

// CI runs as root and installs every gateway: there, one that is missing fails the run instead of skipping.
const mayskip = process.getuid?.() !== 0;
for (const gateway of GATEWAYS) {
  if (gateway.unavailable !== undefined && mayskip) console.warn(`gateways.test.ts: skipping ${gateway.name}: ${gateway.unavailable}`);
}

function get(target: string): HttpRequestDescription {
  const [rawPath = "", rawQuery = ""] = target.split("?");
  return { method: "GET", rawPath, rawQuery, headers: [["Host", API]] };
}

function send(gateway: RunningGateway, req: HttpRequestDescription, overrides: { target?: string; method?: string; extra?: HeaderList; body?: Buffer } = {}): Promise<HttpAnswer> {
  const target = overrides.target ?? (req.rawQuery === "" ? req.rawPath : `${req.rawPath}?${req.rawQuery}`);
  return httpSend(gateway.url, { method: overrides.method ?? req.method, target, headers: [...req.headers, ...(overrides.extra ?? [])], body: overrides.body ?? req.body });
}

describe("real gateways configured from docs/gateways.md", () => {
  const ns = useNamespace("gw");
  let op: TestOperator;
  // Two replicas of the verifier sharing one real Redis, as the chart runs them; each gateway
  // instance below talks to one of them, so a request can be replayed to the other.
  let redis: RunningRedis;
  let verifier: RunningVerifier;
  let replica: RunningVerifier;
  let backend: EchoBackend;
  let key: IssuedKey;
  const logs = new LogCapture();

  beforeAll(async () => {
    op = await startTestOperator();
    redis = await startRedis();
    const replayStore = { kind: "redis", url: redis.url, keyPrefix: `gw-${process.pid}` } as const;
    verifier = await startTestVerifier(op.namespace, { trustLoopback: true, log: capturingLogger(logs), replayStore });
    replica = await startTestVerifier(op.namespace, { trustLoopback: true, log: capturingLogger(logs), replayStore });
    backend = await startEchoBackend();
    await apply(ns, [manifest("gw", { user: "alice" })]);
    const issued = await waitForReason(ns, "gw", "Issued");
    const data = await readSecretData(ns, issued.status?.secretRef?.name ?? "");
    key = { id: data?.accessKeyId ?? "", secret: data?.secretAccessKey ?? "" };
    for (const each of [verifier, replica]) {
      const verifies = async (): Promise<true | undefined> => ((await postVerify(each.url, verifyBody(sigv4(get("/"))))).status === 200 ? true : undefined);
      await waitFor("the key to verify on both replicas", verifies, 10_000);
    }
  });

  afterAll(async () => {
    await backend?.stop();
    await verifier?.stop();
    await replica?.stop();
    await redis?.stop();
    await op?.operator.stop();
    // Whatever a client sent through a gateway, the verifier logged nothing at warn or above, and no secret.
    const lines = logs.text().split("\n").filter((line) => line !== "");
    expect(lines.filter((line) => (JSON.parse(line) as { level: number }).level >= 40)).toEqual([]);
    expect(logs.text()).not.toContain(key.secret);
  });

  function sigv4(req: HttpRequestDescription): HttpRequestDescription {
    return signSigV4(req, { accessKeyId: key.id, secret: key.secret, region: "eu-central-1", service: "things" }, new Date());
  }

  /** Runs the request and tells whether it reached the service; a refusal must be a 4xx the gateway gives. */
  async function through(gateway: RunningGateway, send: () => Promise<HttpAnswer>): Promise<{ answer: HttpAnswer; reached: boolean }> {
    const before = backend.received.length;
    const answer = await send();
    return { answer, reached: backend.received.length > before };
  }

  async function expectRefused(gateway: RunningGateway, attempt: () => Promise<HttpAnswer>, label: string): Promise<void> {
    const { answer, reached } = await through(gateway, attempt);
    expect(reached, label).toBe(false);
    expect([401, 403], `${label}: ${answer.status} ${answer.text.slice(0, 200)}`).toContain(answer.status);
  }

  /** The code of each refusal the verifiers logged after the given line. */
  function refusalCodesAfter(line: number): string[] {
    const entries = logs.lines.slice(line).map((text) => JSON.parse(text) as { msg?: string; code?: string });
    return entries.filter((entry) => entry.msg === "verification refused").map((entry) => entry.code ?? "");
  }

  /** Waits until a genuine request through the gateway gets the given status, reaching the service only when allowed. */
  function awaitVerdict(gateway: RunningGateway, what: string, status: 200 | 403): Promise<true> {
    return waitFor(what, async () => {
      const { answer, reached } = await through(gateway, () => send(gateway, sigv4(get("/v1/things"))));
      return answer.status === status && reached === (status === 200) ? true : undefined;
    }, 10_000);
  }

  describe.each(GATEWAYS)("$name", (candidate) => {
    let gateway: RunningGateway;
    /** The same gateway configuration in front of the second replica. */
    let second: RunningGateway;

    const skipped = candidate.unavailable !== undefined && mayskip;

    beforeAll(async () => {
      if (skipped) return;
      if (candidate.unavailable !== undefined) throw new Error(candidate.unavailable);
      gateway = await candidate.start({ verifierPort: Number(new URL(verifier.url).port), backendPort: backend.port });
      second = await candidate.start({ verifierPort: Number(new URL(replica.url).port), backendPort: backend.port });
      // A first build of a gateway from its Go module takes minutes on a small machine; later runs use the cache.
    }, 600_000);

    afterAll(async () => {
      await gateway?.stop();
      await second?.stop();
    });

    const live = it.skipIf(skipped);

    /** A genuine request is refused as from outside the allowed networks, for the reason and with the code the verifier gives. */
    async function expectOutsideNetworks(each: RunningGateway, extra: HeaderList, label: string): Promise<void> {
      const logged = logs.lines.length;
      const { answer, reached } = await through(each, () => send(each, sigv4(get("/v1/things")), { extra }));
      expect([answer.status, reached], `${label}: ${answer.text.slice(0, 200)}`).toEqual([403, false]);
      expect(refusalCodesAfter(logged), label).toEqual(["AccessDenied"]);
      if (candidate.passesRefusal) expect([answer.headers["x-keygate-error-code"], answer.json.code], label).toEqual(["AccessDenied", "AccessDenied"]);
    }

    live("passes a genuine request to the service with the principal, replacing any X-Keygate-* the client sent", async () => {
      const forged: HeaderList = ANSWER_HEADERS.map((name) => [name, "mallory"]);
      for (const extra of [[], forged]) {
        const { answer, reached } = await through(gateway, () => send(gateway, sigv4(get("/v1/things?limit=2")), { extra }));
        expect([answer.status, reached]).toEqual([200, true]);
        const seen = backend.received.at(-1)?.headers ?? [];
        expect(valuesOf(seen, "X-Keygate-Namespace")).toEqual([ns.name]);
        expect(valuesOf(seen, "X-Keygate-User")).toEqual(["alice"]);
        expect(valuesOf(seen, "X-Keygate-Access-Key-Id")).toEqual([key.id]);
        expect(valuesOf(seen, "X-Keygate-Credential-Type")).toEqual(["AccessKey"]);
        expect(valuesOf(seen, "X-Keygate-Payload-Verified")).toEqual(["false"]);
      }
    });

    live("keeps a genuine request's verdict whatever gateway headers the client adds", async () => {
      const { answer } = await through(gateway, () => send(gateway, sigv4(get("/v1/things")), { extra: FORGED_GATEWAY_HEADERS("/admin/delete-all", "DELETE") }));
      expect(answer.status).toBe(200);
      expect(backend.received.at(-1)?.target).toBe("/v1/things");
    });

    live("refuses a captured request replayed to another path or method with any gateway header naming the signed one", async () => {
      const captured = sigv4(get("/public/readme"));
      const forgeries: Array<[string, HeaderList]> = FORGED_GATEWAY_HEADERS("/public/readme", "GET").map((header) => [header[0], [header]]);
      forgeries.push(["all of them", FORGED_GATEWAY_HEADERS("/public/readme", "GET")]);
      for (const [label, extra] of forgeries) {
        await expectRefused(gateway, () => send(gateway, captured, { target: "/admin/delete-all", extra }), `other path, ${label}`);
        await expectRefused(gateway, () => send(gateway, captured, { method: "DELETE", extra }), `other method, ${label}`);
      }
    });

    live("refuses a swapped body, whatever length or partial-body mark the client claims", async () => {
      const signed = Buffer.from('{"user":"alice"}');
      const swapped = Buffer.from('{"user":"mallory","admin":true}');
      const found3: HeaderList = [["X-Envoy-Auth-Partial-Body", "true"], ["X-Original-Content-Length", String(signed.length)]];
      // Signed over its body without declaring the hash: only a verifier that hashes the body could allow it.
      const undeclared = sigv4({ ...get("/v1/things"), method: "POST", body: signed, headers: [["Host", API], ["Content-Length", String(signed.length)]] });
      await expectRefused(gateway, () => send(gateway, undeclared, { body: swapped, extra: found3 }), "undeclared hash, swapped body");
      // A declared hash covers the length the client signed; a body of another length is not that request.
      const declared = sigv4({ ...get("/v1/things"), method: "POST", body: signed, headers: [["Host", API], ["Content-Length", String(signed.length)], ["X-Amz-Content-Sha256", sha256Hex(signed)]] });
      const longer = [...declared.headers.filter(([name]) => name !== "Content-Length"), ["Content-Length", String(swapped.length)]] satisfies HeaderList;
      await expectRefused(gateway, () => send(gateway, { ...declared, headers: longer }, { body: swapped, extra: found3 }), "declared hash, longer body");
    });

    live("treats a body it does not forward as docs/gateways.md says: a declared hash, not verified", async () => {
      const body = Buffer.from('{"user":"alice"}');
      const declared = sigv4({ ...get("/v1/things"), method: "POST", body, headers: [["Host", API], ["Content-Length", String(body.length)], ["X-Amz-Content-Sha256", sha256Hex(body)]] });
      const found3: HeaderList = [["X-Envoy-Auth-Partial-Body", "true"], ["X-Original-Content-Length", "0"]];
      for (const extra of [[], found3]) {
        const { answer, reached } = await through(gateway, () => send(gateway, declared, { extra }));
        // Without the length from the gateway, a signed Content-Length cannot match the call's.
        expect([answer.status, reached]).toEqual(candidate.passesLength ? [200, true] : [403, false]);
      }
      if (candidate.passesLength) expect(valuesOf(backend.received.at(-1)?.headers ?? [], "X-Keygate-Payload-Verified")).toEqual(["false"]);
    });

    live("refuses an ACS3 request the second time it is sent", async () => {
      const signed = signAcs3(get("/v1/things"), { accessKeyId: key.id, secret: key.secret }, new Date());
      const { answer } = await through(gateway, () => send(gateway, signed));
      expect(answer.status).toBe(200);
      await expectRefused(gateway, () => send(gateway, signed), "replayed ACS3 nonce");
    });

    live("refuses, through the gateway of the other replica, an ACS3 request one replica allowed, and its captured copy under forged headers", async () => {
      const signed = signAcs3(get("/v1/things"), { accessKeyId: key.id, secret: key.secret }, new Date());
      const { answer } = await through(gateway, () => send(gateway, signed));
      expect(answer.status).toBe(200);
      await expectRefused(second, () => send(second, signed), "replayed ACS3 nonce on the other replica");
      await expectRefused(second, () => send(second, signed, { target: "/admin/delete-all", extra: FORGED_GATEWAY_HEADERS("/v1/things", "GET") }), "captured copy, other path, forged headers");
    });

    live("serves a request in absolute form only for the Host the client signed, never with a 5xx", async () => {
      const signed = sigv4(get("/v1/things"));
      const same = await through(gateway, () => send(gateway, signed, { target: `http://${API}/v1/things` }));
      expect([same.answer.status, same.reached]).toEqual([200, true]);
      // The same check must let through a Host with its port, which the request line's host never has.
      const withPort = sigv4({ ...get("/v1/things"), headers: [["Host", `${API}:8443`]] });
      const ported = await through(gateway, () => send(gateway, withPort));
      expect([ported.answer.status, ported.reached]).toEqual([200, true]);
      // A gateway that routes by the request line would serve another host a request signed for this one.
      const other = await through(gateway, () => send(gateway, signed, { target: "http://other.example.test/v1/things" }));
      expect(other.reached).toBe(false);
      expect(other.answer.status).toBeLessThan(500);
    });

    live("refuses more headers than the verifier reads with a 4xx, never a 5xx", async () => {
      const extra: HeaderList = Array.from({ length: 300 }, (_, index) => [`X-Pad-${index}`, "x"]);
      const { answer, reached } = await through(gateway, () => send(gateway, sigv4(get("/v1/things")), { extra }));
      // NGINX can only say 401 or 403 (anything else from the verifier is its own 500); Caddy passes on the verifier's 431.
      expect([answer.status, reached]).toEqual([candidate.name === "nginx" ? 403 : 431, false]);
    });

    live("refuses a request from outside the account's allowedSourceCIDRs on both replicas, whatever address the client claims", async () => {
      const replicas: Array<[string, RunningGateway]> = [["first replica", gateway], ["second replica", second]];
      try {
        await apply(ns, [accountPolicy([`${CLAIMED_SOURCE}/32`])]);
        for (const [name, each] of replicas) await awaitVerdict(each, `the ${name} to apply the account's allowedSourceCIDRs`, 403);
        for (const [name, each] of replicas) {
          for (const [label, extra] of CLAIMED_SOURCE_HEADERS) await expectOutsideNetworks(each, extra, `${name}, ${label}`);
        }
      } finally {
        await kubectl(["delete", "accountpolicy", ACCOUNT_POLICY_NAME, "-n", ns.name, "--ignore-not-found", "--wait=true"]);
        for (const [name, each] of replicas) await awaitVerdict(each, `the ${name} to allow every address again`, 200);
      }
    });

    live("answers a Huawei request with a non-UTF-8 escape in its query with a 4xx, never a 5xx", async () => {
      const signed = signHuawei(get("/v1/things?a=b"), { accessKeyId: key.id, secret: key.secret }, new Date());
      for (const query of ["a=%FF", "a=%C3", "%ED%A0%80=b"]) {
        await expectRefused(gateway, () => send(gateway, signed, { target: `/v1/things?${query}` }), query);
      }
    });
  });
});

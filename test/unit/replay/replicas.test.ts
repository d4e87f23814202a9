import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisReplayStore } from "../../../src/replay/redis.js";
import { DEFAULT_MEMORY_LIMITS } from "../../../src/replay/memory.js";
import type { ReplayStore } from "../../../src/replay/store.js";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { parseNetworks } from "../../../src/verifier/ip.js";
import { VerifierMetrics } from "../../../src/verifier/metrics.js";
import { NO_SECURITY_KEYS } from "../verifier/server-deps.js";
import { createVerifierServer } from "../../../src/verifier/server.js";
import { Verification } from "../../../src/verifier/verification.js";
import { startRedis, type RunningRedis } from "../../support/redis.js";
import { signAcs3 } from "../../support/signers/acs3.js";
import { signHuawei } from "../../support/signers/huawei.js";
import { signSigV4 } from "../../support/signers/sigv4.js";
import { type HttpAnswer, postVerify, verifyBody } from "../../support/verifier-http.js";
import { FakeKeys, KEY_ID, SECRET } from "../verifier/fake-keys.js";
import { waitFor } from "../../support/wait.js";

const BASE: HttpRequestDescription = {
  method: "POST",
  rawPath: "/orders",
  rawQuery: "",
  headers: [["Host", "api.example.test"], ["Content-Type", "application/json"], ["x-acs-action", "CreateOrder"]],
  body: Buffer.from('{"item":"book"}'),
};

interface Replica {
  readonly url: string;
  readonly store: ReplayStore;
  readonly server: Server;
  readonly metrics: VerifierMetrics;
}

function networks(...entries: string[]) {
  const parsed = parseNetworks(entries);
  if (!parsed.ok) throw new Error(parsed.entry);
  return parsed.networks;
}

/** One verifier replica as startVerifier wires it, on a fixed key table, with its own connection to the shared store. */
async function startReplica(store: ReplayStore): Promise<Replica> {
  const keys = new FakeKeys();
  const metrics = new VerifierMetrics({ keyCounts: () => ({ Active: 1, Inactive: 0, Recycled: 0 }), replayCacheSize: () => store.size(), ready: () => true });
  const server = createVerifierServer({
    verification: new Verification(keys, metrics.counted(store), () => new Date()),
    owners: keys,
    securityKeys: NO_SECURITY_KEYS,
    mfa: { verify: () => Promise.resolve({ valid: false, code: "MfaDeviceNotFound" }) },
    ready: () => true,
    metrics,
    lastUsed: { record: () => undefined },
    trustedProxies: networks("127.0.0.1"),
    trustedCallers: networks("127.0.0.1"),
    maxBodyBytes: 1024 * 1024,
    now: () => new Date(),
    log: pino({ level: "silent" }),
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, store, server, metrics };
}

async function stopReplica(replica: Replica): Promise<void> {
  replica.server.closeAllConnections();
  await new Promise((resolve) => replica.server.close(resolve));
  await replica.store.close();
}

function acs3(nonce?: string): HttpRequestDescription {
  return signAcs3(BASE, { accessKeyId: KEY_ID, secret: SECRET, nonce }, new Date());
}

function send(replica: Replica, request: HttpRequestDescription): Promise<HttpAnswer> {
  return postVerify(replica.url, verifyBody(request));
}

function verdicts(answers: readonly HttpAnswer[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const answer of answers) {
    const key = answer.json.allowed === true ? "allowed" : String(answer.json.code);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe("two verifier replicas sharing a real Redis", () => {
  let redis: RunningRedis;
  let replicas: Replica[] = [];

  beforeAll(async () => {
    redis = await startRedis();
    const store = () => new RedisReplayStore({ url: redis.url, keyPrefix: `test-${redis.port}`, quotas: DEFAULT_MEMORY_LIMITS, log: pino({ level: "silent" }) });
    replicas = [await startReplica(store()), await startReplica(store())];
    for (const replica of replicas) await waitFor("a replica reaching Redis", async () => ((await send(replica, acs3())).status === 200 ? true : undefined), 10_000);
  });

  afterAll(async () => {
    await Promise.all(replicas.map(stopReplica));
    await redis?.stop();
  });

  it("a request replayed to the other replica is refused: exactly one of the two is allowed", async () => {
    const [first, second] = replicas as [Replica, Replica];
    const request = acs3();
    const answers = [await send(first, request), await send(second, request)];
    expect(answers.map((answer) => answer.status)).toEqual([200, 400]);
    expect(answers[1]?.json).toMatchObject({ allowed: false, code: "SignatureNonceUsed" });
  });

  it("50 concurrent copies of one request spread over both replicas: exactly one is allowed", async () => {
    const request = acs3();
    const answers = await Promise.all(Array.from({ length: 50 }, (_, i) => send(replicas[i % 2] as Replica, request)));
    expect(verdicts(answers)).toEqual({ allowed: 1, SignatureNonceUsed: 49 });
  });

  it("counts each verdict by store", async () => {
    const text = await (replicas[0] as Replica).metrics.text();
    expect(text).toMatch(/keygate_verifier_replay_claims_total\{store="redis",verdict="fresh"\} [1-9]/);
    expect(text).toContain('keygate_verifier_replay_store_up{store="redis"} 1');
  });

  it("with Redis down, ACS3 is refused at once with a code naming the replay store, while SigV4 and Huawei are allowed", async () => {
    const [first, second] = replicas as [Replica, Replica];
    await redis.stop();
    const sigv4 = signSigV4(BASE, { accessKeyId: KEY_ID, secret: SECRET, region: "eu-west-1", service: "orders" }, new Date());
    const huawei = signHuawei(BASE, { accessKeyId: KEY_ID, secret: SECRET }, new Date());
    for (const replica of [first, second]) {
      const started = Date.now();
      const refused = await send(replica, acs3());
      expect(Date.now() - started).toBeLessThan(2000);
      expect(refused.status).toBe(503);
      expect(refused.json).toMatchObject({ allowed: false, code: "ServiceUnavailable" });
      expect(String(refused.json.message)).toMatch(/replay store/);
      expect((await send(replica, sigv4)).json).toMatchObject({ allowed: true, scheme: "AWS4-HMAC-SHA256" });
      expect((await send(replica, huawei)).json).toMatchObject({ allowed: true, scheme: "SDK-HMAC-SHA256" });
    }
    const text = await first.metrics.text();
    expect(text).toMatch(/keygate_verifier_replay_claims_total\{store="redis",verdict="unavailable"\} [1-9]/);
    expect(text).toContain('keygate_verifier_replay_store_up{store="redis"} 0');
  });

  it("once Redis is back, ACS3 is allowed again, once", async () => {
    await redis.start();
    const [first, second] = replicas as [Replica, Replica];
    for (const replica of [first, second]) {
      await waitFor("a replica reconnecting to Redis", async () => ((await send(replica, acs3())).status === 200 ? true : undefined), 15_000);
    }
    const request = acs3();
    expect(verdicts([await send(second, request), await send(first, request)])).toEqual({ allowed: 1, SignatureNonceUsed: 1 });
  });
});

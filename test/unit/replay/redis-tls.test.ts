import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../../src/controlplane/ports.js";
import { createCertificateAuthority, issueCertificate } from "../../../src/pki/pki.js";
import { RedisReplayStore } from "../../../src/replay/redis.js";
import { DEFAULT_MEMORY_LIMITS } from "../../../src/replay/memory.js";
import type { ReplayClaim } from "../../../src/replay/store.js";
import { startRedis, type RunningRedis } from "../../support/redis.js";
import { waitFor } from "../../support/wait.js";

const CLAIM: ReplayClaim = { id: "acs3-nonce:KGAKTEST:tls-1", ttlMs: 60_000, owner: { namespace: "team", accessKeyId: "KGAKTEST" } };
const silent = pino({ level: "silent" });

describe("the Redis replay store over TLS (rediss://)", () => {
  let redis: RunningRedis;
  let tlsPort = 0;
  let caPem = "";
  const stores: RedisReplayStore[] = [];

  beforeAll(async () => {
    const dir = await mkdtemp(join(tmpdir(), "keygate-redis-tls-"));
    const ca = await createCertificateAuthority("replay-store-test-ca", 1);
    const server = await issueCertificate(ca, { commonName: "127.0.0.1", ipAddresses: ["127.0.0.1"], usage: "server", validityDays: 1 });
    caPem = ca.certPem;
    await writeFile(join(dir, "ca.crt"), ca.certPem);
    await writeFile(join(dir, "tls.crt"), server.certPem);
    await writeFile(join(dir, "tls.key"), server.keyPem);
    tlsPort = await freePort();
    // TLS only: the plain port is switched off.
    redis = await startRedis([
      "--port", "0", "--tls-port", String(tlsPort), "--tls-auth-clients", "no",
      "--tls-cert-file", join(dir, "tls.crt"), "--tls-key-file", join(dir, "tls.key"), "--tls-ca-cert-file", join(dir, "ca.crt"),
    ]);
  });

  afterAll(async () => {
    await Promise.all(stores.map((store) => store.close()));
    await redis?.stop();
  });

  function store(tlsCa?: string): RedisReplayStore {
    const created = new RedisReplayStore({ url: `rediss://127.0.0.1:${tlsPort}`, tlsCa: tlsCa === undefined ? undefined : Buffer.from(tlsCa), keyPrefix: "tls", quotas: DEFAULT_MEMORY_LIMITS, log: silent });
    stores.push(created);
    return created;
  }

  it("claims through TLS with the server's CA", async () => {
    const trusting = store(caPem);
    await waitFor("the TLS connection", () => Promise.resolve(trusting.isUp() ? true : undefined), 5000);
    expect(await trusting.claim(CLAIM)).toBe("fresh");
    expect(await trusting.claim(CLAIM)).toBe("replayed");
  });

  it("does not trust a server certificate the system CAs do not sign: unavailable", async () => {
    const untrusting = store();
    // Long enough for a handshake that would succeed (the test above connects in milliseconds).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(untrusting.isUp()).toBe(false);
    expect(await untrusting.claim({ ...CLAIM, id: "acs3-nonce:KGAKTEST:tls-2" })).toBe("unavailable");
  });
});

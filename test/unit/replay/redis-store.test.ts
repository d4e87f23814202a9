import { Redis } from "ioredis";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisReplayStore } from "../../../src/replay/redis.js";
import { DEFAULT_MEMORY_LIMITS } from "../../../src/replay/memory.js";
import type { ReplayClaim } from "../../../src/replay/store.js";
import { startRedis, type RunningRedis } from "../../support/redis.js";
import { waitFor } from "../../support/wait.js";

const PASSWORD = "replay-store-test-password";
const CLAIM: ReplayClaim = { id: "acs3-nonce:KGAKTEST:n-1", ttlMs: 60_000, owner: { namespace: "team", accessKeyId: "KGAKTEST" } };
const silent = pino({ level: "silent" });

describe("the Redis replay store against a Redis that requires a password", () => {
  let redis: RunningRedis;
  const stores: RedisReplayStore[] = [];

  function store(password?: string): RedisReplayStore {
    const created = new RedisReplayStore({ url: redis.url, password, keyPrefix: "install-a", quotas: DEFAULT_MEMORY_LIMITS, log: silent });
    stores.push(created);
    return created;
  }

  beforeAll(async () => {
    redis = await startRedis(["--requirepass", PASSWORD]);
  });

  afterAll(async () => {
    await Promise.all(stores.map((created) => created.close()));
    await redis?.stop();
  });

  it("claims with the password: fresh once, then replayed, under the key prefix with its lifetime", async () => {
    const authenticated = store(PASSWORD);
    await waitFor("the store connecting", () => Promise.resolve(authenticated.isUp() ? true : undefined), 5000);
    expect(await authenticated.claim(CLAIM)).toBe("fresh");
    expect(await authenticated.claim(CLAIM)).toBe("replayed");
    const inspector = new Redis(redis.port, "127.0.0.1", { password: PASSWORD });
    try {
      const keys = (await inspector.keys("*")).sort();
      expect(keys.map((key) => key.replace(/:\d+$/, ":<window>"))).toEqual([
        "install-a:acs3-nonce:KGAKTEST:n-1",
        "install-a:quota:key:KGAKTEST:<window>",
        "install-a:quota:namespace:team:<window>",
      ]);
      expect(await inspector.pttl("install-a:acs3-nonce:KGAKTEST:n-1")).toBeGreaterThan(55_000);
      // The quota counters go with their windows: nothing is kept for ever.
      for (const key of keys) expect(await inspector.pttl(key)).toBeGreaterThan(0);
    } finally {
      inspector.disconnect();
    }
  });

  it("answers unavailable, at once, without the password", async () => {
    const anonymous = store();
    const started = Date.now();
    expect(await anonymous.claim({ ...CLAIM, id: "acs3-nonce:KGAKTEST:n-2" })).toBe("unavailable");
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("refuses a key over its quota (full), and not another key; a namespace over its quota, and not another namespace", async () => {
    const quoted = new RedisReplayStore({ url: redis.url, password: PASSWORD, keyPrefix: "quotas", quotas: { perKey: 2, perNamespace: 3 }, log: silent });
    stores.push(quoted);
    await waitFor("the store connecting", () => Promise.resolve(quoted.isUp() ? true : undefined), 5000);
    const claim = (id: string, namespace: string, accessKeyId: string): ReplayClaim => ({ id, ttlMs: 60_000, owner: { namespace, accessKeyId } });
    expect(await quoted.claim(claim("a", "noisy", "K1"))).toBe("fresh");
    expect(await quoted.claim(claim("b", "noisy", "K1"))).toBe("fresh");
    expect(await quoted.claim(claim("c", "noisy", "K1"))).toBe("full");
    // A replay is still told as a replay, whatever the quota.
    expect(await quoted.claim(claim("a", "noisy", "K1"))).toBe("replayed");
    expect(await quoted.claim(claim("d", "noisy", "K2"))).toBe("fresh");
    expect(await quoted.claim(claim("e", "noisy", "K3"))).toBe("full");
    expect(await quoted.claim(claim("f", "calm", "K4"))).toBe("fresh");
    // A claim refused for its quota was not stored: it is fresh once there is room.
    expect(await quoted.claim(claim("c", "calm", "K5"))).toBe("fresh");
  });

  it("another installation's prefix keeps its claims apart", async () => {
    const other = new RedisReplayStore({ url: redis.url, password: PASSWORD, keyPrefix: "install-b", quotas: DEFAULT_MEMORY_LIMITS, log: silent });
    stores.push(other);
    await waitFor("the store connecting", () => Promise.resolve(other.isUp() ? true : undefined), 5000);
    expect(await other.claim(CLAIM)).toBe("fresh");
  });
});

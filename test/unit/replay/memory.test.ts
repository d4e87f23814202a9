import { describe, expect, it } from "vitest";
import { MemoryReplayStore, type MemoryLimits } from "../../../src/replay/memory.js";
import type { ReplayClaim } from "../../../src/replay/store.js";

const ROOMY: MemoryLimits = { capacity: 1000, perNamespace: 1000, perKey: 1000 };

function claim(id: string, ttlMs: number, namespace = "team-a", accessKeyId = "KGAKALICE"): ReplayClaim {
  return { id, ttlMs, owner: { namespace, accessKeyId } };
}

function store(limits: Partial<MemoryLimits> = {}): MemoryReplayStore {
  return new MemoryReplayStore(() => 0, { ...ROOMY, ...limits });
}

describe("the in-memory replay store", () => {
  it("a claim is fresh the first time and replayed the second", () => {
    const nonces = store();
    expect(nonces.remember(claim("n1", 1000), 0)).toBe("fresh");
    expect(nonces.remember(claim("n1", 1000), 10)).toBe("replayed");
  });

  it("a claim is still remembered at the very end of its lifetime", () => {
    const nonces = store();
    nonces.remember(claim("n", 1000), 0);
    expect(nonces.remember(claim("n", 1000), 1000)).toBe("replayed");
  });

  it("a claim whose lifetime is over is forgotten and may be made again", () => {
    const nonces = store();
    nonces.remember(claim("n", 1000), 0);
    expect(nonces.remember(claim("n", 2000), 1001)).toBe("fresh");
    expect(nonces.size()).toBe(1);
  });

  it("expired entries are dropped as new ones arrive", () => {
    const nonces = store();
    for (let i = 0; i < 100; i++) nonces.remember(claim(`old-${i}`, 1000), 0);
    nonces.remember(claim("new", 3000), 2000);
    expect(nonces.size()).toBe(1);
  });

  it("a full store of live claims answers full instead of forgetting one", () => {
    const nonces = store({ capacity: 2 });
    nonces.remember(claim("a", 1000, "ns-1", "K1"), 0);
    nonces.remember(claim("b", 1000, "ns-2", "K2"), 0);
    expect(nonces.remember(claim("c", 1000, "ns-3", "K3"), 0)).toBe("full");
    expect(nonces.remember(claim("a", 1000, "ns-1", "K1"), 0)).toBe("replayed");
    expect(nonces.size()).toBe(2);
  });

  it("a full store finds expired entries hidden behind a live one", () => {
    const nonces = store({ capacity: 2 });
    nonces.remember(claim("live", 10_000), 0);
    nonces.remember(claim("short", 100), 0);
    expect(nonces.remember(claim("next", 5000), 5000)).toBe("fresh");
    expect(nonces.remember(claim("short", 5000), 5000)).toBe("full");
  });

  it("claims through the async interface on its own clock", async () => {
    let now = 0;
    const nonces = new MemoryReplayStore(() => now, ROOMY);
    expect(await nonces.claim(claim("n", 1000))).toBe("fresh");
    now = 1001;
    expect(await nonces.claim(claim("n", 1000))).toBe("fresh");
  });
});

describe("fair nonce capacity", () => {
  it("a key that fills its quota is refused, and another key of its namespace is not", () => {
    const nonces = store({ perKey: 3 });
    for (let i = 0; i < 3; i++) expect(nonces.remember(claim(`flood-${i}`, 60_000, "team-a", "KGAKFLOOD"), 0)).toBe("fresh");
    expect(nonces.remember(claim("flood-3", 60_000, "team-a", "KGAKFLOOD"), 0)).toBe("full");
    expect(nonces.remember(claim("quiet", 60_000, "team-a", "KGAKQUIET"), 0)).toBe("fresh");
  });

  it("a namespace that fills its quota is refused, and another namespace is not", () => {
    const nonces = store({ perNamespace: 4 });
    for (let i = 0; i < 4; i++) expect(nonces.remember(claim(`flood-${i}`, 60_000, "noisy", `KGAK${i}`), 0)).toBe("fresh");
    expect(nonces.remember(claim("more", 60_000, "noisy", "KGAKNEW"), 0)).toBe("full");
    expect(nonces.remember(claim("quiet", 60_000, "calm", "KGAKCALM"), 0)).toBe("fresh");
  });

  it("a quota frees up as its claims expire", () => {
    const nonces = store({ perKey: 1 });
    nonces.remember(claim("first", 1000), 0);
    expect(nonces.remember(claim("second", 1000), 500)).toBe("full");
    expect(nonces.remember(claim("second", 1000), 1001)).toBe("fresh");
  });

  it("with the default limits, one tenant sending 250,000 requests within the window (200 a second for 21 minutes) leaves room for the others", () => {
    const nonces = new MemoryReplayStore(() => 0);
    let refused = 0;
    for (let i = 0; i < 250_000; i++) if (nonces.remember(claim(`flood-${i}`, 1_800_000, "noisy", `KGAK${i % 10}`), 0) !== "fresh") refused++;
    expect(refused).toBeGreaterThan(0);
    expect(nonces.remember(claim("quiet", 900_000, "calm", "KGAKCALM"), 0)).toBe("fresh");
  });
});

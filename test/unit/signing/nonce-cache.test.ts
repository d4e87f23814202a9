import { describe, expect, it } from "vitest";
import { NonceCache } from "../../../src/signing/nonce-cache.js";

describe("the nonce replay cache", () => {
  it("a nonce is fresh the first time and replayed the second", () => {
    const cache = new NonceCache();
    expect(cache.remember("ak\nn1", 1000, 0)).toBe("fresh");
    expect(cache.remember("ak\nn1", 1000, 10)).toBe("replayed");
  });

  it("a nonce is still remembered at the very end of its window", () => {
    const cache = new NonceCache();
    cache.remember("n", 1000, 0);
    expect(cache.remember("n", 2000, 1000)).toBe("replayed");
  });

  it("a nonce whose window is over is forgotten and may be used again", () => {
    const cache = new NonceCache();
    cache.remember("n", 1000, 0);
    expect(cache.remember("n", 3000, 1001)).toBe("fresh");
    expect(cache.size).toBe(1);
  });

  it("expired entries are dropped as new ones arrive", () => {
    const cache = new NonceCache();
    for (let i = 0; i < 100; i++) cache.remember(`old-${i}`, 1000, 0);
    cache.remember("new", 5000, 2000);
    expect(cache.size).toBe(1);
  });

  it("a full cache of live nonces answers full instead of forgetting one", () => {
    const cache = new NonceCache(2);
    cache.remember("a", 1000, 0);
    cache.remember("b", 1000, 0);
    expect(cache.remember("c", 1000, 0)).toBe("full");
    expect(cache.remember("a", 1000, 0)).toBe("replayed");
    expect(cache.size).toBe(2);
  });

  it("a full cache finds expired entries hidden behind a live one", () => {
    const cache = new NonceCache(2);
    cache.remember("live", 10_000, 0);
    cache.remember("short", 100, 0);
    expect(cache.remember("next", 10_000, 5000)).toBe("fresh");
    expect(cache.remember("short", 10_000, 5000)).toBe("full");
  });
});

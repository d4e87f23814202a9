import { describe, expect, it } from "vitest";
import {
  ACCESS_KEY_ID_LENGTH,
  accessKeyKind,
  BASE32_ALPHABET,
  isSecretAccessKey,
  SECRET_ACCESS_KEY_LENGTH,
  SECRET_ALPHABET,
} from "../../../src/credentials/format.js";
import { generateAccessKeyId, generateSecretAccessKey } from "../../../src/credentials/generate.js";

const constant = (byte: number) => (size: number) => new Uint8Array(size).fill(byte);

// Pearson's chi-square statistic of symbol counts against a uniform distribution.
function chiSquare(samples: readonly string[], alphabet: string): number {
  const counts = new Map<string, number>([...alphabet].map((symbol) => [symbol, 0]));
  let total = 0;
  for (const sample of samples) {
    for (const symbol of sample) {
      counts.set(symbol, (counts.get(symbol) ?? 0) + 1);
      total += 1;
    }
  }
  const expected = total / alphabet.length;
  return [...counts.values()].reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
}

describe("access key ids", () => {
  it("are 20 characters: the long-term prefix KGAK, then base32", () => {
    const id = generateAccessKeyId("long-term");
    expect(id).toHaveLength(ACCESS_KEY_ID_LENGTH);
    expect(id).toMatch(/^KGAK[A-Z2-7]{16}$/);
    expect(accessKeyKind(id)).toBe("long-term");
  });

  it("carry the temporary prefix KGAS for session keys", () => {
    const id = generateAccessKeyId("temporary");
    expect(id).toMatch(/^KGAS[A-Z2-7]{16}$/);
    expect(accessKeyKind(id)).toBe("temporary");
  });

  it("take every one of the 80 random bits from the random source", () => {
    expect(generateAccessKeyId("long-term", constant(0x00))).toBe("KGAKAAAAAAAAAAAAAAAA");
    expect(generateAccessKeyId("long-term", constant(0xff))).toBe("KGAK7777777777777777");
  });

  it("do not repeat across many draws", () => {
    const ids = Array.from({ length: 20_000 }, () => generateAccessKeyId("long-term"));
    expect(new Set(ids).size).toBe(ids.length);
  });

  it("use every base32 symbol about equally often", () => {
    const suffixes = Array.from({ length: 4_000 }, () => generateAccessKeyId("long-term").slice(4));
    // 31 degrees of freedom: the mean is 31; above 90 has a probability below 1e-6 for a
    // uniform source, while one symbol drawn twice as often as the others scores over 1,000.
    expect(chiSquare(suffixes, BASE32_ALPHABET)).toBeLessThan(90);
  });
});

describe("secret access keys", () => {
  it("are 40 base64url characters", () => {
    const secret = generateSecretAccessKey();
    expect(secret).toHaveLength(SECRET_ACCESS_KEY_LENGTH);
    expect(secret).toMatch(/^[A-Za-z0-9_-]{40}$/);
    expect(isSecretAccessKey(secret)).toBe(true);
  });

  it("consume 30 random bytes, i.e. 240 bits, with nothing discarded", () => {
    const sizes: number[] = [];
    const secret = generateSecretAccessKey((size) => {
      sizes.push(size);
      return new Uint8Array(size).fill(0xff);
    });
    expect(sizes).toEqual([30]);
    expect(secret).toBe("_".repeat(40));
  });

  it("do not repeat across many draws", () => {
    const secrets = Array.from({ length: 20_000 }, () => generateSecretAccessKey());
    expect(new Set(secrets).size).toBe(secrets.length);
  });

  it("use every symbol of the alphabet about equally often", () => {
    const secrets = Array.from({ length: 2_000 }, () => generateSecretAccessKey());
    // 63 degrees of freedom: the mean is 63; above 140 has a probability below 1e-6.
    expect(chiSquare(secrets, SECRET_ALPHABET)).toBeLessThan(140);
  });
});

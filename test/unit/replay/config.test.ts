import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { OPERATOR_DEFAULTS, replayStoreSpec, type VerifierCommandOptions } from "../../../src/cli/operator-command.js";
import { openReplayStore, parseReplayStoreLocation } from "../../../src/replay/config.js";
import { pino } from "pino";

const OPTIONS: VerifierCommandOptions = { ...OPERATOR_DEFAULTS };

describe("--replay-store", () => {
  it.each([
    ["memory", { kind: "memory" }],
    ["redis://keygate-redis.keygate-system.svc:6379", { kind: "redis", url: "redis://keygate-redis.keygate-system.svc:6379" }],
    ["rediss://verifier@redis.example.test:6380/2", { kind: "redis", url: "rediss://verifier@redis.example.test:6380/2" }],
  ])("accepts %s", (text, expected) => {
    expect(parseReplayStoreLocation(text)).toEqual(expected);
  });

  it.each([
    ["a non-URL", "redis"],
    ["another scheme", "http://redis:6379"],
    ["no host", "redis://"],
  ])("refuses %s, naming the flag", (_what, text) => {
    expect(() => parseReplayStoreLocation(text)).toThrow(/--replay-store must be "memory" or a redis:\/\/ or rediss:\/\/ URL|--replay-store names no host/);
  });

  it("refuses a password in the URL, where ps would show it, without repeating it", () => {
    let message = "";
    try {
      parseReplayStoreLocation("redis://:hunter2-secret@redis:6379");
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/must not carry a password: give it in KEYGATE_REPLAY_STORE_PASSWORD or --replay-store-password-file/);
    expect(message).not.toContain("hunter2");
  });
});

describe("the replay store the verifier is started with", () => {
  it("is in memory by default, with the documented quotas", () => {
    expect(replayStoreSpec(OPTIONS, {})).toEqual({ kind: "memory", limits: { capacity: 200_000, perNamespace: 50_000, perKey: 20_000 } });
  });

  it("refuses a quota that is not a positive integer", () => {
    expect(() => replayStoreSpec({ ...OPTIONS, nonceQuotaPerKey: "0" }, {})).toThrow(/--nonce-quota-per-key: "0" is not a positive integer/);
    expect(() => openReplayStore({ kind: "memory", limits: { capacity: 1, perNamespace: 1.5, perKey: 1 } }, Date.now, pino({ level: "silent" }))).toThrow(
      /nonce quota per namespace must be a positive integer/,
    );
  });

  it("reads the Redis password from the environment", () => {
    expect(replayStoreSpec({ ...OPTIONS, replayStore: "redis://redis:6379" }, { KEYGATE_REPLAY_STORE_PASSWORD: "from-env" })).toEqual({
      kind: "redis",
      url: "redis://redis:6379",
      password: "from-env",
      tlsCa: undefined,
      keyPrefix: "keygate",
      quotas: { perNamespace: 50_000, perKey: 20_000 },
    });
  });

  it("reads the password and the CA from files, the file winning over the environment", async () => {
    const dir = await mkdtemp(join(tmpdir(), "keygate-replay-"));
    await writeFile(join(dir, "password"), "from-file\n");
    await writeFile(join(dir, "ca.crt"), "-----BEGIN CERTIFICATE-----\n");
    const spec = replayStoreSpec(
      { ...OPTIONS, replayStore: "rediss://redis:6380", replayStorePasswordFile: join(dir, "password"), replayStoreCaFile: join(dir, "ca.crt"), replayStoreKeyPrefix: "prod" },
      { KEYGATE_REPLAY_STORE_PASSWORD: "from-env" },
    );
    expect(spec).toMatchObject({ kind: "redis", password: "from-file", keyPrefix: "prod" });
    expect(spec.kind === "redis" ? spec.tlsCa?.toString() : "").toBe("-----BEGIN CERTIFICATE-----\n");
  });
});

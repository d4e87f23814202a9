import { describe, expect, it } from "vitest";
import { MemoryReplayStore } from "../../../src/replay/memory.js";
import type { ReplayClaim, ReplayStore, ReplayVerdict } from "../../../src/replay/store.js";
import type { HttpRequestDescription } from "../../../src/signing/request.js";
import { Verification } from "../../../src/verifier/verification.js";
import { signAcs3 } from "../../support/signers/acs3.js";
import { signHuawei } from "../../support/signers/huawei.js";
import { signSigV4 } from "../../support/signers/sigv4.js";
import { FakeKeys, KEY_ID, SECRET } from "../verifier/fake-keys.js";

const NOW = new Date("2024-05-01T10:00:00Z");
const OTHER_KEY = "KGAKOTHEROTHEROTHER0";
const BASE: HttpRequestDescription = {
  method: "POST",
  rawPath: "/",
  rawQuery: "RegionId=cn-hangzhou",
  headers: [["Host", "ecs.cn-hangzhou.aliyuncs.com"], ["Content-Type", "application/json"], ["x-acs-action", "DescribeInstances"]],
  body: Buffer.from('{"PageSize":10}'),
};

/** A store that records what reaches it and answers as told. */
class ScriptedStore implements ReplayStore {
  readonly kind = "scripted";
  readonly claims: ReplayClaim[] = [];

  constructor(private readonly verdict: ReplayVerdict) {}

  claim(claim: ReplayClaim): Promise<ReplayVerdict> {
    this.claims.push(claim);
    return Promise.resolve(this.verdict);
  }

  isUp(): boolean {
    return this.verdict !== "unavailable";
  }

  size(): undefined {
    return undefined;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}

function setup(store?: ReplayStore, at: { now: Date } = { now: NOW }) {
  const keys = new FakeKeys();
  keys.set(OTHER_KEY, {});
  const replay = store ?? new MemoryReplayStore(() => at.now.getTime());
  return { keys, replay, verification: new Verification(keys, replay, () => at.now) };
}

function acs3(input: { nonce?: string; accessKeyId?: string } = {}, at = NOW): HttpRequestDescription {
  return signAcs3(BASE, { accessKeyId: input.accessKeyId ?? KEY_ID, secret: SECRET, nonce: input.nonce ?? "9f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f" }, at);
}

describe("ACS3 nonces, claimed once in the replay store", () => {
  it("the same signed request is accepted once, then SignatureNonceUsed (400)", async () => {
    const at = { now: NOW };
    const { verification } = setup(undefined, at);
    const request = acs3();
    expect(await verification.verify(request, undefined)).toMatchObject({ allowed: true });
    at.now = new Date(NOW.getTime() + 5 * 60_000);
    const replayed = await verification.verify(request, undefined);
    expect(replayed).toMatchObject({ allowed: false, code: "SignatureNonceUsed", httpStatus: 400 });
    expect(JSON.stringify(replayed)).not.toMatch(new RegExp(`${SECRET}|Signature=`));
  });

  it("a replay after the window is refused for its age, and the nonce has been forgotten", async () => {
    const at = { now: NOW };
    const { verification, replay } = setup(undefined, at);
    const request = acs3();
    expect(await verification.verify(request, undefined)).toMatchObject({ allowed: true });
    at.now = new Date(NOW.getTime() + 15.02 * 60_000);
    expect(await verification.verify(request, undefined)).toMatchObject({ allowed: false, code: "RequestTimeTooSkewed" });
    at.now = new Date(NOW.getTime() + 16 * 60_000);
    expect(await verification.verify(acs3({ nonce: "another" }, at.now), undefined)).toMatchObject({ allowed: true });
    expect(replay.size()).toBe(1);
  });

  it("only a request whose signature verified reaches the store", async () => {
    const store = new ScriptedStore("fresh");
    const { verification } = setup(store);
    const forged = { ...acs3(), body: Buffer.from("{}") };
    expect(await verification.verify(forged, undefined)).toMatchObject({ code: "SignatureDoesNotMatch" });
    expect(store.claims).toEqual([]);
  });

  it("a request refused for its key's state uses up no nonce", async () => {
    const { keys, verification, replay } = setup();
    keys.set(KEY_ID, { active: false });
    expect(await verification.verify(acs3(), undefined)).toMatchObject({ code: "InvalidClientTokenId" });
    expect(replay.size()).toBe(0);
  });

  it("claims the nonce under its key, until the request would be too old, on the key's namespace quota", async () => {
    const store = new ScriptedStore("fresh");
    const { verification } = setup(store);
    await verification.verify(acs3(), undefined);
    expect(store.claims).toEqual([
      { id: `acs3-nonce:${KEY_ID}:9f1c2d3e4a5b6c7d8e9f0a1b2c3d4e5f`, ttlMs: 15 * 60_000, owner: { namespace: "team", accessKeyId: KEY_ID } },
    ]);
  });

  it("nonces are per access key: another key may use the same nonce", async () => {
    const { verification } = setup();
    expect(await verification.verify(acs3(), undefined)).toMatchObject({ allowed: true });
    expect(await verification.verify(acs3({ accessKeyId: OTHER_KEY }), undefined)).toMatchObject({ allowed: true });
  });

  it("a key over its quota is refused (503), and another key is not", async () => {
    const keys = new FakeKeys();
    keys.set(OTHER_KEY, {});
    const store = new MemoryReplayStore(() => NOW.getTime(), { capacity: 100, perNamespace: 100, perKey: 2 });
    const verification = new Verification(keys, store, () => NOW);
    for (const nonce of ["a", "b"]) expect(await verification.verify(acs3({ nonce }), undefined)).toMatchObject({ allowed: true });
    expect(await verification.verify(acs3({ nonce: "c" }), undefined)).toMatchObject({ allowed: false, code: "ServiceUnavailable", httpStatus: 503 });
    expect(await verification.verify(acs3({ nonce: "c", accessKeyId: OTHER_KEY }), undefined)).toMatchObject({ allowed: true });
  });
});

describe("a replay store that cannot answer", () => {
  const aws = { accessKeyId: KEY_ID, secret: SECRET, region: "eu-west-1", service: "ecs" };

  it("refuses ACS3 with ServiceUnavailable naming the replay store", async () => {
    const { verification } = setup(new ScriptedStore("unavailable"));
    const outcome = await verification.verify(acs3(), undefined);
    expect(outcome).toMatchObject({ allowed: false, code: "ServiceUnavailable", httpStatus: 503 });
    expect(outcome.allowed ? "" : outcome.message).toMatch(/replay store is unavailable/);
  });

  it.each([
    ["SigV4", signSigV4(BASE, aws, NOW)],
    ["SigV4 presigned", signSigV4(BASE, { ...aws, presignExpires: 300 }, NOW)],
    ["Huawei", signHuawei(BASE, { accessKeyId: KEY_ID, secret: SECRET }, NOW)],
  ])("still allows %s, which never asks it", async (_scheme, request) => {
    const store = new ScriptedStore("unavailable");
    const { verification } = setup(store);
    expect(await verification.verify(request, undefined)).toMatchObject({ allowed: true });
    expect(store.claims).toEqual([]);
  });
});

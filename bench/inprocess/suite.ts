import { createHash, createHmac, hash } from "node:crypto";
import { canonicalHeaders, canonicalQuery, parseQuery } from "../../src/signing/canonical.js";
import { MemoryReplayStore } from "../../src/replay/memory.js";
import { indexHeaders, type HttpRequestDescription } from "../../src/signing/request.js";
import { deriveSigV4Key } from "../../src/signing/signing-key-cache.js";
import { sigV4CanonicalUri } from "../../src/signing/sigv4.js";
import { verifySignedRequest } from "../../src/signing/verify.js";
import { type Case, sampleInterleaved, type SamplerOptions } from "../lib/sampler.js";
import { pairedRatios, round, type Summary, summarize } from "../lib/stats.js";
import { acs3Request, type BenchKey, benchKeys, huaweiRequest, keyTable, sigV4HeaderRequest, sigV4PresignedRequest } from "./fixtures.js";

// The signing-key cache holds 1024 keys and evicts the oldest: cycling through twice as many
// keys makes every lookup a miss, so "no cache" is the full four-HMAC derivation per request.
const WARM_KEYS = 64;
const COLD_KEYS = 2048;
export const FLOOR_CREATE_HASH = "crypto-floor/createHash";
export const FLOOR_ONE_SHOT = "crypto-floor/one-shot";

const ROOMY = { capacity: 1_000_000, perNamespace: 1_000_000, perKey: 1_000_000 };
const OWNER = { namespace: "bench", accessKeyId: "bench" };

/** Replay protection as a single replica does it (the in-memory store's claim), with every request counted as new. */
class CountingNonces {
  private store = new MemoryReplayStore(Date.now, ROOMY);
  private sequence = 0;

  reset(): void {
    this.store = new MemoryReplayStore(Date.now, ROOMY);
  }

  fresh(result: ReturnType<typeof verifySignedRequest>, nowMs: number): boolean {
    if (!result.allowed) return false;
    if (result.nonce === undefined) return true;
    const claim = { id: `${result.nonce.value}#${this.sequence++}`, ttlMs: result.nonce.expiresAtMs - nowMs, owner: OWNER };
    return this.store.remember(claim, nowMs) === "fresh";
  }
}

function verifyCase(name: string, requests: readonly HttpRequestDescription[], keys: readonly BenchKey[], now: Date): Case {
  const nonces = new CountingNonces();
  const table = keyTable(keys);
  const deps = { lookup: (id: string) => table.get(id) };
  const nowMs = now.getTime();
  let next = 0;
  return {
    name,
    beforeSample: () => nonces.reset(),
    run(operations) {
      let allowed = 0;
      for (let i = 0; i < operations; i++) {
        const req = requests[next++ % requests.length] as HttpRequestDescription;
        if (nonces.fresh(verifySignedRequest(req, deps, now), nowMs)) allowed++;
      }
      return allowed;
    },
  };
}

/** The inputs of the crypto a SigV4 request with a body needs, at the real request's sizes. */
interface CryptoInputs {
  readonly body: Buffer;
  readonly canonicalRequest: string;
  readonly stringToSign: string;
  readonly signingKey: Buffer;
}

function cryptoInputs(req: HttpRequestDescription, key: BenchKey): CryptoInputs {
  const body = req.body ?? Buffer.alloc(0);
  const index = indexHeaders(req.headers);
  const signed = [...index.keys()].filter((name) => name !== "authorization").sort();
  const canonicalRequest = [
    req.method,
    sigV4CanonicalUri(req.rawPath, "dynamodb"),
    canonicalQuery(parseQuery(req.rawQuery) ?? []),
    canonicalHeaders(index, signed, true),
    signed.join(";"),
    createHash("sha256").update(body).digest("hex"),
  ].join("\n");
  const date = (index.get("x-amz-date") ?? [""])[0] ?? "";
  const scope = { date: date.slice(0, 8), region: "eu-west-1", service: "dynamodb" };
  const stringToSign = `AWS4-HMAC-SHA256\n${date}\n${scope.date}/${scope.region}/${scope.service}/aws4_request\n${"0".repeat(64)}`;
  return { body, canonicalRequest, stringToSign, signingKey: deriveSigV4Key(key.secret, scope) };
}

/**
 * The floor the issue cites, "two SHA-256 and one HMAC with a cached key", and nothing else:
 * SHA-256 of the body, SHA-256 of the canonical request, one HMAC with an already-derived key.
 * `createHash` is the straightforward way (the figure); the one-shot `crypto.hash` is
 * the cheapest SHA-256 Node offers, and the one the verifier uses, so it is the honest floor.
 */
function baselineCases(inputs: CryptoInputs): Case[] {
  const { body, canonicalRequest, stringToSign, signingKey } = inputs;
  const hmac = () => createHmac("sha256", signingKey).update(stringToSign).digest();
  return [
    {
      name: FLOOR_CREATE_HASH,
      run(operations) {
        let done = 0;
        for (let i = 0; i < operations; i++) {
          const payloadHash = createHash("sha256").update(body).digest("hex");
          const requestHash = createHash("sha256").update(canonicalRequest).digest("hex");
          if (payloadHash.length + requestHash.length + hmac().length === 160) done++;
        }
        return done;
      },
    },
    {
      name: FLOOR_ONE_SHOT,
      run(operations) {
        let done = 0;
        for (let i = 0; i < operations; i++) {
          const payloadHash = hash("sha256", body, "hex");
          const requestHash = hash("sha256", canonicalRequest, "hex");
          if (payloadHash.length + requestHash.length + hmac().length === 160) done++;
        }
        return done;
      },
    },
  ];
}

/**
 * The one-shot crypto floor of the `sigv4-header` request alone, in microseconds per request: what
 * the HTTP benchmark adds to the bare server's CPU per request to tell how close a verifier can
 * get to it.
 */
export function oneShotFloorMicros(options: SamplerOptions): Summary {
  const now = new Date(Date.now() - 60_000);
  const key = benchKeys(1)[0] as BenchKey;
  const floor = baselineCases(cryptoInputs(sigV4HeaderRequest(key, now), key)).filter((entry) => entry.name === FLOOR_ONE_SHOT);
  const [samples] = sampleInterleaved(floor, options);
  return summarize((samples?.opsPerSecond ?? []).map((perSecond) => 1e6 / perSecond));
}

export interface InProcessCase {
  readonly name: string;
  readonly opsPerSecond: Summary;
  readonly microsecondsPerOp: number;
  /** Per-round ratios to the two crypto floors, summarised; the medians are the figures to quote. */
  readonly ratioToCreateHashFloor: Summary;
  readonly ratioToOneShotFloor: Summary;
  readonly failures: number;
}

export interface InProcessResult {
  readonly options: SamplerOptions;
  readonly requestsPerCase: Record<string, number>;
  readonly cases: InProcessCase[];
}

function buildCases(now: Date): { cases: Case[]; sizes: Record<string, number> } {
  const warm = benchKeys(WARM_KEYS);
  const cold = benchKeys(COLD_KEYS);
  const sets: Array<[string, HttpRequestDescription[], BenchKey[]]> = [
    ["sigv4-header", warm.map((key) => sigV4HeaderRequest(key, now)), warm],
    ["sigv4-header/no-key-cache", cold.map((key) => sigV4HeaderRequest(key, now)), cold],
    ["sigv4-presigned", warm.map((key) => sigV4PresignedRequest(key, now)), warm],
    ["sigv4-presigned/no-key-cache", cold.map((key) => sigV4PresignedRequest(key, now)), cold],
    ["acs3", warm.map((key, i) => acs3Request(key, now, createHash("md5").update(String(i)).digest("hex"))), warm],
    ["huawei", warm.map((key) => huaweiRequest(key, now)), warm],
  ];
  const cases = sets.map(([name, requests, keys]) => verifyCase(name, requests, keys, now));
  const first = warm[0] as BenchKey;
  cases.push(...baselineCases(cryptoInputs(sigV4HeaderRequest(first, now), first)));
  const sizes = Object.fromEntries(sets.map(([name, requests]) => [name, requests.length]));
  return { cases, sizes };
}

export function runInProcess(options: SamplerOptions): InProcessResult {
  // Signed a minute ago: well inside the ±15 min window for the whole run.
  const now = new Date();
  const { cases, sizes } = buildCases(new Date(now.getTime() - 60_000));
  const samples = sampleInterleaved(cases, options);
  const floor = (name: string) => samples.find((entry) => entry.name === name)?.opsPerSecond ?? [];
  const createHashFloor = floor(FLOOR_CREATE_HASH);
  const oneShotFloor = floor(FLOOR_ONE_SHOT);
  return {
    options,
    requestsPerCase: sizes,
    cases: samples.map((entry) => {
      const opsPerSecond = summarize(entry.opsPerSecond);
      return {
        name: entry.name,
        opsPerSecond,
        microsecondsPerOp: round(1e6 / opsPerSecond.median, 2),
        ratioToCreateHashFloor: summarize(pairedRatios(entry.opsPerSecond, createHashFloor)),
        ratioToOneShotFloor: summarize(pairedRatios(entry.opsPerSecond, oneShotFloor)),
        failures: entry.failures,
      };
    }),
  };
}

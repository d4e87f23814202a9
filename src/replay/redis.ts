import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import type { ReplayClaim, ReplayStore, ReplayVerdict } from "./store.js";

interface RedisReplayOptions {
  /** redis://host:port/db or rediss://… (TLS); a username may be in it, never a password. */
  readonly url: string;
  readonly password?: string;
  /** PEM CA bundle for rediss:// servers whose certificate the system CAs do not sign. */
  readonly tlsCa?: Buffer;
  /** Put before every key, so that one Redis can serve several installations. */
  readonly keyPrefix: string;
  readonly commandTimeoutMs?: number;
  /** Per quota window. */
  readonly quotas: RedisQuotas;
  readonly log: Logger;
}

/** Claims one key, and one namespace, may make per quota window, so one tenant cannot fill Redis for all. */
export interface RedisQuotas {
  readonly perNamespace: number;
  readonly perKey: number;
}

// A nonce lives 15 minutes after its request's time (30 at most), so the claims of the current
// window and the one before bound what a tenant holds: at most twice its quota.
const QUOTA_WINDOW_MS = 15 * 60_000;

// One round trip, atomic: a replay is told before any quota, a claim over quota is not stored,
// and a counter lives two windows. KEYS: the claim, the key's counter, the namespace's counter.
// ARGV: the claim's lifetime, the key's quota, the namespace's quota, the counters' lifetime.
const CLAIM_SCRIPT = `
if redis.call("EXISTS", KEYS[1]) == 1 then return "replayed" end
if tonumber(redis.call("GET", KEYS[2]) or "0") >= tonumber(ARGV[2]) then return "full" end
if tonumber(redis.call("GET", KEYS[3]) or "0") >= tonumber(ARGV[3]) then return "full" end
redis.call("SET", KEYS[1], "1", "PX", ARGV[1])
for i = 2, 3 do
  if redis.call("INCR", KEYS[i]) == 1 then redis.call("PEXPIRE", KEYS[i], ARGV[4]) end
end
return "fresh"
`;

const VERDICTS = new Set<string>(["fresh", "replayed", "full"]);

// A verification waits for the store; a slow store must cost a refusal, not a stalled gateway.
const DEFAULT_COMMAND_TIMEOUT_MS = 500;
const CONNECT_TIMEOUT_MS = 2000;
const MAX_RECONNECT_DELAY_MS = 2000;
// A store that is down is reported once per this interval, not once per reconnection attempt.
const ERROR_LOG_INTERVAL_MS = 30_000;

function clientOptions(options: RedisReplayOptions): RedisOptions {
  return {
    password: options.password,
    tls: options.url.startsWith("rediss:") ? (options.tlsCa ? { ca: options.tlsCa } : {}) : undefined,
    keyPrefix: `${options.keyPrefix}:`,
    // Without a queue a command sent while disconnected fails at once: a store that is down
    // answers "unavailable" immediately instead of holding requests until it comes back.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
    connectTimeout: CONNECT_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(100 * attempt, MAX_RECONNECT_DELAY_MS),
  };
}

/**
 * The replay store every replica shares: one script per claim (`SET key 1 PX ttl` unless the key
 * exists, and a quota counter per key and per namespace), atomic in Redis, so of any number of
 * concurrent claims of one id exactly one is fresh. Entries expire in Redis itself (its clock, not
 * the replicas'). The server must not evict keys (maxmemory-policy noeviction): an evicted claim
 * could be replayed; a full server refuses writes, which is a refusal here too.
 */
export class RedisReplayStore implements ReplayStore {
  readonly kind = "redis";
  private readonly client: Redis;
  private lastErrorLogMs = Number.NEGATIVE_INFINITY;
  private readonly quotas: RedisQuotas;

  constructor(options: RedisReplayOptions) {
    this.quotas = options.quotas;
    this.client = new Redis(options.url, clientOptions(options));
    const { log } = options;
    this.client.on("error", (error: Error) => {
      const nowMs = Date.now();
      if (nowMs - this.lastErrorLogMs < ERROR_LOG_INTERVAL_MS) return;
      this.lastErrorLogMs = nowMs;
      // The message of a connection error names the host and port, never the password.
      log.warn({ store: "redis", error: error.message }, "replay store unreachable: ACS3 requests are refused until it is back");
    });
    this.client.on("ready", () => {
      if (this.lastErrorLogMs !== Number.NEGATIVE_INFINITY) log.info({ store: "redis" }, "replay store reachable again");
      this.lastErrorLogMs = Number.NEGATIVE_INFINITY;
    });
  }

  async claim(claim: ReplayClaim): Promise<ReplayVerdict> {
    const window = Math.floor(Date.now() / QUOTA_WINDOW_MS);
    const { accessKeyId, namespace } = claim.owner;
    try {
      const answer = await this.client.eval(
        CLAIM_SCRIPT,
        3,
        claim.id,
        `quota:key:${accessKeyId}:${window}`,
        `quota:namespace:${namespace}:${window}`,
        Math.max(1, Math.ceil(claim.ttlMs)),
        this.quotas.perKey,
        this.quotas.perNamespace,
        2 * QUOTA_WINDOW_MS,
      );
      return typeof answer === "string" && VERDICTS.has(answer) ? (answer as ReplayVerdict) : "unavailable";
    } catch {
      return "unavailable";
    }
  }

  size(): undefined {
    return undefined;
  }

  isUp(): boolean {
    return this.client.status === "ready";
  }

  async close(): Promise<void> {
    if (this.client.status === "ready") await this.client.quit().catch(() => undefined);
    this.client.disconnect();
  }
}

import { Redis, type RedisOptions } from "ioredis";
import type { Logger } from "pino";
import type { ReplayClaim, ReplayStore, ReplayVerdict } from "./store.js";

export interface RedisReplayOptions {
  /** redis://host:port/db or rediss://… (TLS); a username may be in it, never a password. */
  readonly url: string;
  readonly password?: string;
  /** PEM CA bundle for rediss:// servers whose certificate the system CAs do not sign. */
  readonly tlsCa?: Buffer;
  /** Put before every key, so that one Redis can serve several installations. */
  readonly keyPrefix: string;
  readonly commandTimeoutMs?: number;
  readonly log: Logger;
}

// A verification waits for the store; a slow store must cost a refusal, not a stalled gateway.
export const DEFAULT_COMMAND_TIMEOUT_MS = 500;
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
 * The replay store every replica shares: one `SET key 1 NX PX ttl` per claim, atomic in Redis,
 * so of any number of concurrent claims of one id exactly one is fresh. Entries expire in Redis
 * itself (its clock, not the replicas'). The server must not evict keys (maxmemory-policy
 * noeviction): an evicted claim could be replayed; a full server refuses writes, which is a
 * refusal here too.
 */
export class RedisReplayStore implements ReplayStore {
  readonly kind = "redis";
  private readonly client: Redis;
  private lastErrorLogMs = Number.NEGATIVE_INFINITY;

  constructor(options: RedisReplayOptions) {
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
    try {
      const answer = await this.client.set(claim.id, "1", "PX", Math.max(1, Math.ceil(claim.ttlMs)), "NX");
      return answer === "OK" ? "fresh" : "replayed";
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

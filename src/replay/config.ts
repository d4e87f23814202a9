import type { Logger } from "pino";
import { DEFAULT_MEMORY_LIMITS, type MemoryLimits, MemoryReplayStore } from "./memory.js";
import { type RedisQuotas, RedisReplayStore } from "./redis.js";
import type { ReplayStore } from "./store.js";

export const DEFAULT_KEY_PREFIX = "keygate";

/** Where replay state lives: this process (one replica only), or a Redis every replica shares. */
export type ReplayStoreSpec =
  | { readonly kind: "memory"; readonly limits?: MemoryLimits }
  | {
      readonly kind: "redis";
      readonly url: string;
      readonly password?: string;
      readonly tlsCa?: Buffer;
      readonly keyPrefix?: string;
      readonly commandTimeoutMs?: number;
      /** Per quota window (15 minutes); default: the memory store's quotas. */
      readonly quotas?: RedisQuotas;
    };

export class ReplayStoreConfigError extends Error {
  readonly code = "KG_ERR_REPLAY_STORE_CONFIG";

  constructor(message: string) {
    super(message);
    this.name = "ReplayStoreConfigError";
  }
}

function parseUrl(text: string, option: string): URL {
  try {
    return new URL(text);
  } catch {
    throw new ReplayStoreConfigError(`${option} must be "memory" or a redis:// or rediss:// URL`);
  }
}

/**
 * "memory", or a redis:// (plain) or rediss:// (TLS) URL. A password in the URL is refused (and
 * not repeated in the error): a flag's value shows in `ps` and in the pod spec.
 */
export function parseReplayStoreLocation(text: string, option = "--replay-store"): { kind: "memory" } | { kind: "redis"; url: string } {
  if (text === "memory") return { kind: "memory" };
  const url = parseUrl(text, option);
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") {
    throw new ReplayStoreConfigError(`${option} must be "memory" or a redis:// or rediss:// URL`);
  }
  if (url.password !== "") {
    throw new ReplayStoreConfigError(`${option} must not carry a password: give it in KEYGATE_REPLAY_STORE_PASSWORD or --replay-store-password-file`);
  }
  if (url.hostname === "") throw new ReplayStoreConfigError(`${option} names no host`);
  return { kind: "redis", url: text };
}

function positive(name: string, value: number): void {
  if (!Number.isSafeInteger(value) || value <= 0) throw new ReplayStoreConfigError(`${name} must be a positive integer`);
}

function checkQuotas<Q extends RedisQuotas>(quotas: Q): Q {
  positive("nonce quota per namespace", quotas.perNamespace);
  positive("nonce quota per key", quotas.perKey);
  return quotas;
}

function checkMemoryLimits(limits: MemoryLimits): MemoryLimits {
  positive("nonce capacity", limits.capacity);
  return checkQuotas(limits);
}

export function openReplayStore(spec: ReplayStoreSpec, now: () => number, log: Logger): ReplayStore {
  if (spec.kind === "memory") return new MemoryReplayStore(now, checkMemoryLimits(spec.limits ?? DEFAULT_MEMORY_LIMITS));
  parseReplayStoreLocation(spec.url);
  return new RedisReplayStore({
    url: spec.url,
    password: spec.password,
    tlsCa: spec.tlsCa,
    keyPrefix: spec.keyPrefix ?? DEFAULT_KEY_PREFIX,
    commandTimeoutMs: spec.commandTimeoutMs,
    quotas: checkQuotas(spec.quotas ?? DEFAULT_MEMORY_LIMITS),
    log,
  });
}

import { HmacSha256Key, hmacSha256 } from "./digest.js";

export interface SigV4Scope {
  readonly date: string;
  readonly region: string;
  readonly service: string;
}

/** The SigV4 key chain: "AWS4"+secret → date → region → service → "aws4_request". */
export function deriveSigV4Key(secret: string, scope: SigV4Scope): Buffer {
  const dateKey = hmacSha256(`AWS4${secret}`, scope.date);
  const regionKey = hmacSha256(dateKey, scope.region);
  const serviceKey = hmacSha256(regionKey, scope.service);
  return hmacSha256(serviceKey, "aws4_request");
}

/**
 * Derived keys change once a day per (key, region, service), so four HMACs per request become
 * a map lookup. Bounded, oldest entry out first: a flood of made-up scopes costs memory only
 * up to the bound (and only for requests whose access key exists).
 */
export class SigningKeyCache {
  private readonly entries = new Map<string, HmacSha256Key>();

  constructor(private readonly capacity = 1024) {}

  get size(): number {
    return this.entries.size;
  }

  /** The derived key's bytes. */
  get(secret: string, scope: SigV4Scope): Buffer {
    return this.hmacKey(secret, scope).key;
  }

  /** The derived key, ready to sign with (its HMAC blocks worked out once). */
  hmacKey(secret: string, scope: SigV4Scope): HmacSha256Key {
    // The lengths up front keep the fields apart whatever characters a (client-chosen) region
    // or service holds: no two different scopes and secrets make the same id.
    const { date, region, service } = scope;
    const id = `${date.length}:${region.length}:${service.length}:${date}${region}${service}${secret}`;
    const cached = this.entries.get(id);
    if (cached) return cached;
    const key = new HmacSha256Key(deriveSigV4Key(secret, scope));
    remember(this.entries, this.capacity, id, key);
    return key;
  }
}

/** Bounded, oldest entry out first. */
function remember<V>(entries: Map<string, V>, capacity: number, id: string, value: V): void {
  if (entries.size >= capacity) {
    const oldest = entries.keys().next();
    if (oldest.done !== true) entries.delete(oldest.value);
  }
  entries.set(id, value);
}

/**
 * ACS3 and Huawei sign with the secret itself: its HMAC blocks are kept per secret, with the
 * same bound (a secret is looked up only once its access key was found).
 */
export class SecretKeyCache {
  private readonly entries = new Map<string, HmacSha256Key>();

  constructor(private readonly capacity = 1024) {}

  get size(): number {
    return this.entries.size;
  }

  get(secret: string): HmacSha256Key {
    const cached = this.entries.get(secret);
    if (cached) return cached;
    const key = new HmacSha256Key(Buffer.from(secret, "utf8"));
    remember(this.entries, this.capacity, secret, key);
    return key;
  }
}

export const secretKeys = new SecretKeyCache();

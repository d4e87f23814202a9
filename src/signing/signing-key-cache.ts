import { hmacSha256 } from "./digest.js";

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
  private readonly entries = new Map<string, Buffer>();

  constructor(private readonly capacity = 1024) {}

  get size(): number {
    return this.entries.size;
  }

  get(secret: string, scope: SigV4Scope): Buffer {
    // The lengths up front keep the fields apart whatever characters a (client-chosen) region
    // or service holds: no two different scopes and secrets make the same id.
    const { date, region, service } = scope;
    const id = `${date.length}:${region.length}:${service.length}:${date}${region}${service}${secret}`;
    const cached = this.entries.get(id);
    if (cached) return cached;
    const key = deriveSigV4Key(secret, scope);
    if (this.entries.size >= this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done !== true) this.entries.delete(oldest.value);
    }
    this.entries.set(id, key);
    return key;
  }
}

import type { ReplayClaim, ReplayStore, ReplayVerdict } from "./store.js";

export interface MemoryLimits {
  /** Live claims in all. */
  readonly capacity: number;
  /** Live claims of one namespace (the account), so that one tenant cannot refuse the others. */
  readonly perNamespace: number;
  /** Live claims of one access key, so that one key cannot use up its namespace's share. */
  readonly perKey: number;
}

// At ~150 bytes an entry, 200,000 live nonces are ~30 MB. A nonce lives 15 minutes (30 at most,
// for a request dated ahead), so one key may sign about 20 ACS3 requests a second for ever.
export const DEFAULT_MEMORY_LIMITS: MemoryLimits = { capacity: 200_000, perNamespace: 50_000, perKey: 20_000 };

const FULL_SWEEP_INTERVAL_MS = 1000;

interface Entry {
  readonly expiresAtMs: number;
  readonly namespace: string;
  readonly accessKeyId: string;
}

function increment(counts: Map<string, number>, name: string): void {
  counts.set(name, (counts.get(name) ?? 0) + 1);
}

function decrement(counts: Map<string, number>, name: string): void {
  const count = (counts.get(name) ?? 0) - 1;
  if (count > 0) counts.set(name, count);
  else counts.delete(name);
}

/**
 * The replay store of a single replica: bounded in memory, with a quota per namespace and per
 * key. A full quota answers "full" rather than forgetting a live claim, because a forgotten one
 * could be replayed. Only requests whose signature verified reach it, so filling a quota takes
 * valid credentials, and fills only that tenant's share.
 */
export class MemoryReplayStore implements ReplayStore {
  readonly kind = "memory";
  // Insertion order is close to expiry order (expiry = request time + skew window), which lets
  // the common case prune from the front only.
  private readonly entries = new Map<string, Entry>();
  private readonly perNamespace = new Map<string, number>();
  private readonly perKey = new Map<string, number>();
  private lastFullSweepMs = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly limits: MemoryLimits = DEFAULT_MEMORY_LIMITS,
  ) {}

  size(): number {
    return this.entries.size;
  }

  isUp(): boolean {
    return true;
  }

  claim(claim: ReplayClaim): Promise<ReplayVerdict> {
    return Promise.resolve(this.remember(claim, this.now()));
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** The synchronous claim: one map lookup and one insert in the common case. */
  remember(claim: ReplayClaim, nowMs: number): ReplayVerdict {
    const seen = this.entries.get(claim.id);
    if (seen !== undefined && seen.expiresAtMs >= nowMs) return "replayed";
    this.pruneFront(nowMs);
    if (!this.hasRoom(claim.owner)) this.pruneAll(nowMs);
    if (!this.hasRoom(claim.owner)) return "full";
    this.forget(claim.id);
    this.entries.set(claim.id, { expiresAtMs: nowMs + claim.ttlMs, ...claim.owner });
    increment(this.perNamespace, claim.owner.namespace);
    increment(this.perKey, claim.owner.accessKeyId);
    return "fresh";
  }

  private hasRoom(owner: ReplayClaim["owner"]): boolean {
    return (
      this.entries.size < this.limits.capacity &&
      (this.perNamespace.get(owner.namespace) ?? 0) < this.limits.perNamespace &&
      (this.perKey.get(owner.accessKeyId) ?? 0) < this.limits.perKey
    );
  }

  private forget(id: string): void {
    const entry = this.entries.get(id);
    if (entry === undefined) return;
    this.entries.delete(id);
    decrement(this.perNamespace, entry.namespace);
    decrement(this.perKey, entry.accessKeyId);
  }

  private pruneFront(nowMs: number): void {
    for (const [id, entry] of this.entries) {
      if (entry.expiresAtMs >= nowMs) return;
      this.forget(id);
    }
  }

  // Entries out of expiry order can hide behind a live one; a full sweep finds them, at most
  // once a second so a full quota does not cost a scan per request.
  private pruneAll(nowMs: number): void {
    if (nowMs - this.lastFullSweepMs < FULL_SWEEP_INTERVAL_MS) return;
    this.lastFullSweepMs = nowMs;
    for (const [id, entry] of this.entries) {
      if (entry.expiresAtMs < nowMs) this.forget(id);
    }
  }
}

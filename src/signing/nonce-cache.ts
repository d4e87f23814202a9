export type NonceVerdict = "fresh" | "replayed" | "full";

/** Remembers request nonces for as long as a replay of their request would still be accepted. */
export interface NonceStore {
  remember(id: string, expiresAtMs: number, nowMs: number): NonceVerdict;
}

const FULL_SWEEP_INTERVAL_MS = 1000;

/**
 * In-memory replay cache, bounded in size. When it is full of live nonces it answers "full"
 * rather than forgetting one, because a forgotten nonce could be replayed. Only requests whose
 * signature verified reach it, so filling it takes valid credentials.
 */
export class NonceCache implements NonceStore {
  // Insertion order is close to expiry order (expiry = request time + skew window), which lets
  // the common case prune from the front only.
  private readonly entries = new Map<string, number>();
  private lastFullSweepMs = Number.NEGATIVE_INFINITY;

  constructor(private readonly capacity = 200_000) {}

  get size(): number {
    return this.entries.size;
  }

  remember(id: string, expiresAtMs: number, nowMs: number): NonceVerdict {
    const seen = this.entries.get(id);
    if (seen !== undefined && seen >= nowMs) return "replayed";
    this.pruneFront(nowMs);
    if (this.entries.size >= this.capacity) this.pruneAll(nowMs);
    if (this.entries.size >= this.capacity) return "full";
    this.entries.delete(id);
    this.entries.set(id, expiresAtMs);
    return "fresh";
  }

  private pruneFront(nowMs: number): void {
    for (const [id, expiresAtMs] of this.entries) {
      if (expiresAtMs >= nowMs) return;
      this.entries.delete(id);
    }
  }

  // Entries out of expiry order can hide behind a live one; a full sweep finds them, at most
  // once a second so a full cache does not cost a scan per request.
  private pruneAll(nowMs: number): void {
    if (nowMs - this.lastFullSweepMs < FULL_SWEEP_INTERVAL_MS) return;
    this.lastFullSweepMs = nowMs;
    for (const [id, expiresAtMs] of this.entries) {
      if (expiresAtMs < nowMs) this.entries.delete(id);
    }
  }
}

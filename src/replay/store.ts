/**
 * What must be used once (an ACS3 signature nonce), claimed in a store every replica shares.
 * `id` is unique on its own; `owner` says whose quota the entry counts against.
 */
export interface ReplayClaim {
  readonly id: string;
  /** How long the claim must be remembered: until its request would be refused as too old anyway. */
  readonly ttlMs: number;
  readonly owner: { readonly namespace: string; readonly accessKeyId: string };
}

/**
 * fresh: first use, now remembered. replayed: seen within its lifetime. full: the owner's quota
 * (or the store) is full of live claims, and forgetting one would let it be replayed.
 * unavailable: the store could not answer; whoever asked must refuse, never guess.
 */
export type ReplayVerdict = "fresh" | "replayed" | "full" | "unavailable";

export interface ReplayStore {
  /** "memory" or "redis": for metrics and logs. */
  readonly kind: string;
  /** Never rejects: a failure is the verdict "unavailable". */
  claim(claim: ReplayClaim): Promise<ReplayVerdict>;
  /** Whether it can answer now: connected (always, in memory). */
  isUp(): boolean;
  /** Live entries held in this process; undefined when the store is elsewhere. */
  size(): number | undefined;
  close(): Promise<void>;
}

export interface BackoffOptions {
  /** Delay after the first failure. */
  baseMs: number;
  /** No delay exceeds this, however many failures came before. */
  capMs: number;
}

/** Exponential backoff with factor 2: base, 2·base, 4·base, … up to the cap. `attempt` starts at 1. */
export function backoffDelay(options: BackoffOptions, attempt: number): number {
  return Math.min(options.capMs, options.baseMs * 2 ** Math.max(attempt - 1, 0));
}

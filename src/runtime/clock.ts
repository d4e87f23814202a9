/**
 * Time as the runtime sees it. Injected so that tests can drive backoff, requeue-after and lease
 * expiry deterministically instead of sleeping.
 */
export interface Clock {
  now(): number;
  /** Runs `callback` after `ms` milliseconds; the returned function cancels it. */
  after(ms: number, callback: () => void): () => void;
}

// Looks the timer functions up at call time so that test fakes installed later still apply.
export const systemClock: Clock = {
  now: () => Date.now(),
  after: (ms, callback) => {
    const handle = setTimeout(callback, ms);
    return () => clearTimeout(handle);
  },
};

/** Resolves after `ms`, or at once when `signal` aborts, whichever comes first. */
export function sleep(clock: Clock, ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const wake = (): void => {
      cancel();
      signal.removeEventListener("abort", wake);
      resolve();
    };
    const cancel = clock.after(ms, wake);
    signal.addEventListener("abort", wake, { once: true });
  });
}

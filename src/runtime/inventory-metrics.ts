import { Gauge, Histogram, type Registry } from "prom-client";

/** What the operator holds at a scrape, counted from its caches. Counts only: never a key id or a secret. */
export interface Inventory {
  /**
   * Access keys by state (e.g. Active, Inactive, Recycled). Report every state, zeros included:
   * a state left out has no series until it comes back, and an alert on it sees nothing.
   */
  readonly accessKeys: Readonly<Record<string, number>>;
  /** Seconds since each Active access key was created. */
  readonly activeAccessKeyAgesSeconds: readonly number[];
  /** Access keys older than their account's maxKeyAge (condition Stale=True), of any state. */
  readonly staleAccessKeys: number;
  /** Temporary credentials issued and not yet expired. */
  readonly temporaryCredentialsLive: number;
  /** MFA devices bound (possession proved), of every type. */
  readonly mfaDevicesBound: number;
}

const DAY_SECONDS = 86_400;

/**
 * AWS advises rotating access keys every 90 days; the buckets around it let an alert count the
 * keys past 90 days (`_count` minus the 90-day bucket) and a dashboard show how far past.
 */
export const ACCESS_KEY_AGE_BUCKETS = [1, 7, 30, 90, 180, 365].map((days) => days * DAY_SECONDS);

/**
 * Reads the inventory once per scrape: prom-client runs every metric's collect in one turn of
 * the event loop, so the first caches it and a microtask forgets it before the next scrape.
 */
function oncePerScrape(read: () => Inventory): () => Inventory {
  let cached: Inventory | undefined;
  return () => {
    if (cached === undefined) {
      cached = read();
      queueMicrotask(() => {
        cached = undefined;
      });
    }
    return cached;
  };
}

/**
 * keygate's own gauges, set at scrape time from `inventory`. The age histogram is a snapshot,
 * rebuilt at every scrape: compare its buckets with its count, never take its rate().
 */
export function registerInventoryMetrics(registry: Registry, inventory: () => Inventory): void {
  const current = oncePerScrape(inventory);
  const registers = [registry];
  new Gauge({
    name: "keygate_access_keys",
    help: "AccessKeys by state.",
    labelNames: ["state"],
    registers,
    collect() {
      this.reset();
      for (const [state, count] of Object.entries(current().accessKeys)) this.set({ state }, count);
    },
  });
  new Histogram({
    name: "keygate_access_key_age_seconds",
    help: "Age of the Active access keys, counted afresh at every scrape (a snapshot, not a rate).",
    buckets: ACCESS_KEY_AGE_BUCKETS,
    registers,
    collect() {
      this.reset();
      // With no key at all the series stay, at zero, rather than vanish.
      this.zero({});
      for (const age of current().activeAccessKeyAgesSeconds) this.observe(age);
    },
  });
  new Gauge({
    name: "keygate_access_keys_stale",
    help: "AccessKeys older than their account's maxKeyAge (AccountPolicy), to be rotated.",
    registers,
    collect() {
      this.set(current().staleAccessKeys);
    },
  });
  new Gauge({
    name: "keygate_temporary_credentials_live",
    help: "TemporaryCredentials issued and not yet expired.",
    registers,
    collect() {
      this.set(current().temporaryCredentialsLive);
    },
  });
  new Gauge({
    name: "keygate_mfa_devices_bound",
    help: "MfaDevices bound, of every type.",
    registers,
    collect() {
      this.set(current().mfaDevicesBound);
    },
  });
}

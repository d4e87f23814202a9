import { Counter, Gauge, Histogram, Registry } from "prom-client";
import type { RecordState } from "../keystore/record.js";
import type { ReplayStore } from "../replay/store.js";
import { WebAuthnCode } from "../webauthn/ceremony.js";

export type Endpoint = "verify" | "forward-auth" | "owner" | "mfa" | "mfa-challenge";

export interface MetricSources {
  keyCounts(): Record<RecordState, number>;
  /** Live entries of an in-process replay store; undefined for a shared one. */
  replayCacheSize(): number | undefined;
  ready(): boolean;
}

// Sub-millisecond buckets: a verification is tens of microseconds of work, and the interesting
// tail is what the event loop adds under load.
const LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

// What each kind of MFA check can answer: valid, or a refusal code of a fixed set (never a value
// from the request), so that the series are few and each exists, at 0, from the start: the first
// cloned key or lockout is then an increase, which a series appearing at 1 would not be.
const MFA_RESULTS = {
  code: ["valid", "MfaDeviceNotFound", "InvalidCode", "CodeReused", "MfaLocked"],
  assertion: ["valid", "MfaDeviceNotFound", "MfaLocked", ...Object.values(WebAuthnCode)],
} as const;

/** A TOTP code of the virtual device, or a security key's assertion. */
export type MfaMethod = keyof typeof MFA_RESULTS;
export type MfaResult = (typeof MFA_RESULTS)[MfaMethod][number];

type AnswerLabels = { endpoint: Endpoint; scheme: string; code: string };

/** Answers counted since the counter was last read, per label set (a bounded set: endpoints × schemes × codes). */
interface PendingCount {
  readonly labels: AnswerLabels;
  count: number;
}

const ENDPOINT_LABELS: Record<Endpoint, { endpoint: Endpoint }> = {
  verify: { endpoint: "verify" },
  "forward-auth": { endpoint: "forward-auth" },
  owner: { endpoint: "owner" },
  mfa: { endpoint: "mfa" },
  "mfa-challenge": { endpoint: "mfa-challenge" },
};

/** The verifier's Prometheus metrics, in a registry of its own so that two verifiers in one process do not collide. */
export class VerifierMetrics {
  readonly registry = new Registry();
  private readonly verifications: Counter<"endpoint" | "scheme" | "code">;
  private readonly latency: Histogram<"endpoint">;
  private readonly replayClaims: Counter<"store" | "verdict">;
  private readonly mfaChecks: Counter<"method" | "result">;
  // Counted on the request path as a plain number; added to the counter whenever it is read.
  private readonly pending = new Map<string, PendingCount>();

  constructor(sources: MetricSources) {
    const registers = [this.registry];
    const pending = this.pending;
    this.verifications = new Counter({
      name: "keygate_verifier_verifications_total",
      help: "Verification answers by endpoint, signature scheme (none when unrecognised) and result code (Allowed or the denial code).",
      labelNames: ["endpoint", "scheme", "code"],
      registers,
      collect() {
        for (const entry of pending.values()) {
          if (entry.count === 0) continue;
          this.inc(entry.labels, entry.count);
          entry.count = 0;
        }
      },
    });
    this.latency = new Histogram({
      name: "keygate_verifier_verification_duration_seconds",
      help: "Time from a verification request's arrival to its answer.",
      labelNames: ["endpoint"],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    new Gauge({
      name: "keygate_verifier_index_keys",
      help: "Keystore records in the verifier's in-memory index, by state.",
      labelNames: ["state"],
      registers,
      collect() {
        for (const [state, count] of Object.entries(sources.keyCounts())) this.set({ state }, count);
      },
    });
    this.replayClaims = new Counter({
      name: "keygate_verifier_replay_claims_total",
      help: "Nonce claims by replay store (memory or redis) and verdict (fresh, replayed, full, unavailable).",
      labelNames: ["store", "verdict"],
      registers,
    });
    new Gauge({
      name: "keygate_verifier_replay_cache_entries",
      help: "Signature nonces remembered in this process to refuse replays (0 with a shared replay store).",
      registers,
      collect() {
        this.set(sources.replayCacheSize() ?? 0);
      },
    });
    this.mfaChecks = new Counter({
      name: "keygate_verifier_mfa_checks_total",
      help: "MFA checks answered by /v1/mfa/verify, by method (code or assertion) and result (valid or the refusal code).",
      labelNames: ["method", "result"],
      registers,
    });
    for (const [method, results] of Object.entries(MFA_RESULTS)) for (const result of results) this.mfaChecks.inc({ method, result }, 0);
    new Gauge({
      name: "keygate_verifier_index_ready",
      help: "1 once the key index has synced, 0 before.",
      registers,
      collect() {
        this.set(sources.ready() ? 1 : 0);
      },
    });
  }

  /** Scheme and code come from fixed sets (schemeOf, the denial and error codes), so the pending entries stay few. */
  observe(endpoint: Endpoint, scheme: string, code: string, seconds: number): void {
    const key = `${endpoint}\n${scheme}\n${code}`;
    const entry = this.pending.get(key);
    if (entry) entry.count++;
    else this.pending.set(key, { labels: { endpoint, scheme, code }, count: 1 });
    this.latency.observe(ENDPOINT_LABELS[endpoint], seconds);
  }

  /** An MFA check answered: its method, and whether it was valid or the refusal's code. */
  mfaChecked(method: MfaMethod, result: MfaResult): void {
    this.mfaChecks.inc({ method, result });
  }

  /** The store, with each verdict counted, and whether it is up reported. Once per store. */
  counted(store: ReplayStore): ReplayStore {
    const claims = this.replayClaims;
    new Gauge({
      name: "keygate_verifier_replay_store_up",
      help: "1 while the replay store can answer (always for memory); while 0, ACS3 requests are refused.",
      labelNames: ["store"],
      registers: [this.registry],
      collect() {
        this.set({ store: store.kind }, store.isUp() ? 1 : 0);
      },
    });
    return {
      kind: store.kind,
      claim: async (claim) => {
        const verdict = await store.claim(claim);
        claims.inc({ store: store.kind, verdict });
        return verdict;
      },
      isUp: () => store.isUp(),
      size: () => store.size(),
      close: () => store.close(),
    };
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type Clock, systemClock } from "../runtime/clock.js";
import { openReplayStore, type ReplayStoreSpec } from "../replay/config.js";
import type { ReplayStore } from "../replay/store.js";
import { KeyIndex } from "./index.js";
import { type Networks, parseNetworks } from "./ip.js";
import type { OwnerLookupScope } from "./owner-lookup.js";
import { type Flush, LastUsedBatcher } from "./last-used.js";
import { statusFlush } from "./last-used-patch.js";
import { VerifierMetrics } from "./metrics.js";
import { MfaChecker } from "../otp/checker.js";
import { MfaRecordStore } from "../keystore/mfa-store.js";
import { AssertionChecker } from "../webauthn/checker.js";
import { DEFAULT_RELYING_PARTY, type RelyingParty } from "../webauthn/relying-party.js";
import { flagClonedDevice } from "../webauthn/clone-flag.js";
import { createVerifierServer, DEFAULT_SERVER_LIMITS, type ServerLimits } from "./server.js";
import { DEFAULT_POLICY, Verification, type VerificationPolicy } from "./verification.js";
import type { WorkerLink } from "./worker-link.js";

export interface VerifierOptions {
  readonly kc: k8s.KubeConfig;
  /** Where the keystore records and the KEK live. */
  readonly operatorNamespace: string;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** CIDRs (or addresses) of proxies whose X-Forwarded-For is believed; gateways using forward-auth belong here. */
  readonly trustedProxies: readonly string[];
  /** CIDRs (or addresses) of callers whose `sourceIp` in /v1/verify is believed. */
  readonly trustedCallers: readonly string[];
  /** Each AccessKey's status.lastUsed is written at most once per this interval. */
  readonly lastUsedFlushMs: number;
  readonly log: Logger;
  readonly clock?: Clock;
  /** Largest request body read or described (default 8 MiB). */
  readonly maxBodyBytes?: number;
  /** Where used nonces are remembered (default: this process, which is right for one replica only). */
  readonly replayStore?: ReplayStoreSpec;
  /** Services whose requests may sign UNSIGNED-PAYLOAD (default: s3; `*` for any). */
  readonly unsignedPayloadServices?: readonly string[];
  /** Who may look up a key's owner: any caller with a live key (cluster, the default) or one of its namespace. */
  readonly ownerLookupScope?: OwnerLookupScope;
  /** Who keygate is to security keys (default: localhost, any port). */
  readonly relyingParty?: RelyingParty;
  /** Header sizes and counts, open connections and timeouts (defaults: DEFAULT_SERVER_LIMITS). */
  readonly limits?: Partial<ServerLimits>;
  /**
   * On stop, how long to keep answering while /readyz says 503 (default 0): until load balancers,
   * kube-proxy and gateways have stopped sending here, so that a rolling update fails no request.
   */
  readonly shutdownDelayMs?: number;
  /**
   * Set in a worker of `keygate verifier --workers N`: the in-memory replay store, last-used
   * writes, readiness and metrics are the Pod's, through its primary (src/verifier/workers.ts).
   */
  readonly worker?: WorkerLink;
}

export interface RunningVerifier {
  readonly url: string;
  readonly port: number;
  /** Resolves once the key index has synced (rejects if stopped first). */
  ready(): Promise<void>;
  isReady(): boolean;
  stop(): Promise<void>;
}

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

export class VerifierConfigError extends Error {
  readonly code = "KG_ERR_VERIFIER_CONFIG";

  constructor(message: string) {
    super(message);
    this.name = "VerifierConfigError";
  }
}

function networks(option: string, entries: readonly string[]): Networks {
  const parsed = parseNetworks(entries);
  if (!parsed.ok) throw new VerifierConfigError(`${option}: ${JSON.stringify(parsed.entry)} is not an IP address or CIDR`);
  return parsed.networks;
}

function positive(option: string, value: number): number {
  if (!Number.isSafeInteger(value) || value <= 0) throw new VerifierConfigError(`${option} must be a positive integer`);
  return value;
}

/** Each limit a positive integer, and the headers due no later than the whole request. */
function serverLimits(overrides: Partial<ServerLimits> = {}): ServerLimits {
  const limits = { ...DEFAULT_SERVER_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) positive(`limits.${name}`, value);
  if (limits.headersTimeoutMs > limits.requestTimeoutMs) throw new VerifierConfigError("limits.headersTimeoutMs must not exceed limits.requestTimeoutMs");
  return limits;
}

function policyOf(options: VerifierOptions): VerificationPolicy {
  const services = options.unsignedPayloadServices;
  return services === undefined ? DEFAULT_POLICY : { unsignedPayloadServices: new Set(services) };
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => {
      server.off("error", reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

// After the drain, requests in flight get this long to finish; a client still sending slowly then
// is cut off, so that the process ends well within a Pod's termination grace period.
const CLOSE_GRACE_MS = 5_000;

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => {
      clearTimeout(cutOff);
      resolve();
    });
    server.closeIdleConnections();
    const cutOff = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
  });
}

// A worker hands its last uses to the primary at most this often per key; the primary writes them
// at most once per lastUsedFlushMs, so a use shows at most this much later than with one process.
const WORKER_RELAY_MS = 1_000;

/** What one process holds, or, in a worker of a Pod, what goes through the primary. */
function shared(options: VerifierOptions, index: KeyIndex, clock: Clock): { replay: ReplayStore; flush: Flush; relayMs: number } {
  const spec = options.replayStore ?? { kind: "memory" };
  const link = options.worker;
  if (link === undefined) {
    return { replay: openReplayStore(spec, () => clock.now(), options.log), flush: statusFlush(options.kc.makeApiClient(k8s.CustomObjectsApi), index), relayMs: options.lastUsedFlushMs };
  }
  const replay = spec.kind === "memory" ? link.replayStore() : openReplayStore(spec, () => clock.now(), options.log);
  return { replay, flush: link.lastUsedFlush(index), relayMs: Math.min(options.lastUsedFlushMs, WORKER_RELAY_MS) };
}

/**
 * Starts the verification service: the key index (watches), the HTTP API, and last-used
 * batching. It answers /healthz at once and /readyz once the index has synced; until then
 * verification requests are refused with ServiceUnavailable.
 */
export async function startVerifier(options: VerifierOptions): Promise<RunningVerifier> {
  const trustedProxies = networks("trustedProxies", options.trustedProxies);
  const trustedCallers = networks("trustedCallers", options.trustedCallers);
  const intervalMs = positive("lastUsedFlushMs", options.lastUsedFlushMs);
  const maxBodyBytes = positive("maxBodyBytes", options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES);
  const limits = serverLimits(options.limits);
  const { kc, log } = options;
  const clock = options.clock ?? systemClock;
  const now = (): Date => new Date(clock.now());
  const index = new KeyIndex({ kc, operatorNamespace: options.operatorNamespace, log, clock });
  const { replay, flush, relayMs } = shared({ ...options, lastUsedFlushMs: intervalMs }, index, clock);
  const lastUsed = new LastUsedBatcher({ intervalMs: relayMs, clock, flush, log });
  const link = options.worker;
  let draining = false;
  const ready = (): boolean => index.isReady && !draining && (link?.podReady() ?? true);
  const sources = { keyCounts: () => index.counts(), replayCacheSize: () => replay.size(), ready };
  const metrics = link ? link.metrics(sources) : new VerifierMetrics(sources);
  const records = new MfaRecordStore(kc.makeApiClient(k8s.CoreV1Api), options.operatorNamespace);
  const mfa = new MfaChecker({ records, keks: () => index.kekSet(), now, log });
  const securityKeys = new AssertionChecker({
    records,
    keks: () => index.kekSet(),
    rp: options.relyingParty ?? DEFAULT_RELYING_PARTY,
    now,
    log,
    onCloneSuspected: flagClonedDevice(kc.makeApiClient(k8s.CustomObjectsApi), log),
  });
  const server = createVerifierServer({
    verification: new Verification(index, metrics.counted(replay), now, policyOf(options)),
    mfa,
    securityKeys,
    owners: index,
    ownerLookupScope: options.ownerLookupScope,
    ready,
    draining: () => draining,
    metrics,
    lastUsed,
    trustedProxies,
    trustedCallers,
    maxBodyBytes,
    limits,
    now,
    log,
  });
  const port = await listen(server, options.port, options.host).catch(async (error: unknown) => {
    await index.stop();
    await replay.close();
    throw error;
  });
  const url = `http://${options.host.includes(":") ? `[${options.host}]` : options.host}:${port}`;
  log.info({ url, replayStore: replay.kind }, "verifier listening");
  if (link) index.ready().then(() => link.reportReady(), () => undefined);
  return {
    url,
    port,
    ready: () => index.ready(),
    isReady: () => index.isReady,
    stop: async () => {
      const delayMs = options.shutdownDelayMs ?? 0;
      if (delayMs > 0) {
        draining = true;
        log.info({ delayMs }, "draining: not ready, still answering, until the delay ends");
        await sleep(delayMs);
      }
      await close(server);
      await lastUsed.stop();
      await index.stop();
      await replay.close();
    },
  };
}

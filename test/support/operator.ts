import { randomBytes } from "node:crypto";
import * as k8s from "@kubernetes/client-node";
import { type Logger, pino } from "pino";
import { REDACTED_PATHS } from "../../src/log.js";
import type { Clock } from "../../src/runtime/clock.js";
import { type RunningOperator, startOperator } from "../../src/operator/operator.js";
import { type RunningVerifier, startVerifier } from "../../src/verifier/verifier.js";
import type { OwnerLookupScope } from "../../src/verifier/owner-lookup.js";
import { kubeConfig } from "./cluster.js";
import { LogCapture } from "./log-capture.js";
import type { ReplayStoreSpec } from "../../src/replay/config.js";
import type { RelyingParty } from "../../src/webauthn/relying-party.js";

export interface TestOperator {
  operator: RunningOperator;
  namespace: string;
  logs: LogCapture;
  /** The logger writing into `logs`, for components started beside the operator. */
  log: Logger;
  clock: OffsetClock;
  /** Moves the operator's clock forward, for retention and expiry tests. */
  advance(ms: number): void;
}

/**
 * Starts the operator in this process, as `keygate operator` would, with its own operator
 * namespace and a clock the test can move; its webhook is served on 127.0.0.1 and registered
 * with the real API server.
 */
export interface TestOperatorOptions {
  retentionMs?: number;
  /** Join an existing operator namespace (a second replica) instead of creating one. */
  namespace?: string;
  identity?: string;
  leaderElection?: boolean;
  /** Share one movable clock between operators (a restart) and a verifier. */
  clock?: OffsetClock;
  sessionRetentionMs?: number;
  /** Serve the webhook with the certificate mounted here instead of a self-managed one. */
  webhookCertDir?: string;
  /** Prefixes removed from usernames before they are read as keygate users. */
  stripUsernamePrefixes?: string[];
  /** Who keygate is to security keys (default: localhost, any port). */
  relyingParty?: RelyingParty;
}

/** Real time plus an offset a test moves forward; timers still run in real time. */
export class OffsetClock implements Clock {
  private offset = 0;
  now(): number {
    return Date.now() + this.offset;
  }
  after(ms: number, callback: () => void): () => void {
    const handle = setTimeout(callback, ms);
    return () => clearTimeout(handle);
  }
  advance(ms: number): void {
    this.offset += ms;
  }
}

export async function createOperatorNamespace(): Promise<string> {
  const namespace = `keygate-system-${randomBytes(3).toString("hex")}`;
  await kubeConfig().makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: namespace } } });
  return namespace;
}

export async function startTestOperator(options: TestOperatorOptions = {}): Promise<TestOperator> {
  const kc = kubeConfig();
  const namespace = options.namespace ?? (await createOperatorNamespace());
  const logs = new LogCapture();
  const log = capturingLogger(logs);
  const clock = options.clock ?? new OffsetClock();
  const operator = await startOperator({
    kc,
    namespace,
    identity: options.identity ?? `test-${process.pid}`,
    webhook: { host: "127.0.0.1", port: 0, publicHost: "127.0.0.1", certDir: options.webhookCertDir },
    metrics: { host: "127.0.0.1", port: 0 },
    recycleRetentionMs: options.retentionMs ?? 30 * 24 * 60 * 60 * 1000,
    leaderElection: options.leaderElection ?? false,
    sessionRetentionMs: options.sessionRetentionMs,
    userMapping: { stripPrefixes: options.stripUsernamePrefixes ?? [] },
    relyingParty: options.relyingParty,
    clock,
    log,
  });
  return { operator, namespace, logs, log, clock, advance: (ms) => clock.advance(ms) };
}

export interface TestVerifierOptions {
  /** Believe X-Forwarded-For and sourceIp from loopback callers. */
  trustLoopback?: boolean;
  lastUsedFlushMs?: number;
  clock?: Clock;
  log?: Logger;
  /** Default: in memory, as a single replica runs it. */
  replayStore?: ReplayStoreSpec;
  ownerLookupScope?: OwnerLookupScope;
  /** Who keygate is to security keys (default: localhost, any port). */
  relyingParty?: RelyingParty;
}

/** The verifier as `keygate operator` runs it, in this process, on a free loopback port, ready. */
export async function startTestVerifier(operatorNamespace: string, options: TestVerifierOptions = {}): Promise<RunningVerifier> {
  const trusted = options.trustLoopback ? ["127.0.0.1"] : [];
  const verifier = await startVerifier({
    kc: kubeConfig(),
    operatorNamespace,
    host: "127.0.0.1",
    port: 0,
    trustedProxies: trusted,
    trustedCallers: trusted,
    lastUsedFlushMs: options.lastUsedFlushMs ?? 60_000,
    log: options.log ?? pino({ level: "silent" }),
    clock: options.clock,
    replayStore: options.replayStore,
    ownerLookupScope: options.ownerLookupScope,
    relyingParty: options.relyingParty,
  });
  await verifier.ready();
  return verifier;
}

/** A debug logger into a capture, with the product's redaction, for scanning what was logged. */
export function capturingLogger(capture: LogCapture): Logger {
  return pino({ level: "debug", redact: { paths: REDACTED_PATHS, censor: "[redacted]" } }, capture);
}

import { readFileSync } from "node:fs";
import { hostname } from "node:os";
import * as k8s from "@kubernetes/client-node";
import { parseDuration } from "../duration.js";
import { createLogger } from "../log.js";
import { loadKubeConfig } from "../runtime/kubeconfig.js";
import { type RunningOperator, startOperator } from "../operator/operator.js";
import { DEFAULT_RELYING_PARTY, type RelyingParty, relyingPartyProblem } from "../webauthn/relying-party.js";
import { DEFAULT_MEMORY_LIMITS } from "../replay/memory.js";
import { DEFAULT_KEY_PREFIX, parseReplayStoreLocation, type ReplayStoreSpec } from "../replay/config.js";
import { isOwnerLookupScope, OWNER_LOOKUP_SCOPES, type OwnerLookupScope } from "../verifier/owner-lookup.js";
import { DEFAULT_SERVER_LIMITS } from "../verifier/server.js";
import { statusFlush } from "../verifier/last-used-patch.js";
import { DEFAULT_MAX_BODY_BYTES, type RunningVerifier, startVerifier } from "../verifier/verifier.js";
import type { WorkerLink } from "../verifier/worker-link.js";
import { defaultWorkers, type RunningPod, startVerifierPod } from "../verifier/workers.js";

export interface OperatorCommandOptions {
  kubeconfig?: string;
  webauthnRpId: string;
  webauthnRpName: string;
  webauthnOrigins: string;
  namespace: string;
  identity: string;
  webhookHost: string;
  webhookPort: string;
  webhookService?: string;
  webhookServicePort: string;
  webhookPublicHost?: string;
  webhookCertDir?: string;
  recycleRetention: string;
  maxSessionDuration: string;
  sessionRetention: string;
  stripUsernamePrefixes: string;
  leaderElection: boolean;
  metricsHost: string;
  metricsPort: string;
}

export interface VerifierCommandOptions {
  kubeconfig?: string;
  namespace: string;
  verifierHost: string;
  verifierPort: string;
  trustedProxies: string;
  trustedCallers: string;
  lastUsedInterval: string;
  replayStore: string;
  replayStorePasswordFile?: string;
  replayStoreCaFile?: string;
  replayStoreKeyPrefix: string;
  nonceCapacity: string;
  nonceQuotaPerNamespace: string;
  nonceQuotaPerKey: string;
  unsignedPayloadServices: string;
  maxBodyBytes: string;
  maxHeaderBytes: string;
  maxHeaderCount: string;
  maxConnections: string;
  headerTimeout: string;
  requestTimeout: string;
  shutdownDelay: string;
  ownerLookupScope: string;
  webauthnRpId: string;
  webauthnRpName: string;
  webauthnOrigins: string;
  /** `keygate verifier` only: worker processes (default: the container's CPU limit). */
  workers?: string;
}

/** Read from the environment, never from a flag: a flag's value shows in `ps` and in the pod spec. */
export const REPLAY_STORE_PASSWORD_ENV = "KEYGATE_REPLAY_STORE_PASSWORD";

export const OPERATOR_DEFAULTS = {
  namespace: process.env.POD_NAMESPACE ?? "keygate-system",
  identity: process.env.POD_NAME ?? hostname(),
  webhookHost: "0.0.0.0",
  webhookPort: "9443",
  webhookServicePort: "443",
  recycleRetention: "30d",
  maxSessionDuration: "24h",
  sessionRetention: "1h",
  stripUsernamePrefixes: "",
  metricsHost: "127.0.0.1",
  metricsPort: "8081",
  verifierHost: "0.0.0.0",
  verifierPort: "8080",
  trustedProxies: "",
  trustedCallers: "",
  lastUsedInterval: "60s",
  replayStore: "memory",
  replayStoreKeyPrefix: DEFAULT_KEY_PREFIX,
  nonceCapacity: String(DEFAULT_MEMORY_LIMITS.capacity),
  nonceQuotaPerNamespace: String(DEFAULT_MEMORY_LIMITS.perNamespace),
  nonceQuotaPerKey: String(DEFAULT_MEMORY_LIMITS.perKey),
  unsignedPayloadServices: "s3",
  maxBodyBytes: String(DEFAULT_MAX_BODY_BYTES),
  maxHeaderBytes: String(DEFAULT_SERVER_LIMITS.maxHeaderBytes),
  maxHeaderCount: String(DEFAULT_SERVER_LIMITS.maxHeaderCount),
  maxConnections: String(DEFAULT_SERVER_LIMITS.maxConnections),
  headerTimeout: `${DEFAULT_SERVER_LIMITS.headersTimeoutMs / 1000}s`,
  requestTimeout: `${DEFAULT_SERVER_LIMITS.requestTimeoutMs / 1000}s`,
  // Longer than an endpoint removal takes to reach kube-proxy and gateways on a busy cluster;
  // shorter than the chart's terminationGracePeriodSeconds (30).
  shutdownDelay: "5s",
  ownerLookupScope: "cluster",
  webauthnRpId: DEFAULT_RELYING_PARTY.id,
  webauthnRpName: DEFAULT_RELYING_PARTY.name,
  webauthnOrigins: DEFAULT_RELYING_PARTY.origins.join(","),
};

function list(text: string): string[] {
  return text
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
}

/** --workers, or the container's CPU limit when it is not given. */
export function workerCount(options: VerifierCommandOptions, fallback: () => number = defaultWorkers): number {
  return options.workers === undefined ? fallback() : count(options.workers, "--workers");
}

// After its --shutdown-delay a worker closes its server (5 s at most for requests in flight) and
// writes what it still holds; past this margin too, the primary kills it.
const WORKER_STOP_MARGIN_MS = 10_000;

/** The primary of `keygate verifier --workers N`: forks the workers, which run this program again. */
export function startVerifierPodFromOptions(options: VerifierCommandOptions, workers: number, onCrashLoop: (message: string) => void): RunningPod {
  const kc = loadKubeConfig(options.kubeconfig);
  return startVerifierPod({
    workers,
    replayStore: replayStoreSpec(options),
    lastUsedFlushMs: parseDuration(options.lastUsedInterval, "--last-used-interval"),
    writeLastUse: (shown) => statusFlush(kc.makeApiClient(k8s.CustomObjectsApi), shown),
    stopTimeoutMs: parseDuration(options.shutdownDelay, "--shutdown-delay") + WORKER_STOP_MARGIN_MS,
    log: createLogger(),
    onCrashLoop,
  });
}

export function runVerifierFromOptions(options: VerifierCommandOptions, worker?: WorkerLink): Promise<RunningVerifier> {
  return startVerifier({
    kc: loadKubeConfig(options.kubeconfig),
    operatorNamespace: options.namespace,
    host: options.verifierHost,
    port: port(options.verifierPort, "--verifier-port"),
    trustedProxies: list(options.trustedProxies),
    trustedCallers: list(options.trustedCallers),
    lastUsedFlushMs: parseDuration(options.lastUsedInterval, "--last-used-interval"),
    replayStore: replayStoreSpec(options),
    unsignedPayloadServices: list(options.unsignedPayloadServices),
    maxBodyBytes: count(options.maxBodyBytes, "--max-body-bytes"),
    limits: {
      maxHeaderBytes: count(options.maxHeaderBytes, "--max-header-bytes"),
      maxHeaderCount: count(options.maxHeaderCount, "--max-header-count"),
      maxConnections: count(options.maxConnections, "--max-connections"),
      headersTimeoutMs: parseDuration(options.headerTimeout, "--header-timeout"),
      requestTimeoutMs: parseDuration(options.requestTimeout, "--request-timeout"),
    },
    shutdownDelayMs: parseDuration(options.shutdownDelay, "--shutdown-delay"),
    ownerLookupScope: ownerLookupScope(options.ownerLookupScope),
    relyingParty: relyingParty(options),
    log: createLogger(),
    worker,
  });
}

/** The flags' relying party, refused at start when a browser could never complete a ceremony with it. */
export function relyingParty(options: Pick<VerifierCommandOptions, "webauthnRpId" | "webauthnRpName" | "webauthnOrigins">): RelyingParty {
  const rp: RelyingParty = { id: options.webauthnRpId, name: options.webauthnRpName, origins: list(options.webauthnOrigins) };
  const problem = relyingPartyProblem(rp);
  if (problem) throw new Error(`--webauthn-rp-id/--webauthn-origins: ${problem}`);
  return rp;
}

function ownerLookupScope(text: string): OwnerLookupScope {
  if (!isOwnerLookupScope(text)) throw new Error(`--owner-lookup-scope: "${text}" is not one of ${OWNER_LOOKUP_SCOPES.join(", ")}`);
  return text;
}

function count(text: string, field: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value <= 0) throw new Error(`${field}: "${text}" is not a positive integer`);
  return value;
}

/** A file's content without the line break an editor or `kubectl create secret --from-file` leaves. */
function secretFile(path: string): string {
  return readFileSync(path, "utf8").replace(/\r?\n$/, "");
}

export function replayStoreSpec(options: VerifierCommandOptions, env: NodeJS.ProcessEnv = process.env): ReplayStoreSpec {
  const location = parseReplayStoreLocation(options.replayStore);
  const quotas = {
    perNamespace: count(options.nonceQuotaPerNamespace, "--nonce-quota-per-namespace"),
    perKey: count(options.nonceQuotaPerKey, "--nonce-quota-per-key"),
  };
  if (location.kind === "memory") return { kind: "memory", limits: { capacity: count(options.nonceCapacity, "--nonce-capacity"), ...quotas } };
  const password = options.replayStorePasswordFile ? secretFile(options.replayStorePasswordFile) : env[REPLAY_STORE_PASSWORD_ENV];
  return {
    kind: "redis",
    url: location.url,
    password: password === "" ? undefined : password,
    tlsCa: options.replayStoreCaFile ? readFileSync(options.replayStoreCaFile) : undefined,
    keyPrefix: options.replayStoreKeyPrefix,
    quotas,
  };
}

function port(text: string, field: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65535) throw new Error(`${field}: "${text}" is not a port (0-65535)`);
  return value;
}

// Fault injection for the crash-safety test: dies the hard way right after a keystore write, for
// a key of KEYGATE_FAULT_NAMESPACE only when that is set (other tests' keys may be reconciled too).
function faultHook(): ((namespace: string) => void) | undefined {
  if (process.env.KEYGATE_FAULT !== "after-record-write") return undefined;
  const only = process.env.KEYGATE_FAULT_NAMESPACE;
  return (namespace) => {
    if (only === undefined || namespace === only) process.kill(process.pid, "SIGKILL");
  };
}

export function runOperatorFromOptions(options: OperatorCommandOptions): Promise<RunningOperator> {
  const webhookPort = port(options.webhookPort, "--webhook-port");
  return startOperator({
    kc: loadKubeConfig(options.kubeconfig),
    namespace: options.namespace,
    identity: options.identity,
    webhook: {
      host: options.webhookHost,
      port: webhookPort,
      publicHost: options.webhookPublicHost,
      service: options.webhookService
        ? { name: options.webhookService, port: port(options.webhookServicePort, "--webhook-service-port") }
        : undefined,
      certDir: options.webhookCertDir,
    },
    recycleRetentionMs: parseDuration(options.recycleRetention, "--recycle-retention"),
    maxSessionSeconds: parseDuration(options.maxSessionDuration, "--max-session-duration") / 1000,
    sessionRetentionMs: parseDuration(options.sessionRetention, "--session-retention"),
    userMapping: { stripPrefixes: list(options.stripUsernamePrefixes) },
    relyingParty: relyingParty(options),
    leaderElection: options.leaderElection,
    metrics: { host: options.metricsHost, port: port(options.metricsPort, "--metrics-port") },
    log: createLogger(),
    afterRecordWrite: faultHook(),
  });
}

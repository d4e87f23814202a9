import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ensureControlPlaneBinaries } from "../controlplane/binaries.js";
import { type ControlPlane, startControlPlane } from "../controlplane/harness.js";
import { applyCrds } from "../controlplane/kubectl.js";
import * as k8s from "@kubernetes/client-node";
import { createLogger } from "../log.js";
import { PooledKubeConfig } from "../runtime/kubeconfig.js";
import { type RunningOperator, startOperator } from "../operator/operator.js";
import { CRDS_DIR } from "../paths.js";
import { startVerifier } from "../verifier/verifier.js";
import { type LocalRedis, startLocalRedis } from "./redis.js";
import { startVerifierProcess } from "./verifiers.js";

export const DEV_OPERATOR_NAMESPACE = "keygate-system";
const RECYCLE_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** The operator as `keygate operator` runs it, in this process, its webhook on loopback. */
async function startDevOperator(kubeconfigPath: string): Promise<RunningOperator> {
  const kc = new PooledKubeConfig();
  kc.loadFromFile(kubeconfigPath);
  await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: DEV_OPERATOR_NAMESPACE } } });
  return startOperator({
    kc,
    namespace: DEV_OPERATOR_NAMESPACE,
    identity: "keygate-dev",
    webhook: { host: "127.0.0.1", port: 0, publicHost: "127.0.0.1" },
    metrics: { host: "127.0.0.1", port: 0 },
    recycleRetentionMs: RECYCLE_RETENTION_MS,
    leaderElection: true,
    log: createLogger(),
  });
}

/** A running verifier, in this process or in one of its own. */
interface DevVerifier {
  readonly url: string;
  stop(): Promise<void>;
}

async function startDevVerifier(kubeconfigPath: string): Promise<DevVerifier> {
  const kc = new PooledKubeConfig();
  kc.loadFromFile(kubeconfigPath);
  const verifier = await startVerifier({
    kc,
    operatorNamespace: DEV_OPERATOR_NAMESPACE,
    host: "127.0.0.1",
    port: 0,
    trustedProxies: [],
    trustedCallers: [],
    lastUsedFlushMs: 5_000,
    log: createLogger(),
  });
  await verifier.ready();
  return verifier;
}

/** The verifiers and what they share: one in this process, or several processes and a local Redis. */
interface DevVerifiers {
  readonly urls: string[];
  stop(): Promise<void>;
}

async function stopAll(verifiers: readonly DevVerifier[], redis: LocalRedis | undefined): Promise<void> {
  await Promise.all(verifiers.map((verifier) => verifier.stop()));
  await redis?.stop();
}

/**
 * Replicas must share their replay state (an ACS3 request replayed to another replica is still a
 * replay), so more than one verifier means a Redis on loopback and one process per replica.
 */
async function startDevVerifiers(stateDir: string, kubeconfig: string, replicas: number, progress: (message: string) => void): Promise<DevVerifiers> {
  if (replicas === 1) {
    const verifier = await startDevVerifier(kubeconfig);
    return { urls: [verifier.url], stop: () => verifier.stop() };
  }
  const redis = await startLocalRedis({ logFile: join(stateDir, "redis.log") });
  progress(`replay store: redis-server on ${redis.url}`);
  const started: DevVerifier[] = [];
  try {
    for (let index = 1; index <= replicas; index++) {
      started.push(await startVerifierProcess({ kubeconfig, operatorNamespace: DEV_OPERATOR_NAMESPACE, replayStore: redis.url, stateDir, index }));
    }
  } catch (error) {
    await stopAll(started, redis);
    throw error;
  }
  return { urls: started.map((verifier) => verifier.url), stop: () => stopAll(started, redis) };
}

export interface DevOptions {
  stateDir: string;
  progress: (message: string) => void;
  /** Verifier replicas (default 1); more than one share a local Redis as their replay store. */
  verifierReplicas?: number;
}

export interface DevInfo {
  kubeconfig: string;
  apiServer: string;
  /** The first of verifierUrls. */
  verifierUrl?: string;
  verifierUrls?: string[];
  /** The operator's controller metrics (controller-runtime's names). */
  operatorMetricsUrl?: string;
  pid: number;
}

export interface DevEnvironment {
  info: DevInfo;
  controlPlane: ControlPlane;
  stop(): Promise<void>;
}

/**
 * Brings up everything `keygate dev` offers and writes dev.json last, so that a file watcher can
 * take its presence as "ready".
 */
export async function startDev(options: DevOptions): Promise<DevEnvironment> {
  const stateDir = resolve(options.stateDir);
  const devJson = join(stateDir, "dev.json");
  await mkdir(stateDir, { recursive: true });
  await rm(devJson, { force: true });
  const binaries = await ensureControlPlaneBinaries({ progress: options.progress });
  const controlPlane = await startControlPlane({ stateDir, binaries, progress: options.progress });
  let operator: RunningOperator | undefined;
  let verifiers: DevVerifiers | undefined;
  try {
    const applied = await applyCrds(binaries, controlPlane.kubeconfigPath, CRDS_DIR);
    options.progress(`applied ${applied.length} CRD manifest(s) from ${CRDS_DIR}`);
    operator = await startDevOperator(controlPlane.kubeconfigPath);
    options.progress(`operator running, admission webhook on https://127.0.0.1:${operator.webhookPort}`);
    verifiers = await startDevVerifiers(stateDir, controlPlane.kubeconfigPath, options.verifierReplicas ?? 1, options.progress);
    options.progress(`verifier ready at ${verifiers.urls.join(", ")}`);
  } catch (error) {
    await verifiers?.stop();
    await operator?.stop();
    await controlPlane.stop();
    throw error;
  }
  const running = { operator, verifiers };
  const info: DevInfo = {
    kubeconfig: controlPlane.kubeconfigPath,
    apiServer: controlPlane.apiServerUrl,
    verifierUrl: running.verifiers.urls[0],
    verifierUrls: running.verifiers.urls,
    operatorMetricsUrl: `http://127.0.0.1:${running.operator.metricsPort ?? 0}/metrics`,
    pid: process.pid,
  };
  await writeFile(devJson, `${JSON.stringify(info, null, 2)}\n`);
  const stop = async (): Promise<void> => {
    await rm(devJson, { force: true });
    await running.verifiers.stop();
    await running.operator.stop();
    await controlPlane.stop();
  };
  return { info, controlPlane, stop };
}

export function howTo(env: DevEnvironment): string {
  const kubectl = env.controlPlane.binaries.path("kubectl");
  return [
    "keygate dev is ready.",
    `  API server:  ${env.info.apiServer}`,
    `  kubeconfig:  ${env.info.kubeconfig}`,
    `  verifier:    ${(env.info.verifierUrls ?? []).join(", ")}`,
    `  operator metrics: ${env.info.operatorMetricsUrl ?? ""}`,
    "Try:",
    `  ${kubectl} --kubeconfig ${env.info.kubeconfig} version`,
    `  ${kubectl} --kubeconfig ${env.info.kubeconfig} get crds`,
    "Press Ctrl-C to stop; everything started here is torn down.",
  ].join("\n");
}

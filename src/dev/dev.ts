import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { ensureControlPlaneBinaries } from "../controlplane/binaries.js";
import { type ControlPlane, startControlPlane } from "../controlplane/harness.js";
import { applyCrds } from "../controlplane/kubectl.js";
import * as k8s from "@kubernetes/client-node";
import { createLogger } from "../log.js";
import { type RunningOperator, startOperator } from "../operator/operator.js";
import { CRDS_DIR } from "../paths.js";
import { type RunningVerifier, startVerifier } from "../verifier/verifier.js";

export const DEV_OPERATOR_NAMESPACE = "keygate-system";
const RECYCLE_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** The operator as `keygate operator` runs it, in this process, its webhook on loopback. */
async function startDevOperator(kubeconfigPath: string): Promise<RunningOperator> {
  const kc = new k8s.KubeConfig();
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

async function startDevVerifier(kubeconfigPath: string): Promise<RunningVerifier> {
  const kc = new k8s.KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return startVerifier({
    kc,
    operatorNamespace: DEV_OPERATOR_NAMESPACE,
    host: "127.0.0.1",
    port: 0,
    trustedProxies: [],
    trustedCallers: [],
    lastUsedFlushMs: 5_000,
    log: createLogger(),
  });
}

export interface DevOptions {
  stateDir: string;
  progress: (message: string) => void;
}

export interface DevInfo {
  kubeconfig: string;
  apiServer: string;
  verifierUrl?: string;
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
  let verifier: RunningVerifier | undefined;
  try {
    const applied = await applyCrds(binaries, controlPlane.kubeconfigPath, CRDS_DIR);
    options.progress(`applied ${applied.length} CRD manifest(s) from ${CRDS_DIR}`);
    operator = await startDevOperator(controlPlane.kubeconfigPath);
    options.progress(`operator running, admission webhook on https://127.0.0.1:${operator.webhookPort}`);
    verifier = await startDevVerifier(controlPlane.kubeconfigPath);
    await verifier.ready();
    options.progress(`verifier ready at ${verifier.url}`);
  } catch (error) {
    await verifier?.stop();
    await operator?.stop();
    await controlPlane.stop();
    throw error;
  }
  const running = { operator, verifier };
  const info: DevInfo = {
    kubeconfig: controlPlane.kubeconfigPath,
    apiServer: controlPlane.apiServerUrl,
    verifierUrl: running.verifier.url,
    operatorMetricsUrl: `http://127.0.0.1:${running.operator.metricsPort ?? 0}/metrics`,
    pid: process.pid,
  };
  await writeFile(devJson, `${JSON.stringify(info, null, 2)}\n`);
  const stop = async (): Promise<void> => {
    await rm(devJson, { force: true });
    await running.verifier.stop();
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
    `  verifier:    ${env.info.verifierUrl ?? ""}`,
    `  operator metrics: ${env.info.operatorMetricsUrl ?? ""}`,
    "Try:",
    `  ${kubectl} --kubeconfig ${env.info.kubeconfig} version`,
    `  ${kubectl} --kubeconfig ${env.info.kubeconfig} get crds`,
    "Press Ctrl-C to stop; everything started here is torn down.",
  ].join("\n");
}

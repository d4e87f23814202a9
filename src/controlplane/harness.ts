import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ControlPlaneBinaries } from "./binaries.js";
import { renderKubeconfig } from "./kubeconfig.js";
import { ADMIN_USER, type ControlPlanePki, createControlPlanePki, UNPRIVILEGED_USER } from "./pki-files.js";
import { freePort } from "./ports.js";
import { type ManagedProcess, startProcess } from "./process.js";
import { waitUntilHealthy } from "./readiness.js";

export interface ControlPlane {
  apiServerUrl: string;
  /** Admin (system:masters) kubeconfig; its second context is the unprivileged identity. */
  kubeconfigPath: string;
  /** The same cluster as an identity with no RBAC grants at all. */
  unprivilegedKubeconfigPath: string;
  stateDir: string;
  binaries: ControlPlaneBinaries;
  caPem: string;
  /** The CA's certificate and key files, to sign client certificates of any identity (tests). */
  caFiles: { certFile: string; keyFile: string };
  processes: readonly ManagedProcess[];
  stop(): Promise<void>;
}

export interface StartControlPlaneOptions {
  stateDir: string;
  binaries: ControlPlaneBinaries;
  progress?: (message: string) => void;
  /**
   * For a cluster with a real node: the API server listens on, and advertises, this address of
   * the host (Pods reach it through the `kubernetes` Service), reaches kubelets and webhooks
   * directly, and the controller manager runs every default controller (Deployments, endpoints).
   */
  nodeAddress?: string;
}

const START_TIMEOUT_MS = 120_000;
const SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24";

interface Ports {
  etcdClient: number;
  etcdPeer: number;
  apiServer: number;
  controllerManager: number;
}

async function allocatePorts(): Promise<Ports> {
  return {
    etcdClient: await freePort(),
    etcdPeer: await freePort(),
    apiServer: await freePort(),
    controllerManager: await freePort(),
  };
}

function etcdArgs(dataDir: string, ports: Ports): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`,
    `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`,
    `--initial-advertise-peer-urls=${peer}`,
    `--initial-cluster=default=${peer}`,
    "--name=default",
    // A throwaway store: durability costs fsyncs that slow every test for nothing.
    "--unsafe-no-fsync",
    "--log-level=warn",
  ];
}

// With a node: webhooks and aggregated APIs are called on their endpoints' Pod addresses, which
// the host routes to, so the API server needs no Service proxy of its own; `kubectl logs` and
// `exec` reach the kubelet on the node's InternalIP, authenticated by the admin certificate.
function nodeApiServerArgs(pki: ControlPlanePki): string[] {
  return [
    "--enable-aggregator-routing=true",
    "--kubelet-preferred-address-types=InternalIP",
    `--kubelet-client-certificate=${pki.admin.certFile}`,
    `--kubelet-client-key=${pki.admin.keyFile}`,
  ];
}

function apiServerArgs(pki: ControlPlanePki, ports: Ports, address: string, node: boolean): string[] {
  return [
    ...(node ? nodeApiServerArgs(pki) : []),
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    `--bind-address=${address}`,
    `--advertise-address=${address}`,
    `--secure-port=${ports.apiServer}`,
    `--tls-cert-file=${pki.apiServer.certFile}`,
    `--tls-private-key-file=${pki.apiServer.keyFile}`,
    `--client-ca-file=${pki.caFile}`,
    "--authorization-mode=RBAC",
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
    `--service-account-key-file=${pki.serviceAccountPublicKeyFile}`,
    `--service-account-signing-key-file=${pki.serviceAccountPrivateKeyFile}`,
    "--allow-privileged=true",
    "--v=1",
  ];
}

// Only what makes the API behave like a real cluster's for an operator: garbage collection of
// owned objects, namespace termination, service accounts, their tokens and root CA, and
// aggregated ClusterRoles. A node needs the rest too (Deployments, ReplicaSets, endpoints, PDBs).
const CONTROLLERS_WITHOUT_NODE =
  "garbage-collector-controller,namespace-controller,serviceaccount-controller," +
  "serviceaccount-token-controller,root-ca-certificate-publisher-controller,clusterrole-aggregation-controller";

function controllerManagerArgs(pki: ControlPlanePki, kubeconfig: string, ports: Ports, node: boolean): string[] {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--authentication-kubeconfig=${kubeconfig}`,
    `--authorization-kubeconfig=${kubeconfig}`,
    "--bind-address=127.0.0.1",
    `--secure-port=${ports.controllerManager}`,
    "--leader-elect=false",
    `--controllers=${node ? "*" : CONTROLLERS_WITHOUT_NODE}`,
    // Controllers act as their own service accounts, as in kubeadm clusters, so admission
    // webhooks see the namespace controller and garbage collector under their real names.
    "--use-service-account-credentials=true",
    `--root-ca-file=${pki.caFile}`,
    `--service-account-private-key-file=${pki.serviceAccountPrivateKeyFile}`,
    "--v=1",
  ];
}

async function writeKubeconfigs(stateDir: string, url: string, pki: ControlPlanePki): Promise<[string, string]> {
  const admin = { name: ADMIN_USER, ...pki.admin };
  const unprivileged = { name: UNPRIVILEGED_USER, ...pki.unprivileged };
  const adminPath = join(stateDir, "kubeconfig");
  const unprivilegedPath = join(stateDir, "kubeconfig-unprivileged");
  await writeFile(adminPath, renderKubeconfig(url, pki.ca.certPem, [admin, unprivileged]), { mode: 0o600 });
  await writeFile(unprivilegedPath, renderKubeconfig(url, pki.ca.certPem, [unprivileged]), { mode: 0o600 });
  return [adminPath, unprivilegedPath];
}

async function stopAll(processes: readonly ManagedProcess[]): Promise<void> {
  // Reverse start order: clients of etcd go before etcd.
  for (const managed of [...processes].reverse()) await managed.stop();
}

/**
 * Starts etcd, kube-apiserver and kube-controller-manager as local processes on free loopback
 * ports, with a fresh CA, RBAC authorization and two identities, and waits until each is
 * healthy. Everything lives under stateDir; the etcd store starts empty every time.
 */
export async function startControlPlane(options: StartControlPlaneOptions): Promise<ControlPlane> {
  const { stateDir, binaries } = options;
  const progress = options.progress ?? (() => undefined);
  const logDir = join(stateDir, "logs");
  await rm(join(stateDir, "etcd"), { recursive: true, force: true });
  await mkdir(logDir, { recursive: true });
  const address = options.nodeAddress ?? "127.0.0.1";
  const node = options.nodeAddress !== undefined;
  const pki = await createControlPlanePki(join(stateDir, "pki"), node ? [address] : []);
  const ports = await allocatePorts();
  const processes: ManagedProcess[] = [];
  const start = (name: "etcd" | "kube-apiserver" | "kube-controller-manager", args: string[]): ManagedProcess => {
    const managed = startProcess(name, binaries.path(name), args, { logFile: join(logDir, `${name}.log`) });
    processes.push(managed);
    return managed;
  };
  try {
    progress("starting etcd");
    const etcd = start("etcd", etcdArgs(join(stateDir, "etcd"), ports));
    await waitUntilHealthy(etcd, `http://127.0.0.1:${ports.etcdClient}/health`, {}, START_TIMEOUT_MS);
    progress("starting kube-apiserver");
    const apiServer = start("kube-apiserver", apiServerArgs(pki, ports, address, node));
    const apiServerUrl = `https://${address}:${ports.apiServer}`;
    const adminTls = { ca: pki.ca.certPem, cert: pki.admin.certPem, key: pki.admin.keyPem };
    await waitUntilHealthy(apiServer, `${apiServerUrl}/readyz`, adminTls, START_TIMEOUT_MS);
    const [kubeconfigPath, unprivilegedKubeconfigPath] = await writeKubeconfigs(stateDir, apiServerUrl, pki);
    progress("starting kube-controller-manager");
    const controllerManager = start("kube-controller-manager", controllerManagerArgs(pki, kubeconfigPath, ports, node));
    const healthz = `https://127.0.0.1:${ports.controllerManager}/healthz`;
    await waitUntilHealthy(controllerManager, healthz, { insecure: true }, START_TIMEOUT_MS);
    return {
      apiServerUrl,
      kubeconfigPath,
      unprivilegedKubeconfigPath,
      stateDir,
      binaries,
      caPem: pki.ca.certPem,
      caFiles: { certFile: pki.caFile, keyFile: pki.caKeyFile },
      processes,
      stop: () => stopAll(processes),
    };
  } catch (error) {
    await stopAll(processes);
    throw error;
  }
}

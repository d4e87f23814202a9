import { type ChildProcess, spawn } from "node:child_process";
import { copyFile, mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { Writable } from "node:stream";
import { exists } from "./binaries.js";
import { PACKAGE_ROOT } from "../paths.js";
import { run } from "./exec.js";
import type { ControlPlane } from "./harness.js";
import { type DebianPackage, ensureDebianPackages, requireRootOnDebian } from "./apt.js";
import { kubectl } from "./kubectl.js";
import { acquireDirectoryLock, type DirectoryLock } from "./lock.js";
import { cleanNode, foreignKubernetes, nodeCgroupRoots, recordHostState } from "./node-cleanup.js";
import { CNI_BIN_DIR, CNI_CONF_DIR, cniConfig, containerdConfig, corefile, kubeletConfig } from "./node-config.js";
import type { NodeBinaries } from "./node-binaries.js";
import { CONTAINERD_SOCKET, FIREWALL_COMMENT, NODE_ADDRESS, NODE_DATA_DIR, NODE_LINK, NODE_LOCK, NODE_NAME, NODE_RUN_DIR, POD_BRIDGE, POD_CIDR } from "./node-layout.js";
import { freePort } from "./ports.js";
import { type ManagedProcess, startProcess } from "./process.js";
import { waitUntilHealthy } from "./readiness.js";

export const NODE_PACKAGES: readonly DebianPackage[] = [
  { name: "containerd", provides: "/usr/bin/containerd" },
  { name: "containerd", provides: "/usr/bin/ctr" },
  { name: "runc", provides: "/usr/sbin/runc" },
  { name: "containernetworking-plugins", provides: `${CNI_BIN_DIR}/bridge` },
  { name: "containernetworking-plugins", provides: `${CNI_BIN_DIR}/host-local` },
  { name: "containernetworking-plugins", provides: `${CNI_BIN_DIR}/loopback` },
  { name: "iptables", provides: "/usr/sbin/iptables" },
  { name: "conntrack", provides: "/usr/sbin/conntrack" },
  { name: "iproute2", provides: "/usr/sbin/ip" },
];

/**
 * The host side of a node, before the control plane starts (the API server listens on the
 * node's address): packages, the one-node-per-host lock, a clean slate, the guardian that
 * cleans up after any exit, and the node's address.
 */
export interface NodeHost {
  readonly address: string;
  release(): Promise<void>;
}

const GUARDIAN = fileURLToPath(new URL("./node-guardian.ts", import.meta.url));
const GUARDIAN_START_MS = 30_000;
const CLEANUP_MS = 120_000;
const NODE_STOP_GRACE_MS = 2_000;

/** The starter's end of the guardian's stdin: closing it (or dying) starts the cleanup. */
interface Guardian {
  readonly pid: number;
  readonly pipe: Writable;
}

/** Resolves once the guardian says it is watching the pipe; rejects if it never does. */
function guardianReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the node's guardian did not start within ${GUARDIAN_START_MS / 1000}s`)), GUARDIAN_START_MS);
    child.once("error", (error) => reject(error));
    child.once("exit", (code) => reject(new Error(`the node's guardian exited at start (${String(code)})`)));
    child.stdout?.once("data", () => {
      clearTimeout(timer);
      child.removeAllListeners("exit");
      child.stdout?.destroy();
      resolve();
    });
  });
}

/**
 * The guardian runs from the sources with tsx's loader, like the development CLI that starts it,
 * in one process (tsx's own CLI would put a second in between, and only the first would see the pipe).
 */
async function startGuardian(logFile: string): Promise<Guardian> {
  const child = spawn(process.execPath, ["--import", "tsx", GUARDIAN, logFile], { cwd: PACKAGE_ROOT, detached: true, stdio: ["pipe", "pipe", "ignore"] });
  await guardianReady(child);
  child.unref();
  const pipe = child.stdin;
  if (!pipe || child.pid === undefined) throw new Error("the node's guardian could not be started");
  // Unref'd too: the open pipe must not keep this process alive, only tell the guardian when it ends.
  (pipe as Writable & { unref?: () => void }).unref?.();
  return { pid: child.pid, pipe };
}

// Docker sets the FORWARD policy to DROP. Pods reach each other's Services through the host, and
// get answers back; nothing else may start a connection into the Pods' bridge from outside.
const FORWARD_RULES = [
  ["-i", POD_BRIDGE],
  ["-o", POD_BRIDGE, "-m", "conntrack", "--ctstate", "RELATED,ESTABLISHED"],
];

async function configureHostNetwork(): Promise<void> {
  await run("ip", ["link", "add", NODE_LINK, "type", "bridge"]);
  await run("ip", ["addr", "add", `${NODE_ADDRESS}/32`, "dev", NODE_LINK]);
  await run("ip", ["link", "set", NODE_LINK, "up"]);
  await writeFile("/proc/sys/net/ipv4/ip_forward", "1");
  for (const match of FORWARD_RULES) await run("iptables", ["-I", "FORWARD", ...match, "-m", "comment", "--comment", FIREWALL_COMMENT, "-j", "ACCEPT"]);
}

/** The guardian removes the lock once the host is clean; waits for that, or cleans itself. */
async function waitForGuardian(): Promise<void> {
  const deadline = Date.now() + CLEANUP_MS;
  while (Date.now() < deadline) {
    if (!(await exists(NODE_LOCK))) return;
    await sleep(200);
  }
  await cleanNode();
  await rm(NODE_LOCK, { recursive: true, force: true });
}

async function refuseForeignKubernetes(): Promise<void> {
  if (await foreignKubernetes()) {
    throw new Error("this host runs Kubernetes of its own (its firewall has KUBE-* chains): a local node would share, and on cleanup remove, them; use another machine");
  }
}

export async function prepareNodeHost(logDir: string, progress: (message: string) => void): Promise<NodeHost> {
  // Network links, mounts and cgroups need root; the packages come from Debian's archive.
  await requireRootOnDebian("a real node");
  await ensureDebianPackages(NODE_PACKAGES, progress);
  const lock: DirectoryLock = await acquireDirectoryLock(NODE_LOCK, (owner) => progress(`another local node, or its cleanup, is running (pid ${owner ?? "?"}); waiting for it`));
  let guardian: Guardian | undefined;
  try {
    await refuseForeignKubernetes();
    await cleanNode();
    await mkdir(logDir, { recursive: true });
    guardian = await startGuardian(join(logDir, "node-guardian.log"));
    // From here the guardian holds the lock: a new start waits until it has cleaned up, whatever
    // becomes of this process.
    await writeFile(join(NODE_LOCK, "pid"), String(guardian.pid));
    await recordHostState();
    await configureHostNetwork();
  } catch (error) {
    if (guardian) {
      guardian.pipe.end();
      await waitForGuardian();
    } else {
      await lock.release();
    }
    throw error;
  }
  const { pipe } = guardian;
  return {
    address: NODE_ADDRESS,
    release: async () => {
      pipe.end();
      await waitForGuardian();
    },
  };
}

/** Imports image archives (`docker save` output) into the node's containerd, where the kubelet finds them. */
export async function importIntoNode(archives: readonly string[]): Promise<void> {
  for (const archive of archives) await run("ctr", ["--address", CONTAINERD_SOCKET, "-n", "k8s.io", "images", "import", archive], { timeoutMs: 600_000 });
}

export interface LocalNode {
  readonly name: string;
  readonly address: string;
  readonly podCidr: string;
  readonly containerdSocket: string;
  readonly processes: readonly ManagedProcess[];
  /** Imports image archives (`docker save` output) into the node's containerd, for Pods to run. */
  importImages(archives: readonly string[]): Promise<void>;
  stop(): Promise<void>;
}

export interface StartNodeOptions {
  readonly controlPlane: ControlPlane;
  readonly binaries: NodeBinaries;
  readonly progress?: (message: string) => void;
}

async function waitForContainerd(containerd: ManagedProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (containerd.hasExited()) throw new Error(`containerd exited during start-up; see ${containerd.logFile}`);
    const answered = await run("ctr", ["--address", CONTAINERD_SOCKET, "version"], { timeoutMs: 5_000 }).then(
      () => true,
      () => false,
    );
    if (answered) return;
    await sleep(250);
  }
  throw new Error(`containerd did not answer on ${CONTAINERD_SOCKET} within 60s; see ${containerd.logFile}`);
}

async function waitForNodeReady(controlPlane: ControlPlane, kubelet: ManagedProcess): Promise<void> {
  const deadline = Date.now() + 180_000;
  let last = "";
  while (Date.now() < deadline) {
    if (kubelet.hasExited()) throw new Error(`the kubelet exited during start-up; see ${kubelet.logFile}`);
    const result = await kubectl(controlPlane.binaries, controlPlane.kubeconfigPath, ["get", "node", NODE_NAME, "-o", 'jsonpath={.status.conditions[?(@.type=="Ready")].status} {.status.conditions[?(@.type=="Ready")].message}']).catch(
      (error: unknown) => ({ stdout: error instanceof Error ? error.message : String(error) }),
    );
    last = result.stdout;
    if (last.startsWith("True")) return;
    await sleep(500);
  }
  throw new Error(`node ${NODE_NAME} was not Ready within 180s (${last.trim()}); see ${kubelet.logFile}`);
}

interface NodeFiles {
  readonly kubeconfig: string;
  readonly config: { readonly containerd: string; readonly kubelet: string; readonly corefile: string };
}

async function writeNodeFiles(controlPlane: ControlPlane): Promise<NodeFiles> {
  for (const dir of [NODE_RUN_DIR, NODE_DATA_DIR, CNI_CONF_DIR]) await mkdir(dir, { recursive: true });
  // The node's own copies: every process of the node names the node's folder, which is how the
  // cleanup finds it after a crash.
  const kubeconfig = join(NODE_DATA_DIR, "kubeconfig");
  await copyFile(controlPlane.kubeconfigPath, kubeconfig);
  const caFile = join(NODE_DATA_DIR, "ca.crt");
  await writeFile(caFile, controlPlane.caPem);
  const resolvConf = join(NODE_DATA_DIR, "resolv.conf");
  await copyFile("/etc/resolv.conf", resolvConf);
  const config = {
    containerd: join(NODE_DATA_DIR, "containerd.toml"),
    kubelet: join(NODE_DATA_DIR, "kubelet.json"),
    corefile: join(NODE_DATA_DIR, "Corefile"),
  };
  await writeFile(config.containerd, containerdConfig());
  await writeFile(join(CNI_CONF_DIR, "10-keygate.conflist"), cniConfig());
  await writeFile(config.kubelet, kubeletConfig(caFile, resolvConf));
  await writeFile(config.corefile, corefile(kubeconfig));
  return { kubeconfig, config };
}

/** kube-proxy in iptables mode, changing nothing on the host beyond its KUBE-* chains. */
async function kubeProxyArgs(kubeconfig: string): Promise<string[]> {
  return [
    `--kubeconfig=${kubeconfig}`,
    `--hostname-override=${NODE_NAME}`,
    "--proxy-mode=iptables",
    `--cluster-cidr=${POD_CIDR}`,
    // Pods reach Pods on the same bridge through a Service: without masquerading, the answer would
    // bypass the host and never be translated back.
    "--masquerade-all=true",
    "--iptables-localhost-nodeports=false",
    "--conntrack-max-per-core=0",
    "--conntrack-tcp-timeout-established=0s",
    "--conntrack-tcp-timeout-close-wait=0s",
    `--healthz-bind-address=127.0.0.1:${await freePort()}`,
    `--metrics-bind-address=127.0.0.1:${await freePort()}`,
    "--v=1",
  ];
}

/**
 * A real node for the control plane: containerd, kube-scheduler, kube-proxy, CoreDNS and the
 * kubelet, each a process of this one; Ready when this resolves. The host must have been prepared
 * (prepareNodeHost) and the control plane started on the node's address.
 */
export async function startNode(options: StartNodeOptions): Promise<LocalNode> {
  const { controlPlane, binaries } = options;
  const progress = options.progress ?? (() => undefined);
  const logDir = join(controlPlane.stateDir, "logs");
  const { kubeconfig, config } = await writeNodeFiles(controlPlane);
  const processes: ManagedProcess[] = [];
  const start = (name: string, file: string, args: string[]): ManagedProcess => {
    const managed = startProcess(name, file, args, { logFile: join(logDir, `${name}.log`) });
    processes.push(managed);
    return managed;
  };
  // A short grace: the guardian's cleanup kills whatever of the node is left anyway.
  const stop = async (): Promise<void> => {
    for (const managed of [...processes].reverse()) await managed.stop(NODE_STOP_GRACE_MS);
  };
  try {
    progress("starting containerd");
    await waitForContainerd(start("containerd", "/usr/bin/containerd", ["--config", config.containerd]));
    progress("starting kube-scheduler, kube-proxy and CoreDNS");
    const schedulerPort = await freePort();
    const scheduler = start("kube-scheduler", binaries.path("kube-scheduler"), [
      `--kubeconfig=${kubeconfig}`,
      `--authentication-kubeconfig=${kubeconfig}`,
      `--authorization-kubeconfig=${kubeconfig}`,
      "--leader-elect=false",
      "--bind-address=127.0.0.1",
      `--secure-port=${schedulerPort}`,
    ]);
    await waitUntilHealthy(scheduler, `https://127.0.0.1:${schedulerPort}/healthz`, { insecure: true }, 60_000);
    start("kube-proxy", binaries.path("kube-proxy"), await kubeProxyArgs(kubeconfig));
    start("coredns", binaries.path("coredns"), ["-conf", config.corefile]);
    // The kubelet's cgroupRoot must exist; it creates everything below it.
    for (const root of await nodeCgroupRoots()) await mkdir(root, { recursive: true });
    progress("starting the kubelet");
    const kubelet = start("kubelet", binaries.path("kubelet"), [
      `--config=${config.kubelet}`,
      `--kubeconfig=${kubeconfig}`,
      `--root-dir=${join(NODE_DATA_DIR, "kubelet")}`,
      `--node-ip=${NODE_ADDRESS}`,
      `--hostname-override=${NODE_NAME}`,
      "--v=1",
    ]);
    await waitForNodeReady(controlPlane, kubelet);
    progress(`node ${NODE_NAME} is Ready at ${NODE_ADDRESS} (Pods in ${POD_CIDR})`);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    name: NODE_NAME,
    address: NODE_ADDRESS,
    podCidr: POD_CIDR,
    containerdSocket: CONTAINERD_SOCKET,
    processes,
    importImages: importIntoNode,
    stop,
  };
}

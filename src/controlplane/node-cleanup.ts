import { readdir, readFile, readlink, rm, rmdir, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { exists } from "./binaries.js";
import { run } from "./exec.js";
import {
  FIREWALL_COMMENT,
  HOST_STATE_FILE,
  NODE_CGROUP,
  NODE_DATA_DIR,
  NODE_EXECUTABLES,
  NODE_LINK,
  NODE_RUN_DIR,
  POD_BRIDGE,
  TUNED_SYSCTLS,
} from "./node-layout.js";

// Everything a local node leaves on the host, found from the host itself (cgroups, /proc, the
// mount table, the firewall, links) rather than from a record of the run: the same cleanup works
// after a normal stop, after SIGKILL of the process that started the node, and before a start.

const CGROUP_ROOT = "/sys/fs/cgroup";
/** The kubelet links each container's log here, whatever its podLogsDir. */
const CONTAINER_LOG_LINKS = "/var/log/containers";

async function quietly(action: Promise<unknown>): Promise<void> {
  await action.catch(() => undefined);
}

/** The roots of this node's cgroups: one per controller on cgroup v1, one on v2. */
export async function nodeCgroupRoots(): Promise<string[]> {
  // v2: one unified hierarchy at the root (where every folder is a cgroup, so look no further).
  if (await exists(join(CGROUP_ROOT, "cgroup.procs"))) return [join(CGROUP_ROOT, NODE_CGROUP)];
  const hierarchies: string[] = [];
  for (const entry of await readdir(CGROUP_ROOT, { withFileTypes: true }).catch(() => [])) {
    if (entry.isDirectory() && (await exists(join(CGROUP_ROOT, entry.name, "cgroup.procs")))) hierarchies.push(join(CGROUP_ROOT, entry.name));
  }
  return hierarchies.map((hierarchy) => join(hierarchy, NODE_CGROUP));
}

/** Every cgroup folder under this node's cgroupRoot, deepest first; never another kubelet's. */
async function podCgroups(): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await walk(join(dir, entry.name));
    }
    found.push(dir);
  };
  for (const root of await nodeCgroupRoots()) if (await exists(root)) await walk(root);
  return found;
}

async function pidsInCgroups(cgroups: readonly string[]): Promise<number[]> {
  const pids = new Set<number>();
  for (const cgroup of cgroups) {
    const text = await readFile(join(cgroup, "cgroup.procs"), "utf8").catch(() => "");
    for (const line of text.split("\n")) if (line.trim() !== "") pids.add(Number(line));
  }
  return [...pids];
}

const NODE_PATH_PREFIXES = [`${NODE_RUN_DIR}/`, `${NODE_DATA_DIR}/`];

/**
 * The node's own processes (containerd, its shims, kubelet, kube-proxy, kube-scheduler, CoreDNS):
 * one of its programs with an argument in one of the node's folders. A shell or an editor that
 * merely names a path there is not one of them.
 */
async function nodeProcesses(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const args = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0");
    const program = basename(args[0] ?? "");
    if (!(NODE_EXECUTABLES as readonly string[]).includes(program)) continue;
    if (args.some((arg) => NODE_PATH_PREFIXES.some((prefix) => arg.includes(prefix)))) pids.push(pid);
  }
  return pids;
}

async function killAll(): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const pids = [...(await pidsInCgroups(await podCgroups())), ...(await nodeProcesses())];
    if (pids.length === 0) return;
    if (Date.now() > deadline) throw new Error(`processes of the node would not die: ${pids.join(", ")}`);
    for (const pid of pids) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // Gone already.
      }
    }
    await sleep(100);
  }
}

async function removePodCgroups(): Promise<void> {
  for (const cgroup of await podCgroups()) await quietly(rmdir(cgroup));
}

function unescapeMountPath(path: string): string {
  return path.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(Number.parseInt(octal, 8)));
}

async function nodeMounts(): Promise<string[]> {
  const table = await readFile("/proc/self/mountinfo", "utf8");
  const under = (path: string): boolean => [NODE_RUN_DIR, NODE_DATA_DIR].some((dir) => path === dir || path.startsWith(`${dir}/`));
  const mounts = table
    .split("\n")
    .map((line) => unescapeMountPath(line.split(" ")[4] ?? ""))
    .filter(under);
  return [...new Set(mounts)].sort((a, b) => b.length - a.length);
}

async function unmountAll(): Promise<void> {
  for (let pass = 0; pass < 5; pass++) {
    const mounts = await nodeMounts();
    if (mounts.length === 0) return;
    for (const mount of mounts) await quietly(run("umount", ["--lazy", mount]));
  }
  const left = await nodeMounts();
  if (left.length > 0) throw new Error(`mounts of the node would not go: ${left.join(", ")}`);
}

const KUBE_CHAIN = /^:(KUBE-[^ ]+) /;

/**
 * What to take out of one table, as iptables-restore input applied with --noflush (nothing else in
 * the table is touched): this node's commented rules, and, when the node ran here, kube-proxy's and
 * the kubelet's KUBE-* chains with the rules that jump to them.
 */
export function firewallRemovals(saved: string, kubeChains: boolean): string[] {
  const chains = kubeChains ? saved.split("\n").flatMap((line) => KUBE_CHAIN.exec(line)?.[1] ?? []) : [];
  const rules = saved
    .split("\n")
    .filter((line) => line.startsWith("-A ") && !chains.some((chain) => line.startsWith(`-A ${chain} `)))
    .filter((line) => line.includes(FIREWALL_COMMENT) || chains.some((chain) => line.includes(` ${chain}`)))
    .map((line) => `-D ${line.slice(3)}`);
  return [...rules, ...chains.map((chain) => `-F ${chain}`), ...chains.map((chain) => `-X ${chain}`)];
}

async function cleanFirewall(kubeChains: boolean): Promise<void> {
  for (const family of ["iptables", "ip6tables"]) {
    for (const table of ["filter", "nat", "mangle"]) {
      const saved = await run(`${family}-save`, ["-t", table]).catch(() => undefined);
      const removals = saved === undefined ? [] : firewallRemovals(saved.stdout, kubeChains);
      if (removals.length === 0) continue;
      await run(`${family}-restore`, ["--noflush"], { input: `*${table}\n${removals.join("\n")}\nCOMMIT\n` });
    }
  }
}

/** KUBE-* chains with no record of this node having run: the host runs a Kubernetes of its own. */
export async function foreignKubernetes(): Promise<boolean> {
  if (await exists(HOST_STATE_FILE)) return false;
  const saved = await run("iptables-save", []).catch(() => undefined);
  return saved !== undefined && /^:KUBE-/m.test(saved.stdout);
}

async function deleteLinks(): Promise<void> {
  const ports = await run("ip", ["-o", "link", "show", "master", POD_BRIDGE]).catch(() => undefined);
  for (const line of ports?.stdout.split("\n") ?? []) {
    const name = /^\d+: ([^@:]+)/.exec(line)?.[1];
    if (name) await quietly(run("ip", ["link", "delete", name]));
  }
  for (const link of [POD_BRIDGE, NODE_LINK]) await quietly(run("ip", ["link", "delete", link]));
}

type HostState = Record<string, string>;

/** The host's values of what the node changes; kept from the first start until a cleanup restores them. */
export async function recordHostState(): Promise<void> {
  if (await exists(HOST_STATE_FILE)) return;
  const state: HostState = {};
  for (const name of TUNED_SYSCTLS) {
    const value = await readFile(`/proc/sys/${name}`, "utf8").catch(() => undefined);
    if (value !== undefined) state[name] = value.trim();
  }
  await writeFile(HOST_STATE_FILE, JSON.stringify(state));
}

async function restoreHostState(): Promise<void> {
  const text = await readFile(HOST_STATE_FILE, "utf8").catch(() => undefined);
  if (text === undefined) return;
  for (const [name, value] of Object.entries(JSON.parse(text) as HostState)) {
    if (!(TUNED_SYSCTLS as readonly string[]).includes(name)) continue;
    await quietly(writeFile(`/proc/sys/${name}`, value));
  }
  await rm(HOST_STATE_FILE, { force: true });
}

async function removeLogLinks(): Promise<void> {
  for (const entry of await readdir(CONTAINER_LOG_LINKS).catch(() => [] as string[])) {
    const link = join(CONTAINER_LOG_LINKS, entry);
    const target = await readlink(link).catch(() => "");
    if (target.startsWith(`${NODE_DATA_DIR}/`)) await rm(link, { force: true });
  }
}

/** Removes every trace of the local node from the host; safe to run at any time, any number of times. */
export async function cleanNode(): Promise<void> {
  // The record of the host's state is written before the node's first change: its presence is
  // what makes KUBE-* chains this node's (kube-proxy's names are the same on every host).
  const ranHere = await exists(HOST_STATE_FILE);
  await killAll();
  await removePodCgroups();
  await unmountAll();
  await cleanFirewall(ranHere);
  await deleteLinks();
  await restoreHostState();
  await removeLogLinks();
  await rm(NODE_RUN_DIR, { recursive: true, force: true });
  await rm(NODE_DATA_DIR, { recursive: true, force: true });
}

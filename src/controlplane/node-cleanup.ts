import { readdir, readFile, readlink, rm, rmdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { exists } from "./binaries.js";
import { run } from "./exec.js";
import { FIREWALL_COMMENT, HOST_STATE_FILE, NODE_DATA_DIR, NODE_LINK, NODE_RUN_DIR, POD_BRIDGE, TUNED_SYSCTLS } from "./node-layout.js";

// Everything a local node leaves on the host, found from the host itself (cgroups, /proc, the
// mount table, the firewall, links) rather than from a record of the run: the same cleanup works
// after a normal stop, after SIGKILL of the process that started the node, and before a start.

const CGROUP_ROOT = "/sys/fs/cgroup";
const POD_CGROUP = "kubepods";
/** The kubelet links each container's log here, whatever its podLogsDir. */
const CONTAINER_LOG_LINKS = "/var/log/containers";

async function quietly(action: Promise<unknown>): Promise<void> {
  await action.catch(() => undefined);
}

/** Every cgroup folder of the Pods, deepest first (cgroup v1: one tree per controller; v2: one tree). */
async function podCgroups(): Promise<string[]> {
  const roots: string[] = [];
  if (await exists(join(CGROUP_ROOT, POD_CGROUP))) roots.push(join(CGROUP_ROOT, POD_CGROUP));
  for (const controller of await readdir(CGROUP_ROOT).catch(() => [] as string[])) {
    const root = join(CGROUP_ROOT, controller, POD_CGROUP);
    if (await exists(root)) roots.push(root);
  }
  const found: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (entry.isDirectory()) await walk(join(dir, entry.name));
    }
    found.push(dir);
  };
  for (const root of roots) await walk(root);
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

/** The node's own processes (containerd, its shims, kubelet, kube-proxy, CoreDNS): each names one of its folders. */
async function pidsNamingNodeFolders(): Promise<number[]> {
  const pids: number[] = [];
  for (const entry of await readdir("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmdline.includes(NODE_RUN_DIR) || cmdline.includes(NODE_DATA_DIR)) pids.push(pid);
  }
  return pids;
}

async function killAll(): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const pids = [...(await pidsInCgroups(await podCgroups())), ...(await pidsNamingNodeFolders())];
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

const NODE_RULE = new RegExp(`KUBE-|${FIREWALL_COMMENT}`);

/** kube-proxy's and the kubelet's KUBE-* chains and the rules that jump to them, and this node's own rules; nothing else. */
async function cleanFirewall(): Promise<void> {
  for (const family of ["iptables", "ip6tables"]) {
    for (const table of ["filter", "nat", "mangle"]) {
      const saved = await run(`${family}-save`, ["-t", table]).catch(() => undefined);
      if (saved === undefined || !NODE_RULE.test(saved.stdout)) continue;
      const kept = saved.stdout.split("\n").filter((line) => !NODE_RULE.test(line)).join("\n");
      await writeFile(join("/tmp", `keygate-node-${family}-${table}.rules`), kept);
      await run(`${family}-restore`, [join("/tmp", `keygate-node-${family}-${table}.rules`)]);
      await rm(join("/tmp", `keygate-node-${family}-${table}.rules`), { force: true });
    }
  }
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
  await killAll();
  await removePodCgroups();
  await unmountAll();
  await cleanFirewall();
  await deleteLinks();
  await restoreHostState();
  await removeLogLinks();
  await rm(NODE_RUN_DIR, { recursive: true, force: true });
  await rm(NODE_DATA_DIR, { recursive: true, force: true });
}

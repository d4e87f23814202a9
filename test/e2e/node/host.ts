import { readdir, readFile } from "node:fs/promises";
import { run } from "../../../src/controlplane/exec.js";

// What a local node could leave on the host, read from the host itself with code of its own
// (not the cleanup's): any process naming the node's folders, any KUBE-* rule.

const NODE_DIRS = ["/run/keygate-node", "/var/lib/keygate-node"];
const SYSCTLS = ["net/ipv4/ip_forward", "vm/overcommit_memory", "vm/panic_on_oom", "kernel/panic", "kernel/panic_on_oops", "kernel/keys/root_maxkeys", "kernel/keys/root_maxbytes"];

export interface HostSnapshot {
  readonly sysctls: Record<string, string>;
  readonly links: string[];
}

export async function hostSnapshot(): Promise<HostSnapshot> {
  const sysctls: Record<string, string> = {};
  for (const name of SYSCTLS) sysctls[name] = (await readFile(`/proc/sys/${name}`, "utf8")).trim();
  const { stdout } = await run("ip", ["-o", "link", "show"]);
  const links = stdout
    .split("\n")
    .map((line) => /^\d+: ([^@:]+)/.exec(line)?.[1])
    .filter((name): name is string => name !== undefined)
    .sort();
  return { sysctls, links };
}

async function exists(path: string): Promise<boolean> {
  return readdir(path).then(
    () => true,
    (error: NodeJS.ErrnoException) => error.code !== "ENOENT",
  );
}

async function processTraces(): Promise<string[]> {
  const traces: string[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const cmdline = await readFile(`/proc/${entry}/cmdline`, "utf8").catch(() => "");
    if (NODE_DIRS.some((dir) => cmdline.includes(dir))) traces.push(`process ${entry}: ${cmdline.replace(/\0/g, " ").slice(0, 120)}`);
  }
  return traces;
}

async function fileTraces(): Promise<string[]> {
  const traces: string[] = [];
  // The node's cgroupRoot, on cgroup v2 and under every v1 controller.
  for (const dir of ["", ...(await readdir("/sys/fs/cgroup").catch(() => [] as string[]))]) {
    const root = `/sys/fs/cgroup/${dir ? `${dir}/` : ""}keygate-node`;
    if (await exists(root)) traces.push(`cgroup ${root}`);
  }
  const mounts = (await readFile("/proc/self/mountinfo", "utf8")).split("\n").filter((line) => line.includes("keygate-node"));
  traces.push(...mounts.map((line) => `mount ${line.split(" ")[4] ?? ""}`));
  for (const path of [...NODE_DIRS, "/run/keygate-node.lock", "/var/lib/keygate-node.host-state.json"]) if (await exists(path)) traces.push(`path ${path}`);
  return traces;
}

async function networkTraces(before: HostSnapshot): Promise<string[]> {
  const now = await hostSnapshot();
  const traces = now.links.filter((link) => !before.links.includes(link)).map((link) => `link ${link}`);
  traces.push(...Object.entries(before.sysctls).filter(([name, value]) => now.sysctls[name] !== value).map(([name, value]) => `sysctl ${name}=${now.sysctls[name] ?? ""} (was ${value})`));
  for (const family of ["iptables-save", "ip6tables-save"]) {
    const { stdout } = await run(family, []);
    traces.push(...stdout.split("\n").filter((line) => /KUBE-|keygate-node/.test(line)).map((line) => `${family}: ${line}`));
  }
  return traces;
}

/** Everything of a node still on the host; empty when it is as it was. */
export async function nodeTraces(before: HostSnapshot): Promise<string[]> {
  return [...(await processTraces()), ...(await fileTraces()), ...(await networkTraces(before))];
}

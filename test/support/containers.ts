import { readdir, readFile } from "node:fs/promises";
import { GenericContainer } from "testcontainers";
import { docker } from "../../src/controlplane/docker.js";

// What the end-to-end tests observe of a container from outside it: the images need no shell,
// so nothing here runs inside one.

/** GenericContainer with the host settings testcontainers has no builder method for. */
export class LocalContainer extends GenericContainer {
  /** The root filesystem mounted read-only, as `readOnlyRootFilesystem: true` does in a pod. */
  withReadOnlyRootFilesystem(): this {
    this.hostConfig.ReadonlyRootfs = true;
    return this;
  }

  /** Joins another container's PID namespace, as the containers of a pod join its pause container's. */
  withPidNamespaceOf(containerId: string): this {
    this.hostConfig.PidMode = `container:${containerId}`;
    return this;
  }

  /** What `allowPrivilegeEscalation: false` and `capabilities.drop: [ALL]` of the chart amount to. */
  withRestrictedPrivileges(): this {
    return this.withSecurityOpt("no-new-privileges").withDroppedCapabilities("ALL");
  }
}

export interface ProcessIdentity {
  pid: number;
  /** Real, effective, saved and filesystem uid, as /proc/<pid>/status lists them. */
  uids: number[];
  gids: number[];
  /** Process state letter: R, S, Z (zombie), … */
  state: string;
}

function ids(status: string, field: "Uid" | "Gid"): number[] {
  const line = new RegExp(`^${field}:\\s+(.*)$`, "m").exec(status)?.[1] ?? "";
  return line.trim().split(/\s+/).map(Number);
}

/** Every process of a container, seen from the host's /proc (pids from `docker top`). */
export async function containerProcesses(containerId: string): Promise<ProcessIdentity[]> {
  const { stdout } = await docker(["top", containerId, "-eo", "pid"]);
  const pids = stdout.split("\n").slice(1).map((line) => Number(line.trim())).filter((pid) => pid > 0);
  return Promise.all(
    pids.map(async (pid) => {
      const status = await readFile(`/proc/${pid}/status`, "utf8");
      const state = /^State:\s+(\S)/m.exec(status)?.[1] ?? "?";
      return { pid, uids: ids(status, "Uid"), gids: ids(status, "Gid"), state };
    }),
  );
}

/** Whether a `docker diff` line is the engine creating a bind mount's target (and so changing its parents). */
function isMountPointCreation(line: string, mountTargets: readonly string[]): boolean {
  const [kind, path = ""] = line.split(" ");
  return mountTargets.some((target) => (kind === "A" && path === target) || (kind === "C" && target.startsWith(`${path}/`)));
}

/**
 * What the container's processes changed in its root filesystem (`docker diff`), one `A|C|D
 * path` a line, leaving out the mount points the engine created for the given bind mounts.
 */
export async function rootFilesystemChanges(containerId: string, mountTargets: readonly string[] = []): Promise<string[]> {
  const { stdout } = await docker(["diff", containerId]);
  return stdout.split("\n").filter((line) => line.trim() !== "" && !isMountPointCreation(line.trim(), mountTargets));
}

export interface Termination {
  /** The container's exit code, or undefined when it had not exited by the deadline. */
  exitCode: number | undefined;
  elapsedMs: number;
}

/** Sends SIGTERM (what the kubelet sends first) and waits up to `waitMs` for the exit. */
export async function terminate(containerId: string, waitMs: number): Promise<Termination> {
  const started = Date.now();
  await docker(["kill", "--signal", "TERM", containerId]);
  try {
    const { stdout } = await docker(["wait", containerId], { timeoutMs: waitMs });
    return { exitCode: Number(stdout.trim()), elapsedMs: Date.now() - started };
  } catch {
    return { exitCode: undefined, elapsedMs: Date.now() - started };
  }
}

/** The host's pid of a container's first process. */
export async function hostPid(containerId: string): Promise<number> {
  const { stdout } = await docker(["inspect", "--format", "{{.State.Pid}}", containerId]);
  return Number(stdout.trim());
}

/** The children of a host process and their states (Z: a zombie nobody reaped), read from /proc. */
export async function childrenOf(parentPid: number): Promise<{ pid: number; state: string }[]> {
  const children: { pid: number; state: string }[] = [];
  for (const entry of await readdir("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const stat = await readFile(`/proc/${entry}/stat`, "utf8").catch(() => "");
    // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
    const [state = "", ppid = ""] = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    if (Number(ppid) === parentPid) children.push({ pid: Number(entry), state });
  }
  return children;
}

/** The address of a container on Docker's default bridge: not loopback, as another pod would connect. */
export async function bridgeAddress(containerId: string): Promise<string> {
  const { stdout } = await docker(["inspect", "--format", "{{.NetworkSettings.IPAddress}}", containerId]);
  return stdout.trim();
}

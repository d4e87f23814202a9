import { spawn } from "node:child_process";
import { closeSync, openSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureDebianPackages, requireRootOnDebian } from "./apt.js";
import { cacheRoot } from "./binaries.js";
import { lastLines, run, type RunResult } from "./exec.js";
import { acquireDirectoryLock } from "./lock.js";

// The local Docker engine the images are built and tested with. Development tooling: nothing here
// is shipped. Debian's docker.io is the engine; dockerd is started here when none answers, and is
// left running for the next run (it is the machine's engine, not a test's).

export const DOCKER_SOCKET = "/var/run/docker.sock";
const DOCKERD = "/usr/sbin/dockerd";
const START_TIMEOUT_MS = 60_000;

/** Where dockerd's log goes when this tooling starts it. */
export function dockerCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), "docker");
}

export interface DockerOptions {
  cwd?: string;
  timeoutMs?: number;
}

/**
 * The docker CLI. DOCKER_BUILDKIT=0 selects the classic builder: BuildKit needs the buildx
 * plugin (not in Debian's docker.io) and fetches the `# syntax=` frontend image from Docker Hub,
 * while nothing here may come from a registry.
 */
export function docker(args: readonly string[], options: DockerOptions = {}): Promise<RunResult> {
  const env = { ...process.env, DOCKER_BUILDKIT: "0", DOCKER_CLI_HINTS: "false" };
  return run("docker", args, { env, cwd: options.cwd, timeoutMs: options.timeoutMs ?? 120_000 });
}

async function engineAnswers(): Promise<boolean> {
  try {
    await docker(["version", "--format", "{{.Server.Version}}"], { timeoutMs: 15_000 });
    return true;
  } catch {
    return false;
  }
}

/**
 * A Docker engine answering on /var/run/docker.sock: the running one, else dockerd started here
 * (docker.io installed with apt-get first when missing). Needs root on Debian to start one.
 */
export async function ensureDockerEngine(progress: (message: string) => void = () => undefined): Promise<void> {
  if (await engineAnswers()) return;
  await requireRootOnDebian("starting the Docker engine");
  await ensureDebianPackages([{ name: "docker.io", provides: DOCKERD }], progress);
  const dir = dockerCacheDir();
  await mkdir(dir, { recursive: true });
  const lock = await acquireDirectoryLock(join(dir, "dockerd.lock"), (owner) =>
    progress(`another process is starting dockerd (pid ${owner ?? "?"}); waiting for it`),
  );
  try {
    if (await engineAnswers()) return;
    await startDockerd(join(dir, "dockerd.log"), progress);
  } finally {
    await lock.release();
  }
}

async function logTail(logFile: string): Promise<string> {
  try {
    return lastLines(await readFile(logFile, "utf8"), 20);
  } catch {
    return "(no log)";
  }
}

async function startDockerd(logFile: string, progress: (message: string) => void): Promise<void> {
  progress(`starting dockerd, detached (log: ${logFile})`);
  const log = openSync(logFile, "a");
  // Its own session and no tie to this process: the engine outlives the run that started it.
  const child = spawn(DOCKERD, [], { detached: true, stdio: ["ignore", log, log] });
  closeSync(log);
  let exit: string | undefined;
  child.once("exit", (code, signal) => (exit = `exit ${code ?? signal ?? "?"}`));
  child.once("error", (error) => (exit = error.message));
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await engineAnswers()) return progress(`dockerd (pid ${child.pid ?? "?"}) answers on ${DOCKER_SOCKET}`);
    if (exit) throw new Error(`dockerd stopped (${exit}) before answering on ${DOCKER_SOCKET}; ${logFile} ends with:\n${await logTail(logFile)}`);
    await sleep(500);
  }
  throw new Error(`dockerd did not answer on ${DOCKER_SOCKET} within ${START_TIMEOUT_MS / 1000} s; ${logFile} ends with:\n${await logTail(logFile)}`);
}

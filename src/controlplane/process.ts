import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, closeSync, constants, openSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  readonly exited: Promise<ProcessExit>;
  hasExited(): boolean;
  stop(graceMs?: number): Promise<void>;
}

const SETPRIV = "/usr/bin/setpriv";

/**
 * setpriv --pdeathsig makes the kernel kill the child when its parent dies, even by SIGKILL,
 * which no handler in the parent could do. Debian and most distributions ship it (util-linux).
 */
export function parentDeathSignalAvailable(): boolean {
  try {
    accessSync(SETPRIV, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const running = new Set<ChildProcess>();

// Last line of defence for normal exits and uncaught errors: kill every group still running.
process.on("exit", () => {
  for (const child of running) killGroup(child, "SIGKILL");
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // The group is already gone.
  }
}

export interface StartOptions {
  logFile: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Starts a long-running child in its own process group (so teardown reaches anything it
 * forks), with its output in a log file, and tied to this process's life.
 */
export function startProcess(
  name: string,
  file: string,
  args: readonly string[],
  options: StartOptions,
): ManagedProcess {
  const log = openSync(options.logFile, "a");
  const [command, commandArgs] = parentDeathSignalAvailable()
    ? [SETPRIV, ["--pdeathsig", "KILL", "--", file, ...args]]
    : [file, [...args]];
  const child = spawn(command, commandArgs, {
    detached: true,
    stdio: ["ignore", log, log],
    env: options.env ?? process.env,
  });
  closeSync(log);
  if (child.pid === undefined) throw new Error(`${name} could not be started (${file})`);
  running.add(child);
  let done = false;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once("exit", (code, signal) => {
      done = true;
      running.delete(child);
      resolve({ code, signal });
    });
  });
  const stop = async (graceMs = 10_000): Promise<void> => {
    if (done) return;
    killGroup(child, "SIGTERM");
    const exitedInTime = await Promise.race([exited.then(() => true), sleep(graceMs).then(() => false)]);
    if (!exitedInTime) killGroup(child, "SIGKILL");
    await exited;
    // Anything the child forked into its group goes with it.
    killGroup(child, "SIGKILL");
  };
  return { name, pid: child.pid, logFile: options.logFile, exited, hasExited: () => done, stop };
}

import { mkdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";

export interface DirectoryLock {
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

async function ownerPid(lockDir: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt(await readFile(`${lockDir}/pid`, "utf8"), 10);
    return Number.isFinite(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

async function tryAcquire(lockDir: string): Promise<boolean> {
  try {
    await mkdir(lockDir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw error;
  }
  await writeFile(`${lockDir}/pid`, String(process.pid));
  return true;
}

const PIDLESS_GRACE_MS = 30_000;

/** A lock without a pid file is one being created right now, unless it has been so for long. */
async function isStale(lockDir: string, owner: number | undefined): Promise<boolean> {
  if (owner !== undefined) return !isAlive(owner);
  try {
    return Date.now() - (await stat(lockDir)).mtimeMs > PIDLESS_GRACE_MS;
  } catch {
    return false;
  }
}

/**
 * An exclusive lock between processes on one machine: mkdir is atomic, and a lock whose owner
 * died (a killed build) is taken over rather than waited on forever.
 */
export async function acquireDirectoryLock(
  lockDir: string,
  onWait: (ownerPid: number | undefined) => void,
): Promise<DirectoryLock> {
  let announced = false;
  for (;;) {
    if (await tryAcquire(lockDir)) {
      return { release: () => rm(lockDir, { recursive: true, force: true }) };
    }
    const owner = await ownerPid(lockDir);
    if (await isStale(lockDir, owner)) {
      await rm(lockDir, { recursive: true, force: true });
      continue;
    }
    if (!announced) onWait(owner);
    announced = true;
    await sleep(1000);
  }
}

import { mkdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { cacheRoot, exists } from "./binaries.js";
import { acquireDirectoryLock } from "./lock.js";

/** Something built once per machine into the cache, under a lock, and only kept when complete. */
export interface CachedBuildSpec {
  /** Folder under the cache root, naming the pinned version(s): `node-k8s-v1.36.3`. */
  readonly dirName: string;
  /** What is built: `Helm v3.22.0`, said while waiting for another build and when one fails. */
  readonly what: string;
  /** Builds into `bin` (which becomes the cached folder), using `work` for anything temporary. */
  build(bin: string, work: string): Promise<void>;
  /** Said when the build fails: what it needs, and any way around it. */
  readonly needs: string;
}

export interface CachedBuild {
  readonly dir: string;
  readonly source: "cache" | "built";
}

const COMPLETE_MARKER = ".complete";

/** What every build from a Go module needs. */
export const GO_NEEDED = "It needs Go (go 1.26 or newer on PATH) and the Go module proxy.";

export async function ensureCachedBuild(spec: CachedBuildSpec, env: NodeJS.ProcessEnv, progress: (message: string) => void): Promise<CachedBuild> {
  const root = cacheRoot(env);
  const dir = join(root, spec.dirName);
  if (await exists(join(dir, COMPLETE_MARKER))) return { dir, source: "cache" };
  await mkdir(root, { recursive: true });
  const lock = await acquireDirectoryLock(`${dir}.lock`, (owner) => progress(`another build of ${spec.what} is running (pid ${owner ?? "?"}); waiting for it`));
  try {
    if (await exists(join(dir, COMPLETE_MARKER))) return { dir, source: "cache" };
    await buildInto(spec, root, dir);
    return { dir, source: "built" };
  } finally {
    await lock.release();
  }
}

async function buildInto(spec: CachedBuildSpec, root: string, dir: string): Promise<void> {
  const work = join(root, `.build-${spec.dirName}-${process.pid}`);
  const bin = join(work, "bin");
  await rm(work, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
  try {
    await mkdir(bin, { recursive: true });
    await spec.build(bin, work);
    await writeFile(join(bin, COMPLETE_MARKER), JSON.stringify({ builtAt: new Date().toISOString() }));
    await rename(bin, dir);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new Error(`building ${spec.what} failed; nothing was left in the cache. ${spec.needs}\n${message}`, { cause: error });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

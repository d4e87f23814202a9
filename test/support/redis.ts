import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type LocalRedis, startLocalRedis } from "../../src/dev/redis.js";

export type RunningRedis = LocalRedis;

/**
 * The Redis `keygate dev` runs: Debian's redis-server (installed by scripts/ensure-deps.mjs before
 * the tests run) on a free loopback port, its log in a fresh temporary folder.
 */
export async function startRedis(extra: readonly string[] = []): Promise<RunningRedis> {
  const dir = await mkdtemp(join(tmpdir(), "keygate-redis-"));
  return startLocalRedis({ logFile: join(dir, "redis.log"), extra });
}

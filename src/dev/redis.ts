import { readFile } from "node:fs/promises";
import { freePort } from "../controlplane/ports.js";
import { type ManagedProcess, startProcess } from "../controlplane/process.js";

// Debian's redis-server (package redis-server); KEYGATE_REDIS_SERVER names another binary.
const REDIS_SERVER = process.env.KEYGATE_REDIS_SERVER ?? "redis-server";
const START_TIMEOUT_MS = 10_000;
const READY_LINE = "Ready to accept connections";

export interface LocalRedis {
  readonly port: number;
  readonly url: string;
  stop(): Promise<void>;
  /** Starts it again after stop(), on the same port, empty. */
  start(): Promise<void>;
}

export interface LocalRedisOptions {
  /** Appended to on every start. */
  readonly logFile: string;
  /** More redis-server arguments. */
  readonly extra?: readonly string[];
}

async function logLength(logFile: string): Promise<number> {
  return (await readFile(logFile, "utf8").catch(() => "")).length;
}

/** Ready once this start's part of the log says so; a server that exits first is an error naming its log. */
async function waitForReady(server: ManagedProcess, logFile: string, from: number): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    const log = (await readFile(logFile, "utf8").catch(() => "")).slice(from);
    if (log.includes(READY_LINE)) return;
    if (server.hasExited() || Date.now() > deadline) {
      await server.stop(0);
      throw new Error(`${REDIS_SERVER} did not start (is Debian's redis-server package installed?); its log:\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/**
 * A Redis on a free loopback port, as the verifier's replay store needs it: nothing on disk, no
 * eviction. Tied to this process's life like the control plane (it dies with it, even by SIGKILL).
 */
export async function startLocalRedis(options: LocalRedisOptions): Promise<LocalRedis> {
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction", ...(options.extra ?? [])];
  let server: ManagedProcess | undefined;
  const start = async (): Promise<void> => {
    const from = await logLength(options.logFile);
    const started = startProcess("redis-server", REDIS_SERVER, args, { logFile: options.logFile });
    server = started;
    await waitForReady(started, options.logFile, from);
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop: async () => {
      const stopping = server;
      server = undefined;
      await stopping?.stop(2000);
    },
  };
}

import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { freePort } from "../../src/controlplane/ports.js";

// Debian's redis-server (installed by scripts/ensure-deps.mjs before the tests run).
const REDIS_SERVER = process.env.KEYGATE_REDIS_SERVER ?? "redis-server";
const START_TIMEOUT_MS = 10_000;

export interface RunningRedis {
  readonly port: number;
  readonly url: string;
  /** Stops the server (SIGKILL: as abrupt as a crash); `start()` brings it back on the same port, empty. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

export function redisServerAvailable(): boolean {
  return spawnSync(REDIS_SERVER, ["--version"], { stdio: "ignore" }).status === 0;
}

function waitForReady(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = "";
    const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), START_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (!output.includes("Ready to accept connections")) return;
      clearTimeout(timer);
      child.stdout?.off("data", onData);
      resolve();
    };
    child.stdout?.on("data", onData);
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`redis-server exited (${code}):\n${output}`));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** A throwaway Redis on a free loopback port: no persistence, no eviction (as the verifier needs). `extra`: more redis-server arguments. */
export async function startRedis(extra: readonly string[] = []): Promise<RunningRedis> {
  const port = await freePort();
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--maxmemory-policy", "noeviction", ...extra];
  let child: ChildProcess | undefined;
  const start = async (): Promise<void> => {
    const started = spawn(REDIS_SERVER, args, { stdio: ["ignore", "pipe", "inherit"] });
    child = started;
    await waitForReady(started);
    started.stdout?.resume();
  };
  await start();
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    start,
    stop: async () => {
      if (!child) return;
      const stopping = child;
      child = undefined;
      stopping.kill("SIGKILL");
      await exited(stopping);
    },
  };
}

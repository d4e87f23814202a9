import { readFile } from "node:fs/promises";
import { type ManagedProcess, startProcess } from "../../../src/controlplane/process.js";
import { acceptsConnections } from "../wait.js";

/** A gateway under test, listening on loopback. */
export interface RunningGateway {
  readonly name: string;
  /** Where clients send their requests, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;

/** Starts a gateway in the foreground; up once its port accepts, an error naming its log if it exits first. */
export async function startGatewayProcess(name: string, command: readonly [string, ...string[]], port: number, logFile: string): Promise<RunningGateway> {
  const [file, ...args] = command;
  const child: ManagedProcess = startProcess(name, file, args, { logFile });
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (!(await acceptsConnections(port))) {
    if (child.hasExited() || Date.now() > deadline) {
      await child.stop(0);
      throw new Error(`${name} did not start on port ${port}; its log:\n${await readFile(logFile, "utf8").catch(() => "")}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { name, url: `http://127.0.0.1:${port}`, stop: () => child.stop(2000) };
}

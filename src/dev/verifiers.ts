import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "../controlplane/ports.js";
import { type ManagedProcess, startProcess } from "../controlplane/process.js";

// `keygate verifier` from the sources, run by this node with this process's loader flags (tsx's).
const MAIN = fileURLToPath(new URL("../cli/main.ts", import.meta.url));
const READY_TIMEOUT_MS = 60_000;

export interface DevVerifierProcess {
  readonly url: string;
  stop(): Promise<void>;
}

export interface VerifierProcessOptions {
  readonly kubeconfig: string;
  readonly operatorNamespace: string;
  readonly replayStore: string;
  /** Where its log goes: <stateDir>/verifier-<index>.log. */
  readonly stateDir: string;
  readonly index: number;
}

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(`${url}/readyz`)).status === 200;
  } catch {
    return false;
  }
}

async function waitReady(child: ManagedProcess, url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (!(await ready(url))) {
    if (child.hasExited()) throw new Error(`the verifier at ${url} exited before it was ready; see ${child.logFile}`);
    if (Date.now() > deadline) throw new Error(`the verifier at ${url} was not ready within ${READY_TIMEOUT_MS / 1000} s; see ${child.logFile}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/**
 * One `keygate verifier` process on a free loopback port, ready (its key index synced), tied to
 * this process's life like the control plane.
 */
export async function startVerifierProcess(options: VerifierProcessOptions): Promise<DevVerifierProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const args = [
    ...process.execArgv,
    MAIN,
    "verifier",
    `--kubeconfig=${options.kubeconfig}`,
    `--namespace=${options.operatorNamespace}`,
    "--verifier-host=127.0.0.1",
    `--verifier-port=${port}`,
    "--last-used-interval=5s",
    `--replay-store=${options.replayStore}`,
  ];
  const child = startProcess(`verifier-${options.index}`, process.execPath, args, { logFile: join(options.stateDir, `verifier-${options.index}.log`) });
  try {
    await waitReady(child, url);
  } catch (error) {
    await child.stop();
    throw error;
  }
  return { url, stop: () => child.stop() };
}

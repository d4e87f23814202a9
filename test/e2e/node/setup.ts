import { readFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { TestProject } from "vitest/node";
import { ensureControlPlaneBinaries } from "../../../src/controlplane/binaries.js";
import { ensureDockerEngine } from "../../../src/controlplane/docker.js";
import { ensureHelm } from "../../../src/controlplane/helm.js";
import { type ManagedProcess, startProcess } from "../../../src/controlplane/process.js";
import type { DevNodeInfo } from "../../../src/dev/dev-node.js";
import { hostSnapshot } from "./host.js";
import { DEV_CLI, type NodeTestInfo, RELEASE, RELEASE_NAMESPACE } from "./info.js";

const PREREQUISITES = ".keygate/e2e-prerequisites.json";
// A cold machine builds every image (debootstrap, npm ci) and the node's binaries first.
const READY_TIMEOUT_MS = 45 * 60_000;

function progress(message: string): void {
  process.stderr.write(`[node] ${message}\n`);
}

async function skipReason(): Promise<string | undefined> {
  const text = await readFile(PREREQUISITES, "utf8").catch(() => undefined);
  return text === undefined ? undefined : ((JSON.parse(text) as { skip?: string | null }).skip ?? undefined);
}

async function waitForDevJson(dev: ManagedProcess, devJson: string): Promise<DevNodeInfo> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (dev.hasExited()) throw new Error(`keygate dev --node exited before it was ready; see ${dev.logFile}`);
    const text = await readFile(devJson, "utf8").catch(() => undefined);
    if (text !== undefined) return JSON.parse(text) as DevNodeInfo;
    await sleep(500);
  }
  throw new Error(`keygate dev --node was not ready within ${READY_TIMEOUT_MS / 60_000} min; see ${dev.logFile}`);
}

/**
 * `keygate dev --node` as a user runs it, in a process of its own (a test kills it to prove the
 * cleanup); the chart is installed by the tests, as a user would.
 */
export default async function setup(project: TestProject): Promise<(() => Promise<void>) | undefined> {
  const skip = await skipReason();
  if (skip) {
    project.provide("node", { skip } as NodeTestInfo);
    return undefined;
  }
  const binaries = await ensureControlPlaneBinaries({ progress });
  // Docker changes the host too (docker0, ip_forward): started first, so that the snapshot the
  // cleanup tests compare with shows only what the node changes.
  await ensureDockerEngine(progress);
  const hostBefore = await hostSnapshot();
  const helm = await ensureHelm({ progress });
  const stateDir = await mkdtemp(join(tmpdir(), "keygate-node-e2e-"));
  const devArgs = [...DEV_CLI, "dev", "--node", "--state-dir", stateDir];
  progress(`keygate dev --node (log: ${join(stateDir, "dev.log")})`);
  const dev = startProcess("keygate-dev-node", process.execPath, devArgs, { logFile: join(stateDir, "dev.log") });
  const started = Date.now();
  const info = await waitForDevJson(dev, join(stateDir, "dev.json"));
  progress(`node ready in ${Math.round((Date.now() - started) / 1000)} s`);
  const provided: NodeTestInfo = {
    skip: undefined,
    hostBefore,
    dev: info,
    devPid: dev.pid,
    stateDir,
    kubectl: binaries.path("kubectl"),
    helm: helm.path,
    release: RELEASE,
    namespace: RELEASE_NAMESPACE,
  };
  project.provide("node", provided);
  return async () => {
    await dev.stop(120_000);
    await rm(stateDir, { recursive: true, force: true });
  };
}

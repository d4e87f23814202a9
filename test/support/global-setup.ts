import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestProject } from "vitest/node";
import { ensureControlPlaneBinaries } from "../../src/controlplane/binaries.js";
import { startControlPlane } from "../../src/controlplane/harness.js";
import { applyCrds } from "../../src/controlplane/kubectl.js";
import { CRDS_DIR } from "../../src/paths.js";
import type { ControlPlaneInfo } from "./control-plane-info.js";

function progress(message: string): void {
  process.stderr.write(`[control plane] ${message}\n`);
}

/** One real control plane for the whole integration run; every test file gets its own namespace. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const binaries = await ensureControlPlaneBinaries({ progress });
  progress(`binaries from ${binaries.source}: ${binaries.dir}`);
  const stateDir = await mkdtemp(join(tmpdir(), "keygate-test-"));
  const controlPlane = await startControlPlane({ stateDir, binaries, progress });
  const teardown = async (): Promise<void> => {
    await controlPlane.stop();
    await rm(stateDir, { recursive: true, force: true });
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    progress(`${signal}: stopping the control plane`);
    const exit = (): never => process.exit(signal === "SIGINT" ? 130 : 143);
    teardown().then(exit, exit);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  await applyCrds(binaries, controlPlane.kubeconfigPath, CRDS_DIR);
  const info: ControlPlaneInfo = {
    apiServerUrl: controlPlane.apiServerUrl,
    kubeconfigPath: controlPlane.kubeconfigPath,
    unprivilegedKubeconfigPath: controlPlane.unprivilegedKubeconfigPath,
    caFiles: controlPlane.caFiles,
    binDir: binaries.dir,
    binarySource: binaries.source,
  };
  project.provide("controlPlane", info);
  return teardown;
}

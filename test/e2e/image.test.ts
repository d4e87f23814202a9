import { chmod, copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { type StartedTestContainer, Wait } from "testcontainers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureControlPlaneBinaries } from "../../src/controlplane/binaries.js";
import { ensureDockerEngine } from "../../src/controlplane/docker.js";
import { type ControlPlane, startControlPlane } from "../../src/controlplane/harness.js";
import { buildKeygateImage, type LocalImage } from "../../src/controlplane/images.js";
import { applyCrds, kubectl } from "../../src/controlplane/kubectl.js";
import { freePort } from "../../src/controlplane/ports.js";
import { CRDS_DIR } from "../../src/paths.js";
import { containerProcesses, LocalContainer, rootFilesystemChanges, terminate } from "../support/containers.js";
import { e2eSkipReason, progressOf } from "../support/e2e.js";

// The image the Dockerfile builds, run as the chart runs it: its default entrypoint and the
// `operator` command (controllers, webhook and the verification API), against a real API server
// on this machine (host networking, so 127.0.0.1 is the host's).

const skip = e2eSkipReason("test/e2e/image.test.ts");
const progress = progressOf("keygate image");
const NON_ROOT = 65532;
const OPERATOR_NAMESPACE = "keygate-system";
const KUBECONFIG_DIR_IN_CONTAINER = "/etc/keygate";
// The verification API may go on answering a few seconds after SIGTERM, while endpoints are
// removed; the process must still be gone well before the kubelet's SIGKILL, at the chart's
// terminationGracePeriodSeconds (30).
const EXIT_WITHIN_MS = 10_000;

interface Ports {
  verifier: number;
  webhook: number;
  metrics: number;
}

interface Cluster {
  controlPlane: ControlPlane;
  /** A copy of the admin kubeconfig the container's uid may read. */
  kubeconfigDir: string;
  stateDir: string;
}

async function startCluster(): Promise<Cluster> {
  const binaries = await ensureControlPlaneBinaries({ progress });
  const stateDir = await mkdtemp(join(tmpdir(), "keygate-e2e-"));
  const controlPlane = await startControlPlane({ stateDir, binaries, progress });
  await applyCrds(binaries, controlPlane.kubeconfigPath, CRDS_DIR);
  await kubectl(binaries, controlPlane.kubeconfigPath, ["create", "namespace", OPERATOR_NAMESPACE]);
  // The control plane's files are root's alone; the container runs as 65532.
  const kubeconfigDir = await mkdtemp(join(tmpdir(), "keygate-e2e-kubeconfig-"));
  await chmod(kubeconfigDir, 0o755);
  await copyFile(controlPlane.kubeconfigPath, join(kubeconfigDir, "kubeconfig"));
  await chmod(join(kubeconfigDir, "kubeconfig"), 0o644);
  return { controlPlane, kubeconfigDir, stateDir };
}

async function freePorts(): Promise<Ports> {
  return { verifier: await freePort(), webhook: await freePort(), metrics: await freePort() };
}

function operatorArgs(ports: Ports): string[] {
  return [
    "operator",
    `--kubeconfig=${KUBECONFIG_DIR_IN_CONTAINER}/kubeconfig`,
    `--namespace=${OPERATOR_NAMESPACE}`,
    "--identity=e2e",
    "--no-leader-election",
    "--verifier-host=127.0.0.1",
    `--verifier-port=${ports.verifier}`,
    "--webhook-host=127.0.0.1",
    `--webhook-port=${ports.webhook}`,
    "--webhook-public-host=127.0.0.1",
    "--metrics-host=127.0.0.1",
    `--metrics-port=${ports.metrics}`,
  ];
}

/** The image's own entrypoint with the operator command, started once it says it serves. */
async function startOperator(image: LocalImage, cluster: Cluster, readOnly: boolean): Promise<{ container: StartedTestContainer; ports: Ports }> {
  const ports = await freePorts();
  const container = new LocalContainer(image.ref)
    .withNetworkMode("host")
    .withCommand(operatorArgs(ports))
    .withBindMounts([{ source: cluster.kubeconfigDir, target: KUBECONFIG_DIR_IN_CONTAINER, mode: "ro" }])
    .withRestrictedPrivileges()
    .withWaitStrategy(Wait.forLogMessage(/"msg":"verifier listening"/))
    .withStartupTimeout(60_000);
  if (readOnly) container.withReadOnlyRootFilesystem();
  return { container: await container.start(), ports };
}

async function status(url: string): Promise<number | undefined> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
    await response.body?.cancel();
    return response.status;
  } catch {
    return undefined;
  }
}

/** Polls until the URL answers 200 or the time is up; the last status seen. */
async function statusWithin(url: string, ms: number): Promise<number | undefined> {
  const deadline = Date.now() + ms;
  let last = await status(url);
  while (last !== 200 && Date.now() < deadline) {
    await sleep(500);
    last = await status(url);
  }
  return last;
}

describe.skipIf(skip !== undefined)("the keygate image", () => {
  let image: LocalImage;
  let cluster: Cluster | undefined;

  beforeAll(async () => {
    await ensureDockerEngine(progress);
    image = await buildKeygateImage("e2e", progress);
    cluster = await startCluster();
  });

  afterAll(async () => {
    await cluster?.controlPlane.stop();
    await rm(cluster?.stateDir ?? "", { recursive: true, force: true });
    await rm(cluster?.kubeconfigDir ?? "", { recursive: true, force: true });
  });

  describe("running the operator on a read-only root filesystem", () => {
    let container: StartedTestContainer | undefined;
    let ports: Ports;

    beforeAll(async () => {
      if (!cluster) throw new Error("no control plane");
      ({ container, ports } = await startOperator(image, cluster, true));
    });

    afterAll(async () => {
      await container?.stop({ timeout: 1000 });
    });

    it("runs every process as uid and gid 65532, not root", async () => {
      const processes = await containerProcesses(container?.getId() ?? "");
      expect(processes.length).toBeGreaterThanOrEqual(2); // tini and node
      for (const process of processes) {
        expect(process.uids, `uids of pid ${process.pid}`).toEqual([NON_ROOT, NON_ROOT, NON_ROOT, NON_ROOT]);
        expect(process.gids, `gids of pid ${process.pid}`).toEqual([NON_ROOT, NON_ROOT, NON_ROOT, NON_ROOT]);
      }
    });

    it("cannot write its root filesystem, not even /tmp, and still serves", async () => {
      const probe = 'try { require("node:fs").writeFileSync("/tmp/keygate-e2e-probe", "x"); console.log("written") } catch (e) { console.log(e.code) }';
      const result = await container?.exec(["node", "-e", probe]);
      expect(result?.output.trim()).toBe("EROFS");
    });

    it("serves /healthz, and /readyz once it has synced with the API server", async () => {
      expect(await status(`http://127.0.0.1:${ports.verifier}/healthz`)).toBe(200);
      expect(await statusWithin(`http://127.0.0.1:${ports.verifier}/readyz`, 60_000)).toBe(200);
    });

    it("exits 0 within seconds of SIGTERM", async () => {
      const termination = await terminate(container?.getId() ?? "", 30_000);
      expect(termination.exitCode).toBe(0);
      expect(termination.elapsedMs).toBeLessThan(EXIT_WITHIN_MS);
    });
  });

  it("writes nothing in a whole life on a writable root filesystem: start, serve, SIGTERM", async () => {
    if (!cluster) throw new Error("no control plane");
    const { container, ports } = await startOperator(image, cluster, false);
    try {
      expect(await statusWithin(`http://127.0.0.1:${ports.verifier}/readyz`, 60_000)).toBe(200);
      expect((await terminate(container.getId(), 30_000)).exitCode).toBe(0);
      expect(await rootFilesystemChanges(container.getId(), [KUBECONFIG_DIR_IN_CONTAINER])).toEqual([]);
    } finally {
      await container.stop({ timeout: 1000 });
    }
  });
});

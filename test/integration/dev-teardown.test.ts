import { type ChildProcess, spawn } from "node:child_process";
import { access, mkdtemp, readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { KUBERNETES_VERSION } from "../../src/controlplane/versions.js";
import { kubectl } from "../support/cluster.js";
import { processesMentioning } from "../support/processes.js";

interface DevJson {
  kubeconfig: string;
  apiServer: string;
  operatorMetricsUrl: string;
  pid: number;
}

async function until<T>(check: () => Promise<T | undefined>, what: string, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function startDev(): Promise<{ child: ChildProcess; stateDir: string; info: DevJson; output: () => string }> {
  const stateDir = await mkdtemp(join(tmpdir(), "keygate-dev-"));
  // tsx's loader in node itself rather than the tsx command, which would fork: the test checks
  // that dev.json names this child's pid.
  const child = spawn(process.execPath, ["--import", "tsx", "src/dev/cli.ts", "dev", "--state-dir", stateDir], { stdio: "pipe" });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const info = await until(
    async () => {
      if (child.exitCode !== null) throw new Error(`keygate dev exited early:\n${output}`);
      const text = await readFile(join(stateDir, "dev.json"), "utf8").catch(() => undefined);
      return text === undefined ? undefined : (JSON.parse(text) as DevJson);
    },
    "dev.json",
    150_000,
  );
  return { child, stateDir, info, output: () => output };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once("exit", (code) => resolve(code)));
}

describe("keygate dev", () => {
  it("serves the pinned version, then leaves nothing behind on SIGTERM", async () => {
    const dev = await startDev();
    expect(dev.info.pid).toBe(dev.child.pid);
    const { stdout } = await kubectl(["version", "-o", "json"], dev.info.kubeconfig);
    expect((JSON.parse(stdout) as { serverVersion: { gitVersion: string } }).serverVersion.gitVersion).toBe(
      `v${KUBERNETES_VERSION}`,
    );
    expect(dev.output()).toContain("kubectl --kubeconfig");
    const metrics = await (await fetch(dev.info.operatorMetricsUrl)).text();
    expect(metrics).toContain('controller_runtime_reconcile_total{controller="accesskey",result="success"}');
    expect(metrics).toContain('workqueue_depth{name="accesskey",controller="accesskey"}');
    expect(metrics).toContain('leader_election_master_status{name="keygate-operator"} 1');
    const children = await processesMentioning(dev.stateDir);
    // etcd, kube-apiserver, kube-controller-manager, and the dev process itself.
    expect(children.length).toBeGreaterThanOrEqual(4);
    dev.child.kill("SIGTERM");
    expect(await exited(dev.child)).toBe(0);
    expect(await processesMentioning(dev.stateDir)).toEqual([]);
    await expect(access(join(dev.stateDir, "dev.json"))).rejects.toThrow();
  });

  it("leaves no control-plane process behind when it is killed with SIGKILL", async () => {
    const dev = await startDev();
    expect((await processesMentioning(dev.stateDir)).length).toBeGreaterThanOrEqual(4);
    dev.child.kill("SIGKILL");
    await exited(dev.child);
    // The kernel delivers the parent-death signal; give it a moment to reap.
    const left = await until(
      async () => {
        const pids = await processesMentioning(dev.stateDir);
        return pids.length === 0 ? pids : undefined;
      },
      "control-plane processes to die",
      10_000,
    );
    expect(left).toEqual([]);
  });
});

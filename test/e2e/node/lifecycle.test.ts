import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { run } from "../../../src/controlplane/exec.js";
import { PACKAGE_ROOT } from "../../../src/paths.js";
import { NodeCluster, nodeOrSkip } from "./cluster.js";
import { nodeTraces } from "./host.js";
import { DEV_CLI } from "./info.js";

// Runs last (vitest.e2e.config.ts orders the files): the documented uninstall on the real node,
// then the node itself killed with SIGKILL, and a second one stopped with SIGTERM; each time the
// host must be left exactly as it was.

const info = nodeOrSkip("lifecycle.test.ts");
const cluster = info ? new NodeCluster(info) : undefined;

function documentedCleanup(): string {
  const docs = readFileSync(join(PACKAGE_ROOT, "docs", "install.md"), "utf8");
  const block = /<!-- cleanup: operator running[^>]*-->\n```sh\n([\s\S]*?)```/.exec(docs)?.[1];
  if (!block) throw new Error("docs/install.md has no marked cleanup block for a running operator");
  return block;
}

async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let value = await read();
  while (!done(value) && Date.now() < deadline) {
    await sleep(500);
    value = await read();
  }
  return value;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!cluster)("uninstalling, and stopping the node", () => {
  const c = cluster as NodeCluster;

  it("leaves nothing of keygate in the cluster after helm uninstall and the documented cleanup", async () => {
    const path = [dirname(info?.kubectl ?? ""), dirname(info?.helm ?? ""), process.env.PATH].join(":");
    await run("bash", ["-euo", "pipefail", "-c", documentedCleanup()], { env: { ...process.env, PATH: path, KUBECONFIG: info?.dev.kubeconfig }, timeoutMs: 600_000 });
    const leftovers = async (): Promise<string[]> => {
      const names = (await c.kubectl(["get", "clusterroles,clusterrolebindings,validatingwebhookconfigurations,mutatingwebhookconfigurations,crds,namespaces", "-o", "name"])).stdout.split("\n");
      const secrets = (await c.kubectl(["get", "secrets", "--all-namespaces", "-o", "name", "-l", "app.kubernetes.io/managed-by=keygate"])).stdout.split("\n");
      return [...names.filter((name) => /keygate/.test(name)), ...secrets.filter((name) => name !== "")];
    };
    // The garbage collector removes issued Secrets after their owners: eventually, not at once.
    expect(await eventually(leftovers, (left) => left.length === 0, 120_000)).toEqual([]);
  });

  it("cleans the host after SIGKILL of keygate dev --node (containers, mounts, links, firewall, sysctls)", async () => {
    const pid = info?.devPid ?? 0;
    expect(isAlive(pid)).toBe(true);
    process.kill(pid, "SIGKILL");
    const traces = await eventually(() => nodeTraces(info?.hostBefore ?? { sysctls: {}, links: [] }), (left) => left.length === 0, 90_000);
    expect(traces).toEqual([]);
  });

  it("cleans the host after SIGTERM of keygate dev --node", async () => {
    const stateDir = await mkdtemp(join(tmpdir(), "keygate-node-sigterm-"));
      const dev = spawn(process.execPath, [...DEV_CLI, "dev", "--node", "--state-dir", stateDir], { cwd: PACKAGE_ROOT, stdio: "ignore" });
    const exited = new Promise<number | null>((resolve) => dev.once("exit", (code) => resolve(code)));
    try {
      const ready = await eventually(() => readFile(join(stateDir, "dev.json"), "utf8").catch(() => ""), (text) => text !== "", 600_000);
      expect(ready).toContain('"kubeconfig"');
      dev.kill("SIGTERM");
      expect(await exited).toBe(0);
      expect(await nodeTraces(info?.hostBefore ?? { sysctls: {}, links: [] })).toEqual([]);
    } finally {
      dev.kill("SIGKILL");
      await rm(stateDir, { recursive: true, force: true });
    }
  });
});

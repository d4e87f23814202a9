import { join } from "node:path";
import { inject } from "vitest";
import { parseAllDocuments } from "yaml";
import { run, type RunResult } from "../../../src/controlplane/exec.js";
import { ensureBaseImage } from "../../../src/controlplane/images.js";
import { importIntoNode } from "../../../src/controlplane/node.js";
import { PACKAGE_ROOT } from "../../../src/paths.js";
import type { NodeTestInfo } from "./info.js";

const CHART = join(PACKAGE_ROOT, "charts", "keygate");

/** The node this run started, or undefined (said once on stderr) when the node tests cannot run here. */
export function nodeOrSkip(file: string): NodeTestInfo | undefined {
  const info = inject("node");
  if (info.skip) {
    process.stderr.write(`${file}: skipped: ${info.skip}\n`);
    return undefined;
  }
  return info;
}

export class NodeCluster {
  constructor(readonly info: NodeTestInfo) {}

  kubectl(args: readonly string[], input?: string): Promise<RunResult> {
    const all = [`--kubeconfig=${this.info.dev.kubeconfig}`, ...args];
    return run(this.info.kubectl, all, { timeoutMs: 180_000, input });
  }

  async apply(manifest: string, namespace?: string): Promise<void> {
    await this.kubectl([...(namespace ? ["-n", namespace] : []), "apply", "-f", "-"], manifest);
  }

  async json<T>(args: readonly string[]): Promise<T> {
    return JSON.parse((await this.kubectl([...args, "-o", "json"])).stdout) as T;
  }

  helm(args: readonly string[]): Promise<RunResult> {
    return run(this.info.helm, [`--kubeconfig=${this.info.dev.kubeconfig}`, ...args], { timeoutMs: 600_000 });
  }

  /** `helm install` of charts/keygate as docs/install.md says, with only the image values of dev.json. */
  async installChart(extra: readonly string[] = []): Promise<RunResult> {
    const { release, namespace, dev } = this.info;
    return this.helm(["install", release, CHART,  "-n", namespace, "--create-namespace", "-f", dev.helmValues, "--wait", "--timeout", "5m", ...extra]);
  }

  /** `helm upgrade` with the same image values, and `--set` ones on top. */
  async upgradeChart(sets: readonly string[]): Promise<RunResult> {
    const { release, namespace, dev } = this.info;
    return this.helm(["upgrade", release, CHART, "-n", namespace, "-f", dev.helmValues, ...sets.flatMap((set) => ["--set", set]), "--wait", "--timeout", "5m"]);
  }

  async chartManifest(): Promise<Array<Record<string, unknown>>> {
    const { stdout } = await this.helm(["get", "manifest", this.info.release, "-n", this.info.namespace]);
    return parseAllDocuments(stdout)
      .map((document) => document.toJSON() as Record<string, unknown> | null)
      .filter((object): object is Record<string, unknown> => object !== null);
  }
}

/** Builds an image of the tests' own (FROM the local base image) and imports it into the node's containerd. */
export async function buildTestImage(ref: string, contextDir: string, stateDir: string): Promise<void> {
  const base = await ensureBaseImage();
  await run("docker", ["build", "--network", "host", "--build-arg", `BASE_IMAGE=${base.ref}`, "-t", ref, contextDir], { timeoutMs: 1_800_000 });
  const archive = join(stateDir, `${ref.replace(/[/:]/g, "_")}.tar`);
  await run("docker", ["save", "-o", archive, ref], { timeoutMs: 600_000 });
  await importIntoNode([archive]);
}

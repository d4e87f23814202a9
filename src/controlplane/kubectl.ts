import { readdir } from "node:fs/promises";
import { join } from "node:path";
import type { ControlPlaneBinaries } from "./binaries.js";
import { run, type RunResult } from "./exec.js";

export function kubectl(binaries: ControlPlaneBinaries, kubeconfig: string, args: readonly string[]): Promise<RunResult> {
  return run(binaries.path("kubectl"), [`--kubeconfig=${kubeconfig}`, ...args], { timeoutMs: 120_000 });
}

async function manifestsIn(dir: string): Promise<string[]> {
  const entries = await readdir(dir).catch(() => [] as string[]);
  return entries.filter((name) => /\.ya?ml$/.test(name)).sort().map((name) => join(dir, name));
}

/** Applies every CRD manifest in dir with the real kubectl and waits until each is Established. */
export async function applyCrds(binaries: ControlPlaneBinaries, kubeconfig: string, dir: string): Promise<string[]> {
  const files = await manifestsIn(dir);
  if (files.length === 0) return [];
  await kubectl(binaries, kubeconfig, ["apply", "--server-side", ...files.flatMap((file) => ["-f", file])]);
  await kubectl(binaries, kubeconfig, [
    "wait",
    "--for=condition=Established",
    "--timeout=60s",
    ...files.flatMap((file) => ["-f", file]),
  ]);
  return files;
}

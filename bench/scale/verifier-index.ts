// The verifier's key index at scale (issue 16, item 3): heap per key and time to ready for a
// restarted verifier, against a real kube-apiserver and etcd filled with 10k and then 100k keys.
//
//   flock /tmp/keygate-bench.lock npx tsx bench/scale/verifier-index.ts [options]
//
//   --keys=10000,100000   the sizes measured, in order, after the size the cluster has already (on
//                         a fresh cluster, 0 keys: the baseline)
//   --baseline=<json>     an earlier result of this bench on the same cluster whose 0-key rows are
//                         the baseline, when the cluster already holds keys
//   --src=<dir>[,<dir>…]  src trees whose verifier is measured (default: ./src); e.g. a snapshot of
//                         an older commit: mkdir -p .keygate/bench-src/old &&
//                         git archive <commit> src | tar -x -C .keygate/bench-src/old
//   --rounds=2            restarts per tree and size, alternating between the trees
//   --concurrency=32      API calls in flight while filling the cluster
//   --kubeconfig=<path>   use this cluster (already holding the CRDs) instead of starting one
//   --serve               only start a control plane (CRDs applied), print its kubeconfig and keep
//                         it until interrupted: filling 100k keys takes a while, so several runs
//                         can share one (its processes die with this one)
//
// Each restart is a process of its own (verifier-index-child.ts): startVerifier() until ready(),
// then the heap after a full collection. Bytes per key = (heap at N keys − heap at 0 keys) / N,
// medians over the rounds. Results go to bench/results/<date>-index.json.
import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { ensureControlPlaneBinaries } from "../../src/controlplane/binaries.js";
import { type ControlPlane, startControlPlane } from "../../src/controlplane/harness.js";
import { applyCrds } from "../../src/controlplane/kubectl.js";
import { CRDS_DIR } from "../../src/paths.js";
import { currentLoad, describeMachine } from "../lib/machine.js";
import type { ChildResult } from "./verifier-index-child.js";
import { populate, populated, prepare } from "./verifier-index-populate.js";

const OPERATOR_NAMESPACE = "keygate-system";
const run = promisify(execFile);

interface Options {
  readonly keys: readonly number[];
  readonly srcDirs: readonly string[];
  readonly rounds: number;
  readonly concurrency: number;
  readonly kubeconfig: string | undefined;
  readonly serve: boolean;
  readonly baseline: string | undefined;
}

function parseOptions(argv: readonly string[]): Options {
  const value = (name: string): string | undefined =>
    argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  return {
    keys: (value("keys") ?? "10000,100000").split(",").map(Number),
    srcDirs: (value("src") ?? "src").split(",").map((dir) => resolve(dir)),
    rounds: Number(value("rounds") ?? 2),
    concurrency: Number(value("concurrency") ?? 32),
    kubeconfig: value("kubeconfig"),
    serve: argv.includes("--serve"),
    baseline: value("baseline"),
  };
}

function progress(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function restart(srcDir: string, kubeconfig: string): Promise<ChildResult> {
  const child = resolve("bench/scale/verifier-index-child.ts");
  const { stdout } = await run(process.execPath, ["--expose-gc", "--import", "tsx", child, srcDir, kubeconfig, OPERATOR_NAMESPACE], {
    maxBuffer: 1 << 20,
    timeout: 15 * 60_000,
  });
  return JSON.parse(stdout.trim().split("\n").at(-1) ?? "") as ChildResult;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] ?? Number.NaN) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

interface SizeResult {
  readonly src: string;
  readonly keys: number;
  readonly runs: readonly ChildResult[];
}

async function measure(options: Options, kubeconfig: string, keys: number): Promise<SizeResult[]> {
  const runs = new Map<string, ChildResult[]>(options.srcDirs.map((dir) => [dir, []]));
  for (let round = 0; round < options.rounds; round++) {
    for (const dir of round % 2 === 0 ? options.srcDirs : [...options.srcDirs].reverse()) {
      const result = await restart(dir, kubeconfig);
      const total = Object.values(result.keys).reduce((sum, count) => sum + count, 0);
      if (total !== keys) throw new Error(`${dir}: the verifier reports ${total} keys, expected ${keys}`);
      progress(
        `${dir} @ ${keys}: ready in ${result.readyMs} ms, heap ${(result.heapUsedReady / 2 ** 20).toFixed(1)} MiB, max RSS ${(result.maxRss / 2 ** 20).toFixed(0)} MiB`,
      );
      runs.get(dir)?.push(result);
    }
  }
  // Relative to the working directory, so a committed result names no machine's paths.
  return options.srcDirs.map((src) => ({ src: relative(process.cwd(), src), keys, runs: runs.get(src) ?? [] }));
}

function summarise(results: readonly SizeResult[]): Record<string, unknown>[] {
  return results.map(({ src, keys, runs }) => {
    const baseline = results.find((other) => other.src === src && other.keys === 0);
    const base = baseline ? median(baseline.runs.map((r) => r.heapUsedReady)) : Number.NaN;
    const heap = median(runs.map((r) => r.heapUsedReady));
    const smaller = results.filter((other) => other.src === src && other.keys > 0 && other.keys < keys).at(-1);
    const marginal = smaller && (heap - median(smaller.runs.map((r) => r.heapUsedReady))) / (keys - smaller.keys);
    return {
      src,
      keys,
      readyMs: median(runs.map((r) => r.readyMs)),
      readyMsRange: [Math.min(...runs.map((r) => r.readyMs)), Math.max(...runs.map((r) => r.readyMs))],
      processReadyMs: median(runs.map((r) => r.processReadyMs)),
      heapUsedReady: heap,
      bytesPerKey: keys === 0 ? null : Math.round((heap - base) / keys),
      // Heap added per key since the next smaller size: free of the fixed part of the baseline.
      bytesPerKeyFromSmaller: marginal === undefined ? null : Math.round(marginal),
      rssReady: median(runs.map((r) => r.rssReady)),
      maxRss: median(runs.map((r) => r.maxRss)),
    };
  });
}

async function baselineOf(file: string): Promise<SizeResult[]> {
  const earlier = JSON.parse(await readFile(file, "utf8")) as { results: SizeResult[] };
  return earlier.results.filter((result) => result.keys === 0);
}

async function cluster(options: Options): Promise<{ kubeconfig: string; stop: () => Promise<void> }> {
  if (options.kubeconfig !== undefined) return { kubeconfig: options.kubeconfig, stop: () => Promise.resolve() };
  const binaries = await ensureControlPlaneBinaries({ progress });
  const stateDir = await mkdtemp(join(tmpdir(), "keygate-bench-index-"));
  let plane: ControlPlane | undefined;
  const stop = async (): Promise<void> => {
    await plane?.stop();
    await rm(stateDir, { recursive: true, force: true });
  };
  try {
    plane = await startControlPlane({ stateDir, binaries, progress });
    await applyCrds(binaries, plane.kubeconfigPath, CRDS_DIR);
  } catch (error) {
    await stop();
    throw error;
  }
  return { kubeconfig: plane.kubeconfigPath, stop };
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const loadAtStart = currentLoad();
  const plane = await cluster(options);
  const onSignal = (): void => {
    plane.stop().then(
      () => process.exit(130),
      () => process.exit(130),
    );
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  if (options.serve) {
    progress(`control plane up, until interrupted: --kubeconfig=${plane.kubeconfig}`);
    return;
  }
  try {
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(plane.kubeconfig);
    const keks = await prepare(kc, OPERATOR_NAMESPACE);
    const results: SizeResult[] = options.baseline === undefined ? [] : await baselineOf(options.baseline);
    const fill: Record<number, number> = {};
    const present = await populated(kc, OPERATOR_NAMESPACE);
    for (const keys of [present, ...options.keys.filter((size) => size > present)]) {
      if (keys > present) {
        progress(`filling the cluster to ${keys} keys`);
        fill[keys] = await populate(kc, keys, { keks, operatorNamespace: OPERATOR_NAMESPACE, concurrency: options.concurrency, progress });
      }
      results.push(...(await measure(options, plane.kubeconfig, keys)));
    }
    const summary = summarise(results);
    for (const row of summary) progress(JSON.stringify(row));
    const stamp = new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
    await mkdir("bench/results", { recursive: true });
    const file = `bench/results/${stamp}-index.json`;
    const machine = describeMachine(loadAtStart);
    await writeFile(file, `${JSON.stringify({ kind: "verifier-index", machine, fillMs: fill, summary, results }, null, 2)}\n`);
    progress(`results in ${file}`);
  } finally {
    await plane.stop();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});

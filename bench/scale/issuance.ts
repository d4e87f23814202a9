// Issuance and recovery at scale (issue 16, items 4 and 5), against a real kube-apiserver and
// etcd, with the operator and a verifier as processes of their own running the compiled code.
//
//   flock /tmp/keygate-bench.lock npx tsx bench/scale/issuance.ts [--keys=1000,3000,10000] [--concurrency=64]
//
// For each size, in order, the AccessKeys missing to reach it are created at once (one user
// each, through the admission webhook, `concurrency` creates in flight) and timed until every one
// of them reports Issued; the operator's CPU time per key and its peak RSS come from /proc. At
// the largest size, recovery: the operator is restarted (SIGTERM, a new process), one key is
// created as soon as the new one leads, and timed until Issued; then the same after a SIGKILL of
// the leader with a standby replica running. Results go to bench/results/<date>-scale.json.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import * as k8s from "@kubernetes/client-node";
import { pino } from "pino";
import { ensureControlPlaneBinaries } from "../../src/controlplane/binaries.js";
import { startControlPlane } from "../../src/controlplane/harness.js";
import { applyCrds } from "../../src/controlplane/kubectl.js";
import { Informer } from "../../src/runtime/informer.js";
import { PooledKubeConfig } from "../../src/runtime/kubeconfig.js";
import { customResourceSource } from "../../src/runtime/sources.js";
import { CRDS_DIR } from "../../src/paths.js";
import { currentLoad, describeMachine } from "../lib/machine.js";

const OPERATOR_NAMESPACE = "keygate-system";
const NAMESPACES = 10;
const run = promisify(execFile);
const ROOT = resolve(import.meta.dirname, "../..");

interface Options {
  readonly keys: readonly number[];
  readonly concurrency: number;
}

function parseOptions(argv: readonly string[]): Options {
  const value = (name: string): string | undefined => argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
  return {
    keys: (value("keys") ?? "1000,3000,10000").split(",").map(Number),
    concurrency: Number(value("concurrency") ?? 64),
  };
}

function progress(message: string): void {
  process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/** User + system CPU seconds of a process so far, and its peak RSS in MB, from /proc. */
async function processUsage(pid: number): Promise<{ cpuSeconds: number; peakRssMb: number }> {
  const stat = (await readFile(`/proc/${pid}/stat`, "utf8")).split(") ")[1]?.split(" ") ?? [];
  const ticks = Number(stat[11]) + Number(stat[12]);
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const hwm = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return { cpuSeconds: ticks / 100, peakRssMb: Math.round(hwm / 1024) };
}

/** A keygate process (compiled code), its output kept for "leading" and for errors. */
class KeygateProcess {
  readonly child: ChildProcess;
  private output = "";

  constructor(args: readonly string[], kubeconfig: string) {
    this.child = spawn(process.execPath, [join(ROOT, "bin/keygate.js"), ...args, "--kubeconfig", kubeconfig], { stdio: "pipe" });
    this.child.stdout?.on("data", (chunk: Buffer) => this.note(chunk));
    this.child.stderr?.on("data", (chunk: Buffer) => this.note(chunk));
  }

  private note(chunk: Buffer): void {
    this.output = (this.output + chunk.toString()).slice(-200_000);
  }

  async waitFor(text: string, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.output.includes(text)) {
      if (this.child.exitCode !== null) throw new Error(`keygate exited (${this.child.exitCode}):\n${this.output.slice(-4000)}`);
      if (Date.now() > deadline) throw new Error(`no "${text}" after ${timeoutMs} ms:\n${this.output.slice(-4000)}`);
      await new Promise((done) => setTimeout(done, 50));
    }
  }

  forget(): void {
    this.output = "";
  }

  usage(): Promise<{ cpuSeconds: number; peakRssMb: number }> {
    return processUsage(this.child.pid ?? 0);
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((done) => this.child.once("exit", done));
    this.child.kill(signal);
    await exited;
  }
}

function operatorArgs(identity: string, leaderElection: boolean): string[] {
  return [
    "operator",
    "--namespace", OPERATOR_NAMESPACE,
    "--identity", identity,
    "--webhook-host", "127.0.0.1", "--webhook-port", "0", "--webhook-public-host", "127.0.0.1",
    "--verifier-host", "127.0.0.1", "--verifier-port", "0",
    "--metrics-host", "127.0.0.1", "--metrics-port", "0",
    ...(leaderElection ? [] : ["--no-leader-election"]),
  ];
}

/** Counts the AccessKeys reporting Issued, from a watch: no polling of 10,000 objects. */
class IssuedCounter {
  private readonly issued = new Set<string>();
  private readonly informer: Informer<k8s.KubernetesObject>;

  constructor(kc: k8s.KubeConfig) {
    this.informer = new Informer({
      kubeConfig: kc,
      source: customResourceSource(kc, { group: "iam.keygate.dev", version: "v1alpha1", plural: "accesskeys", kind: "AccessKey" }),
      logger: pino({ level: "silent" }),
    });
    const note = (object: k8s.KubernetesObject): void => {
      const conditions = (object as { status?: { conditions?: Array<{ type: string; reason: string }> } }).status?.conditions ?? [];
      const key = `${object.metadata?.namespace}/${object.metadata?.name}`;
      if (conditions.some((condition) => condition.type === "Ready" && condition.reason === "Issued")) this.issued.add(key);
    };
    this.informer.on("add", note);
    this.informer.on("update", note);
    this.informer.start();
  }

  has(key: string): boolean {
    return this.issued.has(key);
  }

  get count(): number {
    return this.issued.size;
  }

  async until(predicate: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out with ${this.issued.size} keys issued`);
      await new Promise((done) => setTimeout(done, 20));
    }
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}

function accessKey(index: number): { namespace: string; body: Record<string, unknown> } {
  const namespace = `scale-${index % NAMESPACES}`;
  return {
    namespace,
    body: { apiVersion: "iam.keygate.dev/v1alpha1", kind: "AccessKey", metadata: { name: `key-${index}`, namespace }, spec: { user: `user-${index}` } },
  };
}

// A create refused by an overloaded API server (429) or a webhook timeout is retried.
async function createKey(custom: k8s.CustomObjectsApi, index: number): Promise<void> {
  const { namespace, body } = accessKey(index);
  for (let attempt = 1; ; attempt++) {
    try {
      await custom.createNamespacedCustomObject({ group: "iam.keygate.dev", version: "v1alpha1", namespace, plural: "accesskeys", body });
      return;
    } catch (error) {
      if (attempt >= 20) throw error;
      await new Promise((done) => setTimeout(done, 200 * attempt));
    }
  }
}

async function createKeys(custom: k8s.CustomObjectsApi, from: number, to: number, concurrency: number): Promise<void> {
  let next = from;
  const worker = async (): Promise<void> => {
    while (next < to) await createKey(custom, next++);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

interface SizeResult {
  readonly keys: number;
  readonly created: number;
  readonly seconds: number;
  readonly keysPerSecond: number;
  readonly operatorCpuMsPerKey: number;
  readonly operatorPeakRssMb: number;
  /** Where else the time went: kube-apiserver and etcd CPU per key issued. */
  readonly apiServerCpuMsPerKey: number;
  readonly etcdCpuMsPerKey: number;
}

interface RecoveryResult {
  readonly existingKeys: number;
  /** A new operator process started after SIGTERM of the old one: start to "leading". */
  readonly restartToLeadingSeconds: number;
  /** A key created as soon as the new one leads: create to Issued. */
  readonly newKeyAfterRestartSeconds: number;
  /** SIGKILL of the leader with a standby running: kill to the standby's key Issued. */
  readonly newKeyAfterLeaderKillSeconds: number;
}

async function oneKeyIssued(custom: k8s.CustomObjectsApi, counter: IssuedCounter, index: number): Promise<number> {
  const started = Date.now();
  await createKeys(custom, index, index + 1, 1);
  const { namespace, body } = accessKey(index);
  const name = (body.metadata as { name: string }).name;
  await counter.until(() => counter.has(`${namespace}/${name}`), 600_000);
  return (Date.now() - started) / 1000;
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const loadAtStart = currentLoad();
  const startedAt = new Date();
  progress("building the compiled code the processes run…");
  await run("npm", ["run", "build"], { cwd: ROOT });
  const stateDir = await mkdtemp(join(tmpdir(), "keygate-scale-"));
  const binaries = await ensureControlPlaneBinaries({ progress });
  const controlPlane = await startControlPlane({ stateDir, binaries, progress });
  const processes: KeygateProcess[] = [];
  let counter: IssuedCounter | undefined;
  try {
    await applyCrds(binaries, controlPlane.kubeconfigPath, CRDS_DIR);
    const kc = new PooledKubeConfig();
    kc.loadFromFile(controlPlane.kubeconfigPath);
    const core = kc.makeApiClient(k8s.CoreV1Api);
    const custom = kc.makeApiClient(k8s.CustomObjectsApi);
    for (const name of [OPERATOR_NAMESPACE, ...Array.from({ length: NAMESPACES }, (_, i) => `scale-${i}`)]) {
      await core.createNamespace({ body: { metadata: { name } } });
    }
    let operator = new KeygateProcess(operatorArgs("scale-a", true), controlPlane.kubeconfigPath);
    processes.push(operator);
    await operator.waitFor("leading", 120_000);
    const verifier = new KeygateProcess(["verifier", "--namespace", OPERATOR_NAMESPACE, "--verifier-host", "127.0.0.1", "--verifier-port", "0", "--workers", "1"], controlPlane.kubeconfigPath);
    processes.push(verifier);
    counter = new IssuedCounter(kc);
    const issued = counter;

    const sizes: SizeResult[] = [];
    let existing = 0;
    const pidOf = (name: string): number => controlPlane.processes.find((process) => process.name === name)?.pid ?? 0;
    const cpuOf = async (name: string): Promise<number> => (await processUsage(pidOf(name))).cpuSeconds;
    for (const keys of options.keys) {
      const before = await operator.usage();
      const apiBefore = await cpuOf("kube-apiserver");
      const etcdBefore = await cpuOf("etcd");
      const started = Date.now();
      progress(`creating keys ${existing}…${keys - 1}`);
      const creating = createKeys(custom, existing, keys, options.concurrency);
      await creating;
      await issued.until(() => issued.count >= keys, 3_600_000);
      const seconds = (Date.now() - started) / 1000;
      const after = await operator.usage();
      const created = keys - existing;
      sizes.push({
        keys,
        created,
        seconds,
        keysPerSecond: created / seconds,
        operatorCpuMsPerKey: ((after.cpuSeconds - before.cpuSeconds) * 1000) / created,
        operatorPeakRssMb: after.peakRssMb,
        apiServerCpuMsPerKey: (((await cpuOf("kube-apiserver")) - apiBefore) * 1000) / created,
        etcdCpuMsPerKey: (((await cpuOf("etcd")) - etcdBefore) * 1000) / created,
      });
      progress(`${keys} keys: ${created} issued in ${seconds.toFixed(1)} s (${(created / seconds).toFixed(1)}/s)`);
      existing = keys;
    }

    progress("recovery: restarting the operator");
    await operator.stop("SIGTERM");
    const restarted = Date.now();
    operator = new KeygateProcess(operatorArgs("scale-b", true), controlPlane.kubeconfigPath);
    processes.push(operator);
    await operator.waitFor("leading", 600_000);
    const restartToLeadingSeconds = (Date.now() - restarted) / 1000;
    const newKeyAfterRestartSeconds = await oneKeyIssued(custom, issued, existing++);
    progress(`new key issued ${newKeyAfterRestartSeconds.toFixed(2)} s after the restarted operator led`);

    progress("recovery: killing the leader with a standby running");
    const standby = new KeygateProcess(operatorArgs("scale-c", true), controlPlane.kubeconfigPath);
    processes.push(standby);
    await standby.waitFor("serving the admission webhook", 600_000);
    const killed = Date.now();
    await operator.stop("SIGKILL");
    await createKeys(custom, existing, existing + 1, 1);
    const { namespace, body } = accessKey(existing);
    const name = (body.metadata as { name: string }).name;
    await issued.until(() => issued.has(`${namespace}/${name}`), 600_000);
    const newKeyAfterLeaderKillSeconds = (Date.now() - killed) / 1000;
    progress(`new key issued ${newKeyAfterLeaderKillSeconds.toFixed(2)} s after the leader was killed`);

    const recovery: RecoveryResult = { existingKeys: existing, restartToLeadingSeconds, newKeyAfterRestartSeconds, newKeyAfterLeaderKillSeconds };
    const result = { startedAt, options, machine: describeMachine(loadAtStart), sizes, recovery };
    const dir = join(ROOT, "bench/results");
    await mkdir(dir, { recursive: true });
    const path = join(dir, `${startedAt.toISOString().replace(/:/g, "").replace(/\.\d{3}Z$/, "Z")}-scale.json`);
    await writeFile(path, `${JSON.stringify(result, null, 2)}\n`);
    console.log("| keys | created | seconds | keys/s | CPU ms/key: operator | kube-apiserver | etcd | operator peak RSS MB |\n| --- | --- | --- | --- | --- | --- | --- | --- |");
    for (const size of sizes) {
      const cpu = [size.operatorCpuMsPerKey, size.apiServerCpuMsPerKey, size.etcdCpuMsPerKey].map((ms) => ms.toFixed(1)).join(" | ");
      console.log(`| ${size.keys} | ${size.created} | ${size.seconds.toFixed(1)} | ${size.keysPerSecond.toFixed(1)} | ${cpu} | ${size.operatorPeakRssMb} |`);
    }
    console.log(`recovery at ${existing} keys: restart to leading ${restartToLeadingSeconds.toFixed(1)} s; new key issued ${newKeyAfterRestartSeconds.toFixed(2)} s after; after a leader SIGKILL ${newKeyAfterLeaderKillSeconds.toFixed(2)} s`);
    console.log(`results: ${path}`);
  } finally {
    await counter?.stop();
    for (const process of processes) await process.stop("SIGKILL").catch(() => undefined);
    await controlPlane.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

// `keygate verifier --workers N` keeps one key index feed per worker: each worker lists and
// watches the keystore records and the AccessKeys itself. What that costs, against a real API
// server with the operator and many issued keys: watches and lists the verifier opens, memory of
// its processes, and time from start to /readyz 200, for 1 and 2 workers in turn. Run it as
//   flock /tmp/keygate-bench.lock npx tsx bench/http/workers-feed.ts [--keys=400] [--rounds=3] [--tsx]
// (the verifier compiled by tsc, as the image runs it; --tsx runs it from source)
// It writes bench/results/<date>-workers-feed.json.
import { type ChildProcess, spawn } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import https from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import * as k8s from "@kubernetes/client-node";
import { pino } from "pino";
import { ensureControlPlaneBinaries } from "../../src/controlplane/binaries.js";
import { startControlPlane } from "../../src/controlplane/harness.js";
import { applyCrds } from "../../src/controlplane/kubectl.js";
import { startOperator } from "../../src/operator/operator.js";
import { CRDS_DIR } from "../../src/paths.js";
import { median, round } from "../lib/stats.js";
import { compileEntries } from "./build.js";
import { processTree } from "../lib/proc.js";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const args = process.argv.slice(2);
const flag = (name: string, fallback: string): string => args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const KEYS = Number(flag("keys", "400"));
const ROUNDS = Number(flag("rounds", "3"));
const NAMESPACE = "feed";

function progress(message: string): void {
  process.stderr.write(`[feed] ${message}\n`);
}

async function sleep(ms: number): Promise<void> {
  await new Promise((resolve) => setTimeout(resolve, ms));
}

async function issueKeys(kc: k8s.KubeConfig): Promise<void> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  await core.createNamespace({ body: { metadata: { name: NAMESPACE } } });
  for (let i = 0; i < KEYS; i++) {
    const body = { apiVersion: "iam.keygate.dev/v1alpha1", kind: "AccessKey", metadata: { name: `key-${i}` }, spec: { user: `user-${Math.floor(i / 2)}` } };
    await custom.createNamespacedCustomObject({ group: "iam.keygate.dev", version: "v1alpha1", namespace: NAMESPACE, plural: "accesskeys", body });
  }
  for (;;) {
    const list = (await custom.listNamespacedCustomObject({ group: "iam.keygate.dev", version: "v1alpha1", namespace: NAMESPACE, plural: "accesskeys" })) as { items: Array<{ status?: { accessKeyId?: string } }> };
    const issued = list.items.filter((item) => item.status?.accessKeyId !== undefined).length;
    if (issued === KEYS) return;
    progress(`${issued}/${KEYS} keys issued`);
    await sleep(2000);
  }
}

/** The API server's counters and gauges for the verifier's two feeds. */
async function apiServerNumbers(kc: k8s.KubeConfig): Promise<{ watches: number; lists: number }> {
  const server = new URL(kc.getCurrentCluster()?.server ?? "");
  const options: https.RequestOptions = { host: server.hostname, port: server.port, path: "/metrics", method: "GET" };
  await kc.applyToHTTPSOptions(options);
  const text = await new Promise<string>((resolve, reject) => {
    const req = https.request(options, (res) => {
      let body = "";
      res.on("data", (chunk: Buffer) => (body += chunk.toString()));
      res.on("end", () => resolve(body));
      res.on("error", reject);
    });
    req.on("error", reject);
    req.end();
  });
  let watches = 0;
  let lists = 0;
  for (const line of text.split("\n")) {
    const feed = /resource="(secrets|accesskeys)"/.test(line);
    if (!feed) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (line.startsWith("apiserver_longrunning_requests{") && line.includes('verb="WATCH"')) watches += value;
    if (line.startsWith("apiserver_request_total{") && line.includes('verb="LIST"')) lists += value;
  }
  return { watches, lists };
}

function rssMiB(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kib = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? "0");
  return kib / 1024;
}

async function readyz(url: string): Promise<number> {
  try {
    return (await fetch(`${url}/readyz`)).status;
  } catch {
    return 0;
  }
}

interface Start {
  readonly workers: number;
  readonly msToReady: number;
  readonly watchesOpened: number;
  readonly listsMade: number;
  readonly rssMiB: { readonly total: number; readonly processes: number[] };
}

/** `keygate` as the image runs it: src/cli/main.ts compiled by tsc (or through tsx with --tsx). */
let command: Promise<string[]> | undefined;
function keygateCommand(): Promise<string[]> {
  if (args.includes("--tsx")) return Promise.resolve(["--import", "tsx", "src/cli/main.ts"]);
  command ??= compileEntries(["src/cli/main.ts"]).then(([main]) => [main as string]);
  return command;
}

async function measureStart(kc: k8s.KubeConfig, kubeconfigPath: string, operatorNamespace: string, workers: number): Promise<Start> {
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const url = `http://127.0.0.1:${port}`;
  const before = await apiServerNumbers(kc);
  const startedAt = Date.now();
  const child: ChildProcess = spawn(
    process.execPath,
    [...(await keygateCommand()), "verifier", "--kubeconfig", kubeconfigPath, "--namespace", operatorNamespace, "--verifier-host", "127.0.0.1", "--verifier-port", String(port), "--workers", String(workers), "--shutdown-delay", "0s"],
    { cwd: ROOT, stdio: "ignore" },
  );
  while ((await readyz(url)) !== 200) {
    if (child.exitCode !== null) throw new Error(`the verifier with ${workers} workers exited`);
    await sleep(20);
  }
  const msToReady = Date.now() - startedAt;
  // Let the heaps settle after the initial lists, as a Pod's would.
  await sleep(3000);
  const after = await apiServerNumbers(kc);
  const pids = processTree(child.pid ?? 0);
  const processes = pids.map(rssMiB);
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await exited;
  return {
    workers,
    msToReady,
    watchesOpened: after.watches - before.watches,
    listsMade: after.lists - before.lists,
    rssMiB: { total: round(processes.reduce((sum, value) => sum + value, 0), 1), processes: processes.map((value) => round(value, 1)) },
  };
}

async function main(): Promise<void> {
  const binaries = await ensureControlPlaneBinaries({ progress });
  const stateDir = await mkdtemp(join(tmpdir(), "keygate-feed-"));
  const controlPlane = await startControlPlane({ stateDir, binaries, progress });
  try {
    await applyCrds(binaries, controlPlane.kubeconfigPath, CRDS_DIR);
    const kc = new k8s.KubeConfig();
    kc.loadFromFile(controlPlane.kubeconfigPath);
    const operatorNamespace = "keygate-system";
    await kc.makeApiClient(k8s.CoreV1Api).createNamespace({ body: { metadata: { name: operatorNamespace } } });
    const operator = await startOperator({
      kc,
      namespace: operatorNamespace,
      identity: "feed-bench",
      webhook: { host: "127.0.0.1", port: 0, publicHost: "127.0.0.1" },
      metrics: { host: "127.0.0.1", port: 0 },
      recycleRetentionMs: 30 * 24 * 60 * 60 * 1000,
      leaderElection: false,
      log: pino({ level: "silent" }),
    });
    progress(`issuing ${KEYS} keys…`);
    await issueKeys(kc);
    const starts: Start[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const workers of [1, 2]) {
        const start = await measureStart(kc, controlPlane.kubeconfigPath, operatorNamespace, workers);
        progress(JSON.stringify(start));
        starts.push(start);
      }
    }
    await operator.stop();
    const of = (workers: number): Start[] => starts.filter((start) => start.workers === workers);
    const summary = Object.fromEntries(
      [1, 2].map((workers) => [
        `workers=${workers}`,
        {
          medianMsToReady: median(of(workers).map((start) => start.msToReady)),
          medianRssMiBTotal: median(of(workers).map((start) => start.rssMiB.total)),
          watchesOpened: median(of(workers).map((start) => start.watchesOpened)),
          listsMade: median(of(workers).map((start) => start.listsMade)),
        },
      ]),
    );
    console.log(JSON.stringify({ keys: KEYS, summary }, null, 2));
    const dir = fileURLToPath(new URL("../results/", import.meta.url));
    mkdirSync(dir, { recursive: true });
    const path = `${dir}${new Date().toISOString().replace(/:/g, "").replace(/\.\d{3}Z$/, "Z")}-workers-feed.json`;
    writeFileSync(path, `${JSON.stringify({ keys: KEYS, rounds: ROUNDS, summary, starts }, null, 2)}\n`);
    console.log(`results: ${path}`);
  } finally {
    await controlPlane.stop();
    await rm(stateDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

// `keygate verifier --workers N`: the verifier's HTTP throughput with 2 workers against 1, in
// turn in this one run, on the same keep-alive load. Run it as
//   flock /tmp/keygate-bench.lock npx tsx bench/http/workers.ts [--quick] [--connections=N] [--tsx]
// (servers compiled by tsc as production runs them; --tsx runs them from source)
// (or `npm run bench -- --only=workers`). It writes bench/results/<date>-workers.json.
//
// Each server is the verifier's real request path (server, verification, metrics, last-used
// batching) with an in-memory key index, as bench/http/verifier-server.ts runs it; the Pods run
// the real primary and workers of src/verifier/workers.ts: the replay store in the primary, each
// ACS3 claim over IPC, last uses relayed to the primary. Servers:
//   single     one process, no cluster (what --workers 1 runs)
//   workers=1  the primary and one worker (the cost of the cluster and its IPC alone)
//   workers=2  the primary and two workers
// Each process of this file plays one role: the benchmark (no argument), a server (--serve=…),
// or a cluster worker (forked by the primary with the same arguments).
import { type ChildProcess, spawn } from "node:child_process";
import cluster from "node:cluster";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer as createNetServer } from "node:net";
import type { AddressInfo } from "node:net";
import type { Server } from "node:http";
import { fileURLToPath } from "node:url";
import { createLogger } from "../../src/log.js";
import { MemoryReplayStore } from "../../src/replay/memory.js";
import type { ReplayStore } from "../../src/replay/store.js";
import { systemClock } from "../../src/runtime/clock.js";
import { parseNetworks } from "../../src/verifier/ip.js";
import { type Flush, LastUsedBatcher } from "../../src/verifier/last-used.js";
import { VerifierMetrics } from "../../src/verifier/metrics.js";
import { createVerifierServer } from "../../src/verifier/server.js";
import { Verification } from "../../src/verifier/verification.js";
import type { WorkerLink } from "../../src/verifier/worker-link.js";
import { serveAsWorker, startVerifierPod } from "../../src/verifier/workers.js";
import { acs3Request, benchKeys } from "../inprocess/fixtures.js";
import { currentLoad, describeMachine } from "../lib/machine.js";
import { processTree } from "../lib/proc.js";
import { median, round } from "../lib/stats.js";
import { compileEntries } from "./build.js";
import { indexedKeys, NO_SECURITY_KEYS } from "./indexed-keys.js";
import { type LoadResult, runLoad } from "./load.js";
import { forwardAuthRequests, HTTP_KEYS, type LoadRequest, verifyRequests } from "./requests.js";

const log = createLogger({ level: "silent" });

// --- the server side -------------------------------------------------------------------------

/** The verifier's request path with an in-memory index; in a worker, what is shared goes through the primary. */
function verifierServer(link: WorkerLink | undefined): Server {
  const keys = indexedKeys();
  const none = parseNetworks([]);
  if (!none.ok) throw new Error("an empty network list must parse");
  const local = new MemoryReplayStore();
  const replay: ReplayStore = link ? link.replayStore() : local;
  const flush: Flush = link ? link.lastUsedFlush({ lastUsedMs: () => undefined }) : () => Promise.resolve("written");
  const ready = (): boolean => link?.podReady() ?? true;
  const sources = { keyCounts: () => ({ Active: keys.size, Inactive: 0, Recycled: 0 }), replayCacheSize: () => replay.size(), ready };
  const metrics = link ? link.metrics(sources) : new VerifierMetrics(sources);
  const index = { isReady: true, lookup: (id: string) => keys.get(id), kekSet: () => undefined, accountNetworks: () => undefined };
  return createVerifierServer({
    verification: new Verification(index, metrics.counted(replay), () => new Date()),
    owners: { owner: () => undefined },
    mfa: { verify: () => Promise.resolve({ valid: false, code: "MfaDeviceNotFound" }) },
    securityKeys: NO_SECURITY_KEYS,
    ready,
    metrics,
    // A worker relays last uses at most once a second per key, as src/verifier/verifier.ts does.
    lastUsed: new LastUsedBatcher({ intervalMs: link ? 1_000 : 60_000, clock: systemClock, flush, log }),
    trustedProxies: none.networks,
    trustedCallers: none.networks,
    maxBodyBytes: 8 * 1024 * 1024,
    now: () => new Date(),
    log,
  });
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => resolve());
  });
}

// No benchmark lasts this long: a server left behind by a crashed run still goes away.
const MAX_LIFETIME_MS = 15 * 60_000;

async function serve(mode: string, port: number): Promise<void> {
  setTimeout(() => process.exit(0), MAX_LIFETIME_MS).unref();
  if (cluster.isWorker) {
    return serveAsWorker(async (link) => {
      const server = verifierServer(link);
      await listen(server, port);
      link.reportReady();
      return { stop: () => new Promise<void>((resolve) => server.close(() => resolve())) };
    }, log);
  }
  if (mode === "single") {
    await listen(verifierServer(undefined), port);
    process.on("SIGTERM", () => process.exit(0));
    return;
  }
  const pod = startVerifierPod({
    workers: Number(mode),
    replayStore: { kind: "memory" },
    lastUsedFlushMs: 60_000,
    writeLastUse: () => () => Promise.resolve("written"),
    stopTimeoutMs: 5_000,
    log,
  });
  process.on("SIGTERM", () => {
    pod.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  });
}

// --- the benchmark side ----------------------------------------------------------------------

const SERVERS = ["single", "1", "2"] as const;
type ServerName = (typeof SERVERS)[number];
const LABEL: Record<ServerName, string> = { single: "single", "1": "workers=1", "2": "workers=2" };

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

async function answers(url: string): Promise<number> {
  try {
    return (await fetch(url)).status;
  } catch {
    return 0;
  }
}

interface Running {
  readonly name: ServerName;
  readonly url: string;
  readonly child: ChildProcess;
}

/** This file as the servers run it: compiled by tsc, as production runs (default), or through tsx. */
interface Entry {
  readonly file: string;
  readonly execArgv: readonly string[];
}

async function entry(code: "compiled" | "tsx"): Promise<Entry> {
  if (code === "tsx") return { file: fileURLToPath(import.meta.url), execArgv: ["--import", "tsx"] };
  const [file] = await compileEntries(["bench/http/workers.ts"]);
  return { file: file as string, execArgv: [] };
}

async function startServer(name: ServerName, code: Entry): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, [...code.execArgv, code.file, `--serve=${name}`, `--port=${port}`], { stdio: "inherit" });
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while ((await answers(`${url}/readyz`)) !== 200) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`${LABEL[name]} did not become ready`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return { name, url, child };
}

function stopServer(server: Running): Promise<void> {
  return new Promise((resolve) => {
    if (server.child.exitCode !== null) return resolve();
    server.child.once("exit", () => resolve());
    server.child.kill("SIGTERM");
    setTimeout(() => server.child.kill("SIGKILL"), 10_000).unref();
  });
}

interface Options {
  readonly code: "compiled" | "tsx";
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly rounds: number;
  readonly connections: number;
}

/** ACS3 requests whose nonce is used up after the first: every one reaches the replay store (answered SignatureNonceUsed). */
function acs3Replays(now: Date): LoadRequest[] {
  return benchKeys(HTTP_KEYS).map((key, i) => {
    const signed = acs3Request(key, now, `bench-nonce-${i}`);
    const headers: Record<string, string> = {};
    for (const [name, value] of signed.headers) headers[name] = value;
    const description = { method: signed.method, url: signed.rawPath, headers, body: (signed.body ?? Buffer.alloc(0)).toString("base64") };
    return { method: "POST", path: "/v1/verify", headers: { "content-type": "application/json" }, body: JSON.stringify(description) };
  });
}

const LOADS: Record<string, (now: Date) => LoadRequest[]> = {
  "POST /v1/verify (SigV4)": verifyRequests,
  "GET /v1/forward-auth/nginx (SigV4)": forwardAuthRequests,
  "POST /v1/verify (ACS3, replay store over IPC)": acs3Replays,
};

/** One sample: the load's result, and the CPU the server's processes (primary and workers) spent per answer. */
type Sample = LoadResult & { readonly cpuMicrosPerRequest: number };
type Samples = Record<string, Record<ServerName, Sample[]>>;

// Linux's clock ticks per second for /proc/<pid>/stat (USER_HZ).
const TICKS_PER_SECOND = 100;

/** User and system CPU of a process and its children now alive, in microseconds. */
function cpuMicros(pid: number): number {
  let ticks = 0;
  for (const member of processTree(pid)) {
    try {
      const fields = readFileSync(`/proc/${member}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // gone meanwhile
    }
  }
  return (ticks / TICKS_PER_SECOND) * 1e6;
}

async function sample(server: Running, requests: LoadRequest[], options: Options): Promise<Sample> {
  const pid = server.child.pid ?? 0;
  const before = cpuMicros(pid);
  const result = await runLoad({ url: server.url, requests, connections: options.connections, durationSeconds: options.durationSeconds, maxRequests: 10_000_000 });
  return { ...result, cpuMicrosPerRequest: (cpuMicros(pid) - before) / Math.max(1, result.completed) };
}

async function measure(servers: readonly Running[], options: Options): Promise<Samples> {
  const samples: Samples = {};
  const now = new Date();
  for (const [load, make] of Object.entries(LOADS)) {
    const requests = make(now);
    const perServer = (samples[load] = { single: [], "1": [], "2": [] } as Record<ServerName, Sample[]>);
    for (const server of servers) {
      await runLoad({ url: server.url, requests, connections: options.connections, durationSeconds: options.warmupSeconds, maxRequests: 10_000_000 });
    }
    // Alternate the servers round by round, so that a change of the machine's load hits all of them.
    for (let round = 0; round < options.rounds; round++) {
      for (const server of servers) {
        perServer[server.name].push(await sample(server, requests, options));
      }
    }
  }
  return samples;
}

function report(samples: Samples): Record<string, unknown> {
  const summary: Record<string, unknown> = {};
  for (const [load, perServer] of Object.entries(samples)) {
    const rps = (name: ServerName): number[] => perServer[name].map((result) => result.requestsPerSecond);
    const ratios = rps("2").map((value, i) => value / (rps("single")[i] ?? Number.NaN));
    const overhead = rps("1").map((value, i) => value / (rps("single")[i] ?? Number.NaN));
    summary[load] = {
      medianRequestsPerSecond: Object.fromEntries(SERVERS.map((name) => [LABEL[name], round(median(rps(name)), 0)])),
      medianP99Ms: Object.fromEntries(SERVERS.map((name) => [LABEL[name], round(median(perServer[name].map((result) => result.latencyMs.p99)), 2)])),
      ratioWorkers2ToSingle: round(median(ratios), 2),
      ratiosWorkers2ToSinglePerRound: ratios.map((ratio) => round(ratio, 2)),
      ratioWorkers1ToSingle: round(median(overhead), 2),
      medianCpuMicrosPerRequest: Object.fromEntries(SERVERS.map((name) => [LABEL[name], round(median(perServer[name].map((result) => result.cpuMicrosPerRequest)), 1)])),
      non2xx: Object.fromEntries(SERVERS.map((name) => [LABEL[name], perServer[name].reduce((sum, result) => sum + result.non2xx, 0)])),
      errors: Object.fromEntries(SERVERS.map((name) => [LABEL[name], perServer[name].reduce((sum, result) => sum + result.errors, 0)])),
    };
  }
  return summary;
}

function table(summary: Record<string, unknown>): string {
  const rows = ["| Load | single | workers=1 | workers=2 | 2 workers / single (median of rounds) | CPU µs per answer: single, workers=1, workers=2 |", "|---|---|---|---|---|---|"];
  for (const [load, value] of Object.entries(summary)) {
    const entry = value as { medianRequestsPerSecond: Record<string, number>; ratioWorkers2ToSingle: number; medianCpuMicrosPerRequest: Record<string, number> };
    const rps = entry.medianRequestsPerSecond;
    const cpu = entry.medianCpuMicrosPerRequest;
    rows.push(`| ${load} | ${rps.single} | ${rps["workers=1"]} | ${rps["workers=2"]} | ${entry.ratioWorkers2ToSingle} | ${cpu.single}, ${cpu["workers=1"]}, ${cpu["workers=2"]} |`);
  }
  return rows.join("\n");
}

export interface WorkersResult {
  readonly options: Options;
  readonly summary: Record<string, unknown>;
  readonly samples: Samples;
}

/** Starts the three servers, loads each in turn, and stops them. */
export async function runWorkers(options: Options): Promise<WorkersResult> {
  const servers: Running[] = [];
  try {
    const code = await entry(options.code);
    for (const name of SERVERS) servers.push(await startServer(name, code));
    const samples = await measure(servers, options);
    return { options, summary: report(samples), samples };
  } finally {
    await Promise.all(servers.map(stopServer));
  }
}

function flagOf(args: readonly string[], name: string): string | undefined {
  return args.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3);
}

/** The whole benchmark, as `npm run bench -- --only=workers` runs it: prints a table, writes the JSON. */
export async function runWorkersBench(args: readonly string[]): Promise<void> {
  const flag = (name: string): string | undefined => flagOf(args, name);
  const quick = args.includes("--quick");
  const connections = Number(flag("connections") ?? "50");
  const code = args.includes("--tsx") ? "tsx" : "compiled";
  const options: Options = quick ? { code, warmupSeconds: 1, durationSeconds: 1, rounds: 2, connections } : { code, warmupSeconds: 2, durationSeconds: 4, rounds: 7, connections };
  const startedAt = new Date();
  const loadAtStart = currentLoad();
  console.log(`verifier workers: single process, the primary with 1 worker, with 2 workers, in turn (${options.rounds} rounds of ${options.durationSeconds} s per load, ${code})…`);
  const result = await runWorkers(options);
  const machine = describeMachine(loadAtStart);
  console.log(`\n${table(result.summary)}\n`);
  console.log(JSON.stringify(result.summary, null, 2));
  const dir = fileURLToPath(new URL("../results/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  const path = `${dir}${startedAt.toISOString().replace(/:/g, "").replace(/\.\d{3}Z$/, "Z")}-workers.json`;
  writeFileSync(path, `${JSON.stringify({ startedAt, quick, machine, workers: result }, null, 2)}\n`);
  console.log(`results: ${path}`);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const mode = flagOf(args, "serve");
  if (mode !== undefined) return serve(mode, Number(flagOf(args, "port")));
  return runWorkersBench(args);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  });
}

import { request } from "node:http";
import { pairedRatios, type Summary, summarize } from "../lib/stats.js";
import { type LoadResult, runLoad } from "./load.js";
import { forwardAuthRequests, type LoadRequest, verifyRequests } from "./requests.js";
import { oneShotFloorMicros } from "../inprocess/suite.js";
import type { SamplerOptions } from "../lib/sampler.js";
import { type ServerCode, SERVER_KINDS, type ServerKind, type ServerProcess, startServers } from "./servers.js";

export interface HttpOptions {
  readonly warmupSeconds: number;
  readonly durationSeconds: number;
  readonly rounds: number;
  readonly connections: number;
  /** Compiled by tsc (as production runs) or from source through tsx. */
  readonly code: ServerCode;
}

// The crypto floor is sampled in this process before and after the load, 5 samples each time.
const FLOOR_SAMPLING: SamplerOptions = { warmupMs: 200, sampleMs: 200, rounds: 5, batch: 64 };

export type Endpoint = "/v1/verify" | "/v1/forward-auth";

interface RunSample extends LoadResult {
  readonly round: number;
  /** Server CPU time per answered request, in microseconds: all of it, and the part spent in the kernel. */
  readonly serverCpuMicrosPerRequest: number;
  readonly serverSystemMicrosPerRequest: number;
  /** Share of one core the server process used during the run. */
  readonly serverCpuShare: number;
  /** Share of one core the load generator (this process) used during the run. */
  readonly clientCpuShare: number;
}

export interface ServerSummary {
  readonly requestsPerSecond: Summary;
  readonly p50Ms: Summary;
  readonly p99Ms: Summary;
  readonly serverCpuMicrosPerRequest: Summary;
  readonly serverSystemMicrosPerRequest: Summary;
  readonly serverCpuShare: Summary;
  readonly clientCpuShare: Summary;
  readonly non2xx: number;
  readonly errors: number;
  readonly runs: readonly RunSample[];
}

export interface EndpointResult {
  readonly endpoint: Endpoint;
  readonly servers: Record<ServerKind, ServerSummary>;
  /** Verifier throughput / bare throughput, per round (both measured back to back). */
  readonly throughputRatio: Summary;
  /** Bare CPU per request / verifier CPU per request: the ratio if the server alone set the pace. */
  readonly cpuEfficiencyRatio: Summary;
  /** The same two ratios for the bare server that also runs the signing core. */
  readonly signingOnlyThroughputRatio: Summary;
  readonly signingOnlyCpuEfficiencyRatio: Summary;
  /**
   * The best a verifier can do: bare CPU per request ÷ (bare CPU per request + the crypto floor),
   * per round, with the floor's median. Compare `cpuEfficiencyRatio` with it.
   */
  readonly limit: Summary;
  /** Verifier CPU per request ÷ (bare CPU per request + crypto floor), per round: 1 would be at the limit. */
  readonly verifierCpuOverLimit: Summary;
}

export interface HttpResult {
  readonly options: HttpOptions;
  /** Microseconds of the one-shot crypto floor of one SigV4 request (two SHA-256, one HMAC), sampled in the load generator's process. */
  readonly cryptoFloorMicros: Summary;
  readonly endpoints: EndpointResult[];
}

/** One request through node:http (which lets us set Host), answering the status and body. */
function probe(url: string, load: LoadRequest): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}${load.path}`, { method: load.method, headers: load.headers, timeout: 5000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString("utf8") }));
    });
    req.on("timeout", () => req.destroy(new Error("probe timed out")));
    req.on("error", reject);
    req.end(load.body);
  });
}

/** Before timing anything: every request the load will send is answered 200 by both servers. */
async function checkAnswers(servers: readonly ServerProcess[], loads: Record<Endpoint, LoadRequest[]>): Promise<void> {
  const checks = servers.flatMap((server) => Object.values(loads).flatMap((requests) => requests.map((load) => ({ server, load }))));
  for (const { server, load } of checks) {
    const answer = await probe(server.url, load);
    if (answer.status !== 200) throw new Error(`${server.kind} ${load.path} answered ${answer.status}: ${answer.body.slice(0, 200)}`);
  }
}

async function measure(server: ServerProcess, requests: LoadRequest[], options: HttpOptions, round: number): Promise<RunSample> {
  const serverBefore = await server.cpuMicros();
  const clientBefore = process.cpuUsage();
  const result = await runLoad({ url: server.url, requests, connections: options.connections, durationSeconds: options.durationSeconds, maxRequests: 5_000_000 });
  const client = process.cpuUsage(clientBefore);
  const serverAfter = await server.cpuMicros();
  const systemMicros = serverAfter.system - serverBefore.system;
  const serverMicros = serverAfter.user - serverBefore.user + systemMicros;
  const wallMicros = result.durationSeconds * 1e6;
  const completed = Math.max(1, result.completed);
  return {
    ...result,
    round,
    serverCpuMicrosPerRequest: serverMicros / completed,
    serverSystemMicrosPerRequest: systemMicros / completed,
    serverCpuShare: serverMicros / wallMicros,
    clientCpuShare: (client.user + client.system) / wallMicros,
  };
}

function summarizeServer(runs: RunSample[]): ServerSummary {
  const of = (pick: (run: RunSample) => number) => summarize(runs.map(pick));
  return {
    requestsPerSecond: of((run) => run.requestsPerSecond),
    p50Ms: of((run) => run.latencyMs.p50),
    p99Ms: of((run) => run.latencyMs.p99),
    serverCpuMicrosPerRequest: of((run) => run.serverCpuMicrosPerRequest),
    serverSystemMicrosPerRequest: of((run) => run.serverSystemMicrosPerRequest),
    serverCpuShare: of((run) => run.serverCpuShare),
    clientCpuShare: of((run) => run.clientCpuShare),
    non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    runs,
  };
}

type Runs = Record<ServerKind, RunSample[]>;

const rps = (samples: RunSample[]): number[] => samples.map((run) => run.requestsPerSecond);
const cpu = (samples: RunSample[]): number[] => samples.map((run) => run.serverCpuMicrosPerRequest);

function endpointResult(endpoint: Endpoint, runs: Runs, floorMicros: number): EndpointResult {
  const signing = runs["bare+signing"];
  const atLimit = cpu(runs.bare).map((bare) => bare + floorMicros);
  return {
    limit: summarize(pairedRatios(cpu(runs.bare), atLimit)),
    verifierCpuOverLimit: summarize(pairedRatios(cpu(runs.verifier), atLimit)),
    endpoint,
    servers: { verifier: summarizeServer(runs.verifier), bare: summarizeServer(runs.bare), "bare+signing": summarizeServer(signing) },
    throughputRatio: summarize(pairedRatios(rps(runs.verifier), rps(runs.bare))),
    cpuEfficiencyRatio: summarize(pairedRatios(cpu(runs.bare), cpu(runs.verifier))),
    signingOnlyThroughputRatio: summarize(pairedRatios(rps(signing), rps(runs.bare))),
    signingOnlyCpuEfficiencyRatio: summarize(pairedRatios(cpu(runs.bare), cpu(signing))),
  };
}

const noRuns = (): Runs => ({ verifier: [], bare: [], "bare+signing": [] });

/** Round r starts with a different server each time, so drifting load does not always hit the same one first. */
function orderOf(round: number): ServerKind[] {
  return SERVER_KINDS.map((_, i) => SERVER_KINDS[(i + round) % SERVER_KINDS.length] as ServerKind);
}

/**
 * The servers run side by side; each round loads one endpoint on each of them back to back, in
 * rotating order, so that drifting machine load affects all of them alike.
 */
async function rounds(servers: Record<ServerKind, ServerProcess>, loads: Record<Endpoint, LoadRequest[]>, options: HttpOptions): Promise<Map<Endpoint, Runs>> {
  const endpoints = Object.keys(loads) as Endpoint[];
  const samples = new Map(endpoints.map((endpoint) => [endpoint, noRuns()]));
  const warmup = { ...options, durationSeconds: options.warmupSeconds };
  for (const endpoint of endpoints) {
    for (const server of Object.values(servers)) await measure(server, loads[endpoint], warmup, -1);
  }
  for (let round = 0; round < options.rounds; round++) {
    for (const endpoint of endpoints) {
      for (const kind of orderOf(round)) samples.get(endpoint)?.[kind].push(await measure(servers[kind], loads[endpoint], options, round));
    }
  }
  return samples;
}

export async function runHttp(options: HttpOptions, profileDir?: string): Promise<HttpResult> {
  const servers = await startServers({ code: options.code, profileDir });
  const running = Object.values(servers);
  try {
    const now = new Date();
    const loads: Record<Endpoint, LoadRequest[]> = { "/v1/verify": verifyRequests(now), "/v1/forward-auth": forwardAuthRequests(now) };
    await checkAnswers(running, loads);
    const floorBefore = oneShotFloorMicros(FLOOR_SAMPLING);
    const samples = await rounds(servers, loads, options);
    const cryptoFloorMicros = summarize([...floorBefore.samples, ...oneShotFloorMicros(FLOOR_SAMPLING).samples]);
    const endpoints = [...samples].map(([endpoint, runs]) => endpointResult(endpoint, runs, cryptoFloorMicros.median));
    return { options, cryptoFloorMicros, endpoints };
  } finally {
    await Promise.all(running.map((server) => server.stop()));
  }
}

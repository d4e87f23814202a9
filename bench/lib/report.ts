import { SERVER_KINDS } from "../http/servers.js";
import type { HttpResult } from "../http/suite.js";
import type { InProcessResult } from "../inprocess/suite.js";
import type { Machine } from "./machine.js";
import type { Summary } from "./stats.js";

const thousands = (value: number): string => Math.round(value).toLocaleString("en-US");
const fixed = (value: number, digits: number): string => (Number.isFinite(value) ? value.toFixed(digits) : "n/a");
const spread = (summary: Summary): string => `±${Math.round((summary.spread / 2) * 100)}%`;

function table(header: readonly string[], rows: readonly string[][]): string {
  const line = (cells: readonly string[]) => `| ${cells.join(" | ")} |`;
  return [line(header), line(header.map(() => "---")), ...rows.map(line)].join("\n");
}

export function machineLine(machine: Machine): string {
  return `${machine.cores} × ${machine.cpuModel}, Node ${machine.node}, ${machine.platform}; 1-min load average ${fixed(machine.loadAverage.start, 2)} at start, ${fixed(machine.loadAverage.end, 2)} at end`;
}

export function inProcessTable(result: InProcessResult): string {
  const rows = result.cases.map((entry) => [
    entry.name,
    thousands(entry.opsPerSecond.median),
    spread(entry.opsPerSecond),
    fixed(entry.microsecondsPerOp, 1),
    fixed(entry.ratioToCreateHashFloor.median, 2),
    fixed(entry.ratioToOneShotFloor.median, 2),
    String(entry.failures),
  ]);
  return table(["case", "verifications/s (median)", "spread of samples", "µs each", "÷ createHash floor", "÷ one-shot floor", "not allowed"], rows);
}

export function httpTable(result: HttpResult): string {
  const rows = result.endpoints.flatMap((entry) =>
    SERVER_KINDS.map((kind) => {
      const server = entry.servers[kind];
      return [
        entry.endpoint,
        kind,
        thousands(server.requestsPerSecond.median),
        spread(server.requestsPerSecond),
        fixed(server.p50Ms.median, 2),
        fixed(server.p99Ms.median, 2),
        `${fixed(server.serverCpuMicrosPerRequest.median, 0)} (${fixed(server.serverSystemMicrosPerRequest.median, 0)})`,
        fixed(server.serverCpuShare.median, 2),
        fixed(server.clientCpuShare.median, 2),
        String(server.non2xx + server.errors),
      ];
    }),
  );
  return table(["endpoint", "server", "requests/s (median)", "spread", "p50 ms", "p99 ms", "server CPU µs/request (of which kernel)", "server CPU (cores)", "load generator CPU (cores)", "non-2xx + errors"], rows);
}

const range = (summary: Summary): string => `${fixed(summary.median, 2)} (${fixed(summary.min, 2)}–${fixed(summary.max, 2)})`;

export function httpRatios(result: HttpResult): string {
  const rows = result.endpoints.flatMap((entry) => [
    [entry.endpoint, "verifier", range(entry.throughputRatio), range(entry.cpuEfficiencyRatio)],
    [entry.endpoint, "bare+signing", range(entry.signingOnlyThroughputRatio), range(entry.signingOnlyCpuEfficiencyRatio)],
  ]);
  return table(["endpoint", "server", "throughput ÷ bare's (median of rounds, range)", "bare's CPU per request ÷ this one's"], rows);
}

/** Bare CPU per request, the crypto floor, and what they make the best possible ratio. */
export function httpLimits(result: HttpResult): string {
  const floor = result.cryptoFloorMicros;
  const rows = result.endpoints.map((entry) => [
    entry.endpoint,
    fixed(entry.servers.bare.serverCpuMicrosPerRequest.median, 1),
    `${fixed(floor.median, 2)} (${fixed(floor.min, 2)}–${fixed(floor.max, 2)})`,
    range(entry.limit),
    fixed(entry.servers.verifier.serverCpuMicrosPerRequest.median, 1),
    range(entry.verifierCpuOverLimit),
  ]);
  return table(
    ["endpoint", "bare CPU µs/request", "crypto floor µs (one-shot)", "limit: bare ÷ (bare + floor)", "verifier CPU µs/request", "verifier CPU ÷ (bare + floor)"],
    rows,
  );
}

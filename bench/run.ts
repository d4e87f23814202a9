// `npm run bench`: in-process verification rates against the crypto floor, then the verifier's
// HTTP endpoints against a bare server, each measured alternately in this one run. Prints
// Markdown tables and writes everything to bench/results/<date>.json.
//   --quick              shorter samples (a smoke run, not numbers to quote)
//   --only=inprocess|http
//   --only=scale         issuance and recovery at 1k/3k/10k keys, then the key index's memory and
//                        restart time at 10k keys, each against a real API server (bench/scale/)
//   --only=workers       the verifier with 2 workers against 1, in turn (bench/http/workers.ts)
//   --cpu-prof           profile both server processes (.keygate/profiles/<date>/) and list
//                        the verifier's hottest functions
//   --connections=N      keep-alive connections of the HTTP load (default 50)
//   --tsx                run the HTTP servers from the TypeScript sources (default: compiled by tsc, as production)
import { spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type HttpOptions, type HttpResult, runHttp } from "./http/suite.js";
import { type InProcessResult, runInProcess } from "./inprocess/suite.js";
import { currentLoad, describeMachine } from "./lib/machine.js";
import { type ProfileSummary, summarizeProfiles } from "./lib/profiles.js";
import { httpLimits, httpRatios, httpTable, inProcessTable, machineLine } from "./lib/report.js";
import type { SamplerOptions } from "./lib/sampler.js";

const args = new Set(process.argv.slice(2));
const quick = args.has("--quick");
const only = [...args].find((arg) => arg.startsWith("--only="))?.slice("--only=".length);
const profile = args.has("--cpu-prof");
const connections = Number([...args].find((arg) => arg.startsWith("--connections="))?.slice("--connections=".length) ?? "50");
const code = args.has("--tsx") ? "tsx" : "compiled";

const IN_PROCESS: SamplerOptions = quick ? { warmupMs: 200, sampleMs: 100, rounds: 3, batch: 64 } : { warmupMs: 500, sampleMs: 250, rounds: 9, batch: 64 };
const HTTP: HttpOptions = quick
  ? { warmupSeconds: 1, durationSeconds: 1, rounds: 2, connections, code }
  : { warmupSeconds: 2, durationSeconds: 4, rounds: 3, connections, code };

const stamp = (at: Date): string => at.toISOString().replace(/:/g, "").replace(/\.\d{3}Z$/, "Z");

function resultPath(at: Date): string {
  const dir = fileURLToPath(new URL("./results/", import.meta.url));
  mkdirSync(dir, { recursive: true });
  return `${dir}${stamp(at)}.json`;
}

function printProfile(summary: ProfileSummary | undefined): void {
  if (summary === undefined) return console.log("no verifier profile was written");
  console.log(`verifier profile: ${summary.file}\nmost self time:`);
  for (const { frame, percent } of summary.self) console.log(`  ${percent.toFixed(1).padStart(5)}%  ${frame}`);
  console.log("most total time:");
  for (const { frame, percent } of summary.total) console.log(`  ${percent.toFixed(1).padStart(5)}%  ${frame}`);
}

// These start clusters and processes of their own and write their own results: each is a script
// of its own, run here one after the other.
const SCRIPTS: Record<string, string[][]> = {
  scale: [["bench/scale/issuance.ts"], ["bench/scale/verifier-index.ts", "--keys=10000"]],
  workers: [["bench/http/workers.ts"]],
};

function runScripts(scripts: readonly string[][]): void {
  for (const [script = "", ...scriptArgs] of scripts) {
    const root = fileURLToPath(new URL("../", import.meta.url));
    const result = spawnSync(process.execPath, ["--import", "tsx", script, ...scriptArgs], { cwd: root, stdio: "inherit" });
    if (result.status !== 0) throw new Error(`${script} failed (${result.status ?? result.signal})`);
  }
}

async function main(): Promise<void> {
  const scripts = only === undefined ? undefined : SCRIPTS[only];
  if (scripts) return runScripts(scripts);
  const startedAt = new Date();
  const loadAtStart = currentLoad();
  let inProcess: InProcessResult | undefined;
  let http: HttpResult | undefined;
  let verifierProfile: ProfileSummary | undefined;
  if (only === undefined || only === "inprocess") {
    console.log("in-process verification (about 25 s)…");
    inProcess = runInProcess(IN_PROCESS);
    console.log(`\n${inProcessTable(inProcess)}\n`);
  }
  if (only === undefined || only === "http") {
    console.log("HTTP: verifier, bare server and bare server + signing core in turn (about 90 s)…");
    const profileDir = profile ? fileURLToPath(new URL(`../.keygate/profiles/${stamp(startedAt)}`, import.meta.url)) : undefined;
    http = await runHttp(HTTP, profileDir);
    console.log(`\n${http.options.connections} connections, servers ${http.options.code === "tsx" ? "run from source (tsx)" : "compiled (tsc)"}\n`);
    console.log(`${httpTable(http)}\n\n${httpRatios(http)}\n\n${httpLimits(http)}\n`);
    if (profileDir !== undefined) {
      verifierProfile = summarizeProfiles(`${profileDir}/verifier`, "verifySignedRequest");
      printProfile(verifierProfile);
    }
  }
  const machine = describeMachine(loadAtStart);
  console.log(machineLine(machine));
  const path = resultPath(startedAt);
  writeFileSync(path, `${JSON.stringify({ startedAt, quick, machine, inProcess, http, verifierProfile }, null, 2)}\n`);
  console.log(`results: ${path}`);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});

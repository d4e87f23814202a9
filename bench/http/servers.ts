import { type ChildProcess, fork } from "node:child_process";
import { fileURLToPath } from "node:url";
import { compileEntries } from "./build.js";
import type { FromChild, ToChild } from "./child.js";

/** The verifier; the bare server; the bare server plus the signing core and nothing else of the verifier. */
export type ServerKind = "verifier" | "bare" | "bare+signing";

export const SERVER_KINDS: readonly ServerKind[] = ["verifier", "bare", "bare+signing"];

const VERIFIER_ENTRY = "bench/http/verifier-server.ts";
const BARE_ENTRY = "bench/http/bare-server.ts";
const ENTRY: Record<ServerKind, { readonly file: string; readonly args: string[] }> = {
  verifier: { file: VERIFIER_ENTRY, args: [] },
  bare: { file: BARE_ENTRY, args: [] },
  "bare+signing": { file: BARE_ENTRY, args: ["--verify"] },
};

/** How the server processes run: compiled by tsc, as production runs, or from source through tsx. */
export type ServerCode = "compiled" | "tsx";

export interface ServerLaunch {
  readonly code: ServerCode;
  /** Run under the V8 profiler, which writes its .cpuprofile there when the process exits. */
  readonly profileDir?: string;
}

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The file each kind runs, and the node flags it needs: compiles the entry points first when compiled. */
async function entryFiles(code: ServerCode): Promise<Record<string, { readonly file: string; readonly execArgv: string[] }>> {
  const sources = [VERIFIER_ENTRY, BARE_ENTRY];
  if (code === "tsx") return Object.fromEntries(sources.map((source) => [source, { file: `${ROOT}${source}`, execArgv: ["--import", "tsx"] }]));
  const compiled = await compileEntries(sources);
  return Object.fromEntries(sources.map((source, i) => [source, { file: compiled[i] as string, execArgv: [] }]));
}

/** Every kind of server, each in a process of its own; a failed start stops the others. */
export async function startServers(launch: ServerLaunch): Promise<Record<ServerKind, ServerProcess>> {
  const files = await entryFiles(launch.code);
  const started = await Promise.allSettled(
    SERVER_KINDS.map((kind) => {
      const { file, execArgv } = files[ENTRY[kind].file] as { file: string; execArgv: string[] };
      return ServerProcess.start(kind, { file, execArgv, args: ENTRY[kind].args }, launch.profileDir);
    }),
  );
  const running = started.flatMap((outcome) => (outcome.status === "fulfilled" ? [outcome.value] : []));
  const failed = started.find((outcome) => outcome.status === "rejected");
  if (failed) {
    await Promise.all(running.map((server) => server.stop()));
    throw failed.reason;
  }
  return Object.fromEntries(running.map((server) => [server.kind, server])) as Record<ServerKind, ServerProcess>;
}

const START_TIMEOUT_MS = 30_000;

/** A benchmark server in a process of its own, on 127.0.0.1. */
export class ServerProcess {
  private constructor(
    readonly kind: ServerKind,
    readonly url: string,
    private readonly child: ChildProcess,
  ) {}

  /** `profileDir`: run under the V8 profiler, which writes its .cpuprofile there when the process exits. */
  static start(kind: ServerKind, entry: { file: string; execArgv: string[]; args: string[] }, profileDir?: string): Promise<ServerProcess> {
    const profiling = profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}/${kind}`];
    const child = fork(entry.file, entry.args, { execArgv: [...entry.execArgv, ...profiling], stdio: ["ignore", "inherit", "inherit", "ipc"] });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill();
        reject(new Error(`the ${kind} server did not start within ${START_TIMEOUT_MS / 1000} s`));
      }, START_TIMEOUT_MS);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`the ${kind} server exited (code ${code}) before listening`));
      });
      child.once("message", (message: FromChild) => {
        clearTimeout(timer);
        if (message.type !== "listening") return reject(new Error(`unexpected first message from the ${kind} server`));
        resolve(new ServerProcess(kind, `http://127.0.0.1:${message.port}`, child));
      });
    });
  }

  /** CPU time the server process has used so far, in microseconds. */
  cpuMicros(): Promise<{ user: number; system: number }> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`the ${this.kind} server did not report its CPU time`)), 5000);
      this.child.once("message", (message: FromChild) => {
        clearTimeout(timer);
        if (message.type === "cpu") resolve({ user: message.userMicros, system: message.systemMicros });
        else reject(new Error(`unexpected message from the ${this.kind} server`));
      });
      this.child.send({ type: "cpu" } satisfies ToChild);
    });
  }

  stop(): Promise<void> {
    if (this.child.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.child.kill("SIGKILL");
        resolve();
      }, 5000);
      this.child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      this.child.send({ type: "stop" } satisfies ToChild);
    });
  }
}

import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { waitFor } from "./wait.js";

// The real executable, run from its sources through tsx's loader, exactly as `npm run
// kubectl-keygate --` runs it: a separate process with its own argv, stdin, stdout and exit code.
const ROOT = resolve(import.meta.dirname, "../..");
const PLUGIN = ["--import", "tsx", join(ROOT, "src/plugin/main.ts")];

export interface PluginRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface PluginRunOptions {
  readonly env?: Record<string, string>;
  /** stdin's content; stdin is a pipe, never a terminal. */
  readonly input?: string;
  readonly cwd?: string;
}

/** Runs `kubectl-keygate --kubeconfig <kubeconfig> <args>` to its end. */
export function runPlugin(kubeconfig: string, args: readonly string[], options: PluginRunOptions = {}): Promise<PluginRun> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, [...PLUGIN, "--kubeconfig", kubeconfig, ...args], {
      cwd: options.cwd ?? ROOT,
      env: { ...process.env, ...options.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => (stdout += chunk.toString("utf8")));
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString("utf8")));
    child.on("error", fail);
    child.on("close", (code) => done({ code, stdout, stderr }));
    child.stdin.end(options.input ?? "");
  });
}

const quote = (word: string): string => `'${word.replaceAll("'", "'\\''")}'`;

/**
 * The executable in a real pseudo-terminal (tmux), as a person runs it: what they see is the
 * pane's text, what they type goes in as keys. The pane stays after the program ends, so its last
 * screen can be read; the shell writes the exit status to a file, because tmux 3.3 sometimes
 * marks a pane dead without ever filling in #{pane_dead_status}.
 */
export class Terminal {
  private constructor(
    private readonly socket: string,
    private readonly config: string,
    private readonly statusFile: string,
  ) {}

  static async start(kubeconfig: string, args: readonly string[], env: Record<string, string> = {}): Promise<Terminal> {
    const dir = await mkdtemp(join(tmpdir(), "plugin-tty-"));
    const config = join(dir, "tmux.conf");
    await writeFile(config, "set -g remain-on-exit on\nset -g history-limit 10000\n");
    const statusFile = join(dir, "exit-status");
    const terminal = new Terminal(`keygate-${randomBytes(4).toString("hex")}`, config, statusFile);
    const command = `${[process.execPath, ...PLUGIN, "--kubeconfig", kubeconfig, ...args].map(quote).join(" ")}; echo $? > ${quote(statusFile)}`;
    const environment = Object.entries(env).flatMap(([name, value]) => ["-e", `${name}=${value}`]);
    terminal.tmux(["new-session", "-d", "-x", "200", "-y", "50", "-c", ROOT, ...environment, command]);
    return terminal;
  }

  private tmux(args: readonly string[]): string {
    const result = spawnSync("tmux", ["-L", this.socket, "-f", this.config, ...args], { encoding: "utf8" });
    if (result.status !== 0) throw new Error(`tmux ${args[0]} failed: ${result.stderr}`);
    return result.stdout;
  }

  /** Everything the terminal shows, history included, without trailing blank lines. */
  screen(): string {
    return this.tmux(["capture-pane", "-p", "-J", "-S", "-"]).trimEnd();
  }

  /** Types a line and presses Enter. */
  type(text: string): void {
    this.tmux(["send-keys", "-l", text]);
    this.tmux(["send-keys", "Enter"]);
  }

  async waitForText(text: string, timeoutMs = 60_000): Promise<string> {
    return waitFor(`"${text}" on the terminal`, () => Promise.resolve(this.screen().includes(text) ? this.screen() : undefined), timeoutMs);
  }

  /** The program's exit status, once it has ended. */
  async exitCode(timeoutMs = 60_000): Promise<number> {
    const written = (): Promise<number | undefined> =>
      readFile(this.statusFile, "utf8").then(
        (text) => (text.endsWith("\n") ? Number(text) : undefined),
        () => undefined,
      );
    return waitFor("the program to end", written, timeoutMs);
  }

  close(): void {
    spawnSync("tmux", ["-L", this.socket, "kill-server"], { stdio: "ignore" });
  }
}

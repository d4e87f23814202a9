import { access, constants, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildEnv, cacheRoot } from "./binaries.js";
import { ensureCachedBuild, GO_NEEDED } from "./cached-build.js";
import { run } from "./exec.js";

// The Caddy the gateway tests run, built from its Go module and cached like Helm, so every
// machine tests docs/gateways.md against the same Caddy. Development tooling: not shipped.
export const CADDY_VERSION = "2.11.9";
export const CADDY_MODULE = "github.com/caddyserver/caddy/v2";
export const CADDY_COMMAND = `${CADDY_MODULE}/cmd/caddy`;
/** A Caddy binary to use as it is (nothing is built). */
export const CADDY_OVERRIDE_ENV = "KEYGATE_CADDY";

export interface CaddyBinary {
  path: string;
  source: typeof CADDY_OVERRIDE_ENV | "cache" | "built";
}

export interface EnsureCaddyOptions {
  env?: NodeJS.ProcessEnv;
  progress?: (message: string) => void;
}

const CADDY_DIR = `caddy-v${CADDY_VERSION}`;

export function caddyCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), CADDY_DIR);
}

export function caddyWrapperGoMod(caddyVersion: string): string {
  return ["module keygate.local/caddy-build", "", "go 1.26.0", "", `require ${CADDY_MODULE} v${caddyVersion}`, ""].join("\n");
}

/** Pins the command as an import so `go mod tidy` records every module it needs. */
export function caddyToolsGo(): string {
  return `//go:build tools\n\npackage tools\n\nimport _ "${CADDY_COMMAND}"\n`;
}

/**
 * The version of Caddy's module in `caddy build-info` (its `caddy version` says `unknown` when
 * built outside Caddy's own repository), or undefined when it names none.
 */
export function parseCaddyBuildInfo(output: string): string | undefined {
  const escaped = CADDY_MODULE.replace(/[.]/g, "\\.");
  return new RegExp(`^mod\\t${escaped}\\t(v\\S+)`, "m").exec(output)?.[1];
}

async function reportedVersion(path: string): Promise<string | undefined> {
  const { stdout } = await run(path, ["build-info"], { timeoutMs: 30_000 });
  return parseCaddyBuildInfo(stdout);
}

/** Caddy of the pinned version: KEYGATE_CADDY if set, else the cache, built on first use. */
export async function ensureCaddy(options: EnsureCaddyOptions = {}): Promise<CaddyBinary> {
  const env = options.env ?? process.env;
  const progress = options.progress ?? (() => undefined);
  const override = env[CADDY_OVERRIDE_ENV];
  if (override) {
    await access(override, constants.X_OK).catch(() => {
      throw new Error(`${CADDY_OVERRIDE_ENV}=${override} is not an executable file`);
    });
    return { path: override, source: CADDY_OVERRIDE_ENV };
  }
  const spec = {
    dirName: CADDY_DIR,
    what: `Caddy v${CADDY_VERSION}`,
    needs: `${GO_NEEDED} Alternatively set ${CADDY_OVERRIDE_ENV} to a Caddy 2 binary.`,
    build: async (bin: string, work: string) => {
      progress(`building Caddy v${CADDY_VERSION} from ${CADDY_MODULE}; the first build takes a minute or two`);
      const module = join(work, "module");
      await mkdir(module, { recursive: true });
      await writeFile(join(module, "go.mod"), caddyWrapperGoMod(CADDY_VERSION));
      await writeFile(join(module, "tools.go"), caddyToolsGo());
      const goEnv = buildEnv(env);
      await run("go", ["mod", "tidy"], { cwd: module, env: goEnv });
      await run("go", ["build", "-trimpath", "-ldflags", "-s -w", "-o", join(bin, "caddy"), CADDY_COMMAND], { cwd: module, env: goEnv });
      const version = await reportedVersion(join(bin, "caddy"));
      if (version !== `v${CADDY_VERSION}`) throw new Error(`the built caddy reports ${version ?? "no version"}; expected v${CADDY_VERSION}`);
    },
  };
  const { dir, source } = await ensureCachedBuild(spec, env, progress);
  return { path: join(dir, "caddy"), source };
}

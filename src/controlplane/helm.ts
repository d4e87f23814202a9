import { access, constants, mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildEnv, cacheRoot } from "./binaries.js";
import { ensureCachedBuild, GO_NEEDED } from "./cached-build.js";
import { run } from "./exec.js";

// The Helm that renders and lints charts/keygate in tests, built from its Go module like the
// control-plane binaries, so every machine renders the chart with the same Helm.
export const HELM_VERSION = "3.22.0";
export const HELM_MODULE = "helm.sh/helm/v3";
export const HELM_COMMAND = `${HELM_MODULE}/cmd/helm`;
/** A Helm binary to use as it is (nothing is built); it must run `helm version`. */
export const HELM_OVERRIDE_ENV = "KEYGATE_HELM";

export type HelmSource = typeof HELM_OVERRIDE_ENV | "cache" | "built";

export interface HelmBinary {
  path: string;
  source: HelmSource;
  /** What the binary itself reports, e.g. `v3.22.0`. */
  version: string;
}

export interface EnsureHelmOptions {
  env?: NodeJS.ProcessEnv;
  progress?: (message: string) => void;
}

const HELM_DIR = `helm-v${HELM_VERSION}`;

/** Where the pinned Helm lives: beside the control-plane binaries, under the same cache root. */
export function helmCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(cacheRoot(env), HELM_DIR);
}

export function helmWrapperGoMod(helmVersion: string): string {
  return ["module keygate.local/helm-build", "", "go 1.26.0", "", `require ${HELM_MODULE} v${helmVersion}`, ""].join("\n");
}

/** Pins the command as an import so `go mod tidy` records every module it needs. */
export function helmToolsGo(): string {
  return `//go:build tools\n\npackage tools\n\nimport _ "${HELM_COMMAND}"\n`;
}

/**
 * The ldflags of Helm's own Makefile: the version it reports, and the Kubernetes version it
 * assumes when no cluster is asked (`helm template`, `helm lint`), derived from the
 * k8s.io/client-go it is built with (v0.37.x means Kubernetes 1.37).
 */
export function helmLdflags(helmVersion: string, clientGoVersion: string): string {
  const match = /^v0\.(\d+)\./.exec(clientGoVersion);
  if (!match) throw new Error(`unexpected k8s.io/client-go version ${clientGoVersion}: expected v0.<minor>.<patch>`);
  const minor = match[1] ?? "";
  const flags = ["-s", "-w", `-X ${HELM_MODULE}/internal/version.version=v${helmVersion}`];
  for (const pkg of ["pkg/lint/rules", "pkg/chartutil"]) {
    flags.push(`-X ${HELM_MODULE}/${pkg}.k8sVersionMajor=1`, `-X ${HELM_MODULE}/${pkg}.k8sVersionMinor=${minor}`);
  }
  return flags.join(" ");
}

/** The version a `helm version --template '{{.Version}}'` printed, or undefined when it is not one. */
export function parseHelmVersion(output: string): string | undefined {
  const text = output.trim();
  return /^v\d+\.\d+\.\d+\S*$/.test(text) ? text : undefined;
}

async function reportedVersion(path: string): Promise<string> {
  const { stdout } = await run(path, ["version", "--template", "{{.Version}}"], { timeoutMs: 30_000 });
  const version = parseHelmVersion(stdout);
  if (!version) throw new Error(`${path} version printed ${JSON.stringify(stdout.trim())}, not a Helm version`);
  return version;
}

async function fromOverride(path: string, progress: (message: string) => void): Promise<HelmBinary> {
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new Error(`${HELM_OVERRIDE_ENV}=${path} is not an executable file`);
  }
  const version = await reportedVersion(path).catch((error: unknown) => {
    throw new Error(`${HELM_OVERRIDE_ENV}=${path} does not run as Helm: ${String(error)}`, { cause: error });
  });
  const pinned = version === `v${HELM_VERSION}` ? "" : ` (keygate pins v${HELM_VERSION}; results may differ)`;
  progress(`using Helm ${version} from ${HELM_OVERRIDE_ENV}=${path}${pinned}`);
  return { path, source: HELM_OVERRIDE_ENV, version };
}

/**
 * Provides the pinned Helm: the binary named by KEYGATE_HELM when set (used as it is), else the
 * cache, building it from its Go module on first use. The cache is either complete or absent.
 */
export async function ensureHelm(options: EnsureHelmOptions = {}): Promise<HelmBinary> {
  const env = options.env ?? process.env;
  const progress = options.progress ?? (() => undefined);
  const override = env[HELM_OVERRIDE_ENV];
  if (override) return fromOverride(override, progress);
  const spec = {
    dirName: HELM_DIR,
    what: `Helm v${HELM_VERSION}`,
    needs: `${GO_NEEDED} Alternatively set ${HELM_OVERRIDE_ENV} to a Helm 3 binary.`,
    build: async (bin: string, work: string) => {
      progress(`building Helm v${HELM_VERSION} from ${HELM_MODULE}; the first build takes a few minutes`);
      const helm = join(bin, "helm");
      await compileHelm(join(work, "module"), helm, buildEnv(env));
      const version = await reportedVersion(helm);
      if (version !== `v${HELM_VERSION}`) throw new Error(`the built helm reports ${version}; expected v${HELM_VERSION}`);
    },
  };
  const { dir, source } = await ensureCachedBuild(spec, env, progress);
  return { path: join(dir, "helm"), source, version: `v${HELM_VERSION}` };
}

async function compileHelm(module: string, output: string, env: NodeJS.ProcessEnv): Promise<void> {
  await mkdir(module, { recursive: true });
  await writeFile(join(module, "go.mod"), helmWrapperGoMod(HELM_VERSION));
  await writeFile(join(module, "tools.go"), helmToolsGo());
  await run("go", ["mod", "tidy"], { cwd: module, env });
  const { stdout } = await run("go", ["list", "-m", "-f", "{{.Version}}", "k8s.io/client-go"], { cwd: module, env });
  const ldflags = helmLdflags(HELM_VERSION, stdout.trim());
  await run("go", ["build", "-trimpath", "-ldflags", ldflags, "-o", output, HELM_COMMAND], { cwd: module, env });
}

import { access, constants, mkdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { CommandFailedError, run } from "./exec.js";
import {
  etcdMainGo,
  etcdWrapperGoMod,
  KUBERNETES_COMMANDS,
  kubernetesLdflags,
  kubernetesToolsGo,
  kubernetesWrapperGoMod,
  stagingModules,
} from "./gomod.js";
import { acquireDirectoryLock } from "./lock.js";
import {
  CONTROL_PLANE_BINARIES,
  type ControlPlaneBinary,
  ETCD_VERSION,
  KUBERNETES_VERSION,
  versionsKey,
} from "./versions.js";

export type BinarySource = "KUBEBUILDER_ASSETS" | "cache" | "built";

export interface ControlPlaneBinaries {
  dir: string;
  source: BinarySource;
  path(binary: ControlPlaneBinary): string;
}

export interface EnsureOptions {
  env?: NodeJS.ProcessEnv;
  progress?: (message: string) => void;
}

const COMPLETE_MARKER = ".complete";

export function cacheRoot(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.KEYGATE_CACHE ?? join(homedir(), ".cache", "keygate");
  return join(base, "control-plane");
}

function binariesIn(dir: string, source: BinarySource): ControlPlaneBinaries {
  return { dir, source, path: (binary) => join(dir, binary) };
}

async function missingBinaries(dir: string): Promise<string[]> {
  const missing: string[] = [];
  for (const binary of CONTROL_PLANE_BINARIES) {
    try {
      await access(join(dir, binary), constants.X_OK);
    } catch {
      missing.push(binary);
    }
  }
  return missing;
}

export async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Provides etcd, kube-apiserver, kube-controller-manager and kubectl of the pinned versions:
 * from KUBEBUILDER_ASSETS when set (the envtest convention, nothing is built), else from the
 * cache, building them from their Go modules on first use.
 */
export async function ensureControlPlaneBinaries(options: EnsureOptions = {}): Promise<ControlPlaneBinaries> {
  const env = options.env ?? process.env;
  const progress = options.progress ?? (() => undefined);
  const assets = env.KUBEBUILDER_ASSETS;
  if (assets) {
    const missing = await missingBinaries(assets);
    if (missing.length > 0) {
      throw new Error(`KUBEBUILDER_ASSETS=${assets} lacks executable ${missing.join(", ")}`);
    }
    return binariesIn(assets, "KUBEBUILDER_ASSETS");
  }
  const root = cacheRoot(env);
  const dir = join(root, versionsKey());
  if (await exists(join(dir, COMPLETE_MARKER))) return binariesIn(dir, "cache");

  await mkdir(root, { recursive: true });
  const lock = await acquireDirectoryLock(`${dir}.lock`, (owner) =>
    progress(`another build of the control-plane binaries is running (pid ${owner ?? "?"}); waiting for it`),
  );
  try {
    if (await exists(join(dir, COMPLETE_MARKER))) return binariesIn(dir, "cache");
    await buildInto(root, dir, env, progress);
    return binariesIn(dir, "built");
  } finally {
    await lock.release();
  }
}

async function buildInto(
  root: string,
  dir: string,
  env: NodeJS.ProcessEnv,
  progress: (message: string) => void,
): Promise<void> {
  const work = join(root, `.build-${versionsKey()}-${process.pid}`);
  await rm(work, { recursive: true, force: true });
  await rm(dir, { recursive: true, force: true });
  try {
    progress(
      `building Kubernetes v${KUBERNETES_VERSION} and etcd v${ETCD_VERSION} from their Go modules ` +
        `into ${dir}; the first build takes several minutes (later runs reuse the cache)`,
    );
    const goEnv = buildEnv(env);
    const bin = join(work, "bin");
    await buildKubernetes({ work: join(work, "kubernetes"), bin }, goEnv, progress);
    await buildEtcd(join(work, "etcd"), bin, goEnv, progress);
    await checkVersions(bin, progress);
    await writeFile(
      join(bin, COMPLETE_MARKER),
      JSON.stringify({ kubernetes: KUBERNETES_VERSION, etcd: ETCD_VERSION, builtAt: new Date().toISOString() }),
    );
    await rename(bin, dir);
    progress(`control-plane binaries ready in ${dir}`);
  } catch (error) {
    throw explainBuildFailure(error);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

export function buildEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  // Static binaries need no C toolchain; GOWORK/GOFLAGS from the caller must not leak into
  // the throwaway modules; a toolchain download is not possible here, so fail clearly instead.
  return { ...env, CGO_ENABLED: "0", GOWORK: "off", GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local" };
}

/** Compiles Kubernetes commands (default: the control plane's) of the pinned release into bin. */
export async function buildKubernetes(
  { work, bin, commands = KUBERNETES_COMMANDS }: { work: string; bin: string; commands?: readonly string[] },
  env: NodeJS.ProcessEnv,
  progress: (message: string) => void,
): Promise<void> {
  await mkdir(work, { recursive: true });
  progress(`resolving k8s.io/kubernetes v${KUBERNETES_VERSION} through the Go module proxy`);
  const { stdout } = await run("go", ["mod", "download", "-json", `k8s.io/kubernetes@v${KUBERNETES_VERSION}`], {
    cwd: work,
    env,
  });
  const goModPath = (JSON.parse(stdout) as { GoMod?: string }).GoMod;
  if (!goModPath) throw new Error("go mod download did not report k8s.io/kubernetes's go.mod");
  const staging = stagingModules(await readFile(goModPath, "utf8"));
  await writeFile(join(work, "go.mod"), kubernetesWrapperGoMod(KUBERNETES_VERSION, staging));
  await writeFile(join(work, "tools.go"), kubernetesToolsGo(commands));
  await run("go", ["mod", "tidy"], { cwd: work, env });
  progress(`compiling ${commands.map((command) => command.split("/").pop()).join(", ")}`);
  const ldflags = kubernetesLdflags(KUBERNETES_VERSION);
  await run("go", ["build", "-trimpath", "-ldflags", ldflags, "-o", `${bin}/`, ...commands], {
    cwd: work,
    env,
  });
}

async function buildEtcd(
  work: string,
  bin: string,
  env: NodeJS.ProcessEnv,
  progress: (message: string) => void,
): Promise<void> {
  await mkdir(work, { recursive: true });
  await writeFile(join(work, "go.mod"), etcdWrapperGoMod(ETCD_VERSION));
  await writeFile(join(work, "main.go"), etcdMainGo());
  progress(`compiling etcd v${ETCD_VERSION}`);
  await run("go", ["mod", "tidy"], { cwd: work, env });
  await run("go", ["build", "-trimpath", "-ldflags", "-s -w", "-o", join(bin, "etcd"), "."], { cwd: work, env });
}

const EXPECTED_VERSION_OUTPUT: Record<ControlPlaneBinary, string> = {
  etcd: `etcd Version: ${ETCD_VERSION}`,
  "kube-apiserver": `Kubernetes v${KUBERNETES_VERSION}`,
  "kube-controller-manager": `Kubernetes v${KUBERNETES_VERSION}`,
  kubectl: `v${KUBERNETES_VERSION}`,
};

async function checkVersions(bin: string, progress: (message: string) => void): Promise<void> {
  for (const binary of CONTROL_PLANE_BINARIES) {
    const args = binary === "kubectl" ? ["version", "--client"] : ["--version"];
    const { stdout } = await run(join(bin, binary), args);
    if (!stdout.includes(EXPECTED_VERSION_OUTPUT[binary])) {
      throw new Error(`${binary} reports ${stdout.trim()}; expected ${EXPECTED_VERSION_OUTPUT[binary]}`);
    }
    progress(`${binary}: ${stdout.trim().split("\n")[0] ?? ""}`);
  }
}

function explainBuildFailure(error: unknown): Error {
  const hint =
    "building the control-plane binaries failed; nothing was left in the cache. It needs Go " +
    `(go 1.26 or newer on PATH) and the Go module proxy. Alternatively set KUBEBUILDER_ASSETS ` +
    "to a directory holding etcd, kube-apiserver, kube-controller-manager and kubectl.";
  if (error instanceof CommandFailedError) return new Error(`${hint}\n${error.message}`, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`${hint}\n${message}`, { cause: error });
}

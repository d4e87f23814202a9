import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildEnv, buildKubernetes } from "./binaries.js";
import { ensureCachedBuild, GO_NEEDED } from "./cached-build.js";
import { run } from "./exec.js";
import { NODE_COMMANDS } from "./gomod.js";
import { KUBERNETES_VERSION } from "./versions.js";

// A node's programs, built from their Go modules like the control plane's and cached beside them.
// CoreDNS answers Service names for Pods; it runs on the host, as the kubelet does.
export const COREDNS_VERSION = "1.14.7";
const COREDNS_MODULE = "github.com/coredns/coredns";

export type NodeBinary = "kube-scheduler" | "kubelet" | "kube-proxy" | "coredns";

export interface NodeBinaries {
  readonly dir: string;
  path(binary: NodeBinary): string;
}

async function buildCoreDns(bin: string, work: string, env: NodeJS.ProcessEnv, progress: (message: string) => void): Promise<void> {
  const module = join(work, "coredns");
  await mkdir(module, { recursive: true });
  await writeFile(join(module, "go.mod"), ["module keygate.local/coredns-build", "", "go 1.26.0", "", `require ${COREDNS_MODULE} v${COREDNS_VERSION}`, ""].join("\n"));
  await writeFile(join(module, "tools.go"), `//go:build tools\n\npackage tools\n\nimport _ "${COREDNS_MODULE}"\n`);
  progress(`compiling CoreDNS v${COREDNS_VERSION}`);
  await run("go", ["mod", "tidy"], { cwd: module, env });
  await run("go", ["build", "-trimpath", "-ldflags", "-s -w", "-o", join(bin, "coredns"), COREDNS_MODULE], { cwd: module, env });
  const { stdout } = await run(join(bin, "coredns"), ["-version"]);
  if (!stdout.includes(`CoreDNS-${COREDNS_VERSION}`)) throw new Error(`the built coredns reports ${stdout.trim()}; expected CoreDNS-${COREDNS_VERSION}`);
}

/** kube-scheduler, kubelet, kube-proxy and CoreDNS of the pinned versions, built on first use. */
export async function ensureNodeBinaries(env: NodeJS.ProcessEnv = process.env, progress: (message: string) => void = () => undefined): Promise<NodeBinaries> {
  const spec = {
    dirName: `node-k8s-v${KUBERNETES_VERSION}-coredns-v${COREDNS_VERSION}`,
    what: `kube-scheduler, kubelet and kube-proxy v${KUBERNETES_VERSION} and CoreDNS v${COREDNS_VERSION}`,
    needs: GO_NEEDED,
    build: async (bin: string, work: string) => {
      progress(`building the node's binaries (Kubernetes v${KUBERNETES_VERSION}, CoreDNS v${COREDNS_VERSION}) from their Go modules; the first build takes a few minutes`);
      const goEnv = buildEnv(env);
      await buildKubernetes({ work: join(work, "kubernetes"), bin, commands: NODE_COMMANDS }, goEnv, progress);
      await buildCoreDns(bin, work, goEnv, progress);
    },
  };
  const { dir } = await ensureCachedBuild(spec, env, progress);
  return { dir, path: (binary) => join(dir, binary) };
}

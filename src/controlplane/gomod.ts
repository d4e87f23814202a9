import { stagingModuleVersion } from "./versions.js";

/**
 * k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them with local
 * directories, which only works inside its own repository. A wrapper module replaces each of
 * them with its published twin instead; the list comes from k8s.io/kubernetes's own go.mod so a
 * new staging module in a later release is picked up without a code change.
 */
export function stagingModules(kubernetesGoMod: string): string[] {
  const modules = new Set<string>();
  for (const line of kubernetesGoMod.split("\n")) {
    const match = /^\s*(k8s\.io\/[A-Za-z0-9._-]+)\s+=>\s+\.\/staging\//.exec(line);
    if (match?.[1]) modules.add(match[1]);
  }
  return [...modules].sort();
}

export function kubernetesWrapperGoMod(kubernetesVersion: string, staging: readonly string[]): string {
  if (staging.length === 0) {
    throw new Error("k8s.io/kubernetes go.mod lists no staging replacements; cannot build a wrapper module");
  }
  const twin = stagingModuleVersion(kubernetesVersion);
  const replaces = staging.map((module) => `\t${module} => ${module} ${twin}`).join("\n");
  return [
    "module keygate.local/control-plane-build",
    "",
    "go 1.26.0",
    "",
    `require k8s.io/kubernetes v${kubernetesVersion}`,
    "",
    `replace (\n${replaces}\n)`,
    "",
  ].join("\n");
}

export const KUBERNETES_COMMANDS = [
  "k8s.io/kubernetes/cmd/kube-apiserver",
  "k8s.io/kubernetes/cmd/kube-controller-manager",
  "k8s.io/kubernetes/cmd/kubectl",
] as const;

/** What a real node adds: the scheduler that places Pods, the kubelet that runs them, and Services. */
export const NODE_COMMANDS = [
  "k8s.io/kubernetes/cmd/kube-scheduler",
  "k8s.io/kubernetes/cmd/kubelet",
  "k8s.io/kubernetes/cmd/kube-proxy",
] as const;

/** Pins the commands as imports so `go mod tidy` records every module they need. */
export function kubernetesToolsGo(commands: readonly string[] = KUBERNETES_COMMANDS): string {
  const imports = commands.map((path) => `\t_ "${path}"`).join("\n");
  return `//go:build tools\n\npackage tools\n\nimport (\n${imports}\n)\n`;
}

export function etcdWrapperGoMod(etcdVersion: string): string {
  return [
    "module keygate.local/etcd-build",
    "",
    "go 1.26.0",
    "",
    `require go.etcd.io/etcd/server/v3 v${etcdVersion}`,
    "",
  ].join("\n");
}

/** etcd's own main package lives in a module with local replaces; its entry point does not. */
export function etcdMainGo(): string {
  return [
    "package main",
    "",
    "import (",
    '\t"os"',
    "",
    '\t"go.etcd.io/etcd/server/v3/etcdmain"',
    ")",
    "",
    "func main() {",
    "\tetcdmain.Main(os.Args)",
    "}",
    "",
  ].join("\n");
}

/** Version ldflags, so the binaries report the release they were built from, not v0.0.0. */
export function kubernetesLdflags(kubernetesVersion: string): string {
  const [major, minor] = kubernetesVersion.split(".");
  const flags: string[] = ["-s", "-w"];
  for (const pkg of ["k8s.io/component-base/version", "k8s.io/client-go/pkg/version"]) {
    flags.push(
      `-X ${pkg}.gitVersion=v${kubernetesVersion}`,
      `-X ${pkg}.gitMajor=${major}`,
      `-X ${pkg}.gitMinor=${minor}`,
      `-X ${pkg}.gitTreeState=clean`,
    );
  }
  return flags.join(" ");
}

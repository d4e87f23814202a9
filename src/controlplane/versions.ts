// The control plane every test and the demo run against. Kubernetes >= 1.31 needs etcd >= 3.5.11;
// 1.36 itself is tested against etcd 3.6.
export const KUBERNETES_VERSION = "1.36.3";
export const ETCD_VERSION = "3.6.8";

export const CONTROL_PLANE_BINARIES = [
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kubectl",
] as const;
export type ControlPlaneBinary = (typeof CONTROL_PLANE_BINARIES)[number];

export function versionsKey(): string {
  return `k8s-v${KUBERNETES_VERSION}-etcd-v${ETCD_VERSION}`;
}

/** The published twin of a Kubernetes staging module: k8s.io/api for 1.36.3 is v0.36.3. */
export function stagingModuleVersion(kubernetesVersion: string): string {
  const [major, minor, patch] = kubernetesVersion.split(".");
  if (major !== "1" || minor === undefined || patch === undefined) {
    throw new Error(`unsupported Kubernetes version ${kubernetesVersion}: expected 1.<minor>.<patch>`);
  }
  return `v0.${minor}.${patch}`;
}

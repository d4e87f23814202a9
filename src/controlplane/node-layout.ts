// Where a local node lives on the host. Fixed names, one node per host: whatever a crash leaves
// is found again by the next start or the cleanup, without any record of the run that left it.
export const NODE_NAME = "keygate-node";
export const NODE_RUN_DIR = "/run/keygate-node";
export const NODE_DATA_DIR = "/var/lib/keygate-node";

/** A bridge link with no ports: only an address of the host that is not loopback (the kubelet refuses loopback). */
export const NODE_LINK = "kg-node0";
export const NODE_ADDRESS = "10.213.0.1";

/** The CNI bridge the Pods' veths join, the gateway address on it, and the Pods' range. */
export const POD_BRIDGE = "kg-pods0";
export const POD_CIDR = "10.214.0.0/24";

export const CLUSTER_DOMAIN = "cluster.local";

/** Marks the firewall rules this node adds, so that the cleanup removes exactly those (and kube-proxy's KUBE-* chains). */
export const FIREWALL_COMMENT = "keygate-node";

export const CONTAINERD_SOCKET = `${NODE_RUN_DIR}/containerd.sock`;

/** One node per host: held by the starter, then by its guardian until the host is clean. */
export const NODE_LOCK = `${NODE_RUN_DIR}.lock`;

/**
 * The kubelet's cgroupRoot: every Pod cgroup of this node lies under it, and nothing of another
 * kubelet on the host (which would use /kubepods) does.
 */
export const NODE_CGROUP = "keygate-node";

/** The node's programs: only processes of these, naming the node's folders, are ever killed. */
export const NODE_EXECUTABLES = ["containerd", "containerd-shim", "containerd-shim-runc-v2", "kubelet", "kube-proxy", "kube-scheduler", "coredns"] as const;

/** What the kubelet and kube-proxy change on the host, recorded before the start and restored by the cleanup. */
export const TUNED_SYSCTLS = [
  "net/ipv4/ip_forward",
  "vm/overcommit_memory",
  "vm/panic_on_oom",
  "kernel/panic",
  "kernel/panic_on_oops",
  "kernel/keys/root_maxkeys",
  "kernel/keys/root_maxbytes",
] as const;

/** Outside both folders: they are removed by the cleanup, this file is what the cleanup restores. */
export const HOST_STATE_FILE = "/var/lib/keygate-node.host-state.json";

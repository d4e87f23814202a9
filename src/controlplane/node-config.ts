import { PAUSE_IMAGE } from "./images.js";
import { CLUSTER_DOMAIN, CONTAINERD_SOCKET, NODE_CGROUP, NODE_ADDRESS, NODE_DATA_DIR, NODE_RUN_DIR, POD_BRIDGE, POD_CIDR } from "./node-layout.js";

// The configuration files of one local node: pure text from the layout, so a test can read them.

export const CNI_BIN_DIR = "/usr/lib/cni";
export const CNI_CONF_DIR = `${NODE_DATA_DIR}/cni/net.d`;

/**
 * containerd with every path of its own, beside any containerd the host runs (Docker's).
 * restrict_oom_score_adj: this kind of host refuses a negative oom_score_adj, which the CRI
 * would otherwise set for the pause container. Network namespaces live under the state folder,
 * so the cleanup finds their mounts with the rest.
 */
export function containerdConfig(): string {
  return `version = 2
root = "${NODE_DATA_DIR}/containerd"
state = "${NODE_RUN_DIR}/containerd"

[grpc]
  address = "${CONTAINERD_SOCKET}"

[plugins."io.containerd.internal.v1.opt"]
  path = "${NODE_DATA_DIR}/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "${PAUSE_IMAGE}"
  restrict_oom_score_adj = true
  netns_mounts_under_state_dir = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "${CNI_BIN_DIR}"
    conf_dir = "${CNI_CONF_DIR}"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        Root = "${NODE_RUN_DIR}/runc"
        SystemdCgroup = false
`;
}

/**
 * A bridge with the host as the Pods' gateway, addresses from host-local kept under the node's
 * folder. No masquerade: nothing leaves the host, and the plugin then adds no firewall rules.
 */
export function cniConfig(): string {
  return `${JSON.stringify(
    {
      cniVersion: "1.0.0",
      name: "keygate-pods",
      plugins: [
        {
          type: "bridge",
          bridge: POD_BRIDGE,
          isGateway: true,
          ipMasq: false,
          hairpinMode: true,
          ipam: { type: "host-local", ranges: [[{ subnet: POD_CIDR }]], routes: [{ dst: "0.0.0.0/0" }], dataDir: `${NODE_DATA_DIR}/cni/ipam` },
        },
      ],
    },
    null,
    2,
  )}\n`;
}

/**
 * The kubelet on a cgroup v1 host with swap, its files under the node's folder. No image garbage
 * collection and no disk-pressure eviction: images are imported, never pulled, so one collected
 * could not come back. Authentication by the cluster CA (the API server's client certificate for
 * logs and exec), everything it authenticates allowed: the node is the developer's own.
 */
export function kubeletConfig(caFile: string, resolvConf: string): string {
  return `${JSON.stringify(
    {
      apiVersion: "kubelet.config.k8s.io/v1beta1",
      kind: "KubeletConfiguration",
      failCgroupV1: false,
      cgroupDriver: "cgroupfs",
      cgroupRoot: `/${NODE_CGROUP}`,
      failSwapOn: false,
      address: NODE_ADDRESS,
      readOnlyPort: 0,
      healthzBindAddress: "127.0.0.1",
      authentication: { anonymous: { enabled: false }, webhook: { enabled: false }, x509: { clientCAFile: caFile } },
      authorization: { mode: "AlwaysAllow" },
      clusterDNS: [NODE_ADDRESS],
      clusterDomain: CLUSTER_DOMAIN,
      resolvConf,
      containerRuntimeEndpoint: `unix://${CONTAINERD_SOCKET}`,
      podLogsDir: `${NODE_DATA_DIR}/pod-logs`,
      podCIDR: POD_CIDR,
      imageGCHighThresholdPercent: 100,
      imageGCLowThresholdPercent: 99,
      evictionHard: { "memory.available": "1Mi", "nodefs.available": "0%", "imagefs.available": "0%", "nodefs.inodesFree": "0%" },
      serializeImagePulls: false,
    },
    null,
    2,
  )}\n`;
}

/** CoreDNS on the node's address: Service and Pod names from the API server, anything else from the host's resolvers. */
export function corefile(kubeconfig: string): string {
  return `.:53 {
    bind ${NODE_ADDRESS}
    errors
    kubernetes ${CLUSTER_DOMAIN} in-addr.arpa ip6.arpa {
        kubeconfig ${kubeconfig}
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    forward . /etc/resolv.conf
    cache 5
}
`;
}

// The development entry point (`npm run keygate`, run from the sources through tsx): the
// production program plus the commands that build and run a local control plane.
import { buildProgram, progress, runProgram, stopOnSignal } from "../cli/program.js";
import { ensureControlPlaneBinaries } from "../controlplane/binaries.js";
import { CONTROL_PLANE_BINARIES, ETCD_VERSION, KUBERNETES_VERSION } from "../controlplane/versions.js";
import { howTo, startDev } from "./dev.js";
import { howToNode, startDevNode } from "./dev-node.js";

function replicas(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 1 || value > 16) throw new Error(`--verifier-replicas: "${text}" is not a number of replicas (1-16)`);
  return value;
}

async function runDev(options: { stateDir: string; verifierReplicas: string; node?: boolean }): Promise<void> {
  if (options.node) {
    // The chart decides the verifier's replicas on a node (verifier.replicas).
    if (options.verifierReplicas !== "1") throw new Error("--verifier-replicas does not apply with --node: set verifier.replicas when installing the chart");
    const nodeEnv = await startDevNode({ stateDir: options.stateDir, progress });
    console.log(howToNode(nodeEnv));
    stopOnSignal(() => nodeEnv.stop());
    return;
  }
  const env = await startDev({ stateDir: options.stateDir, progress, verifierReplicas: replicas(options.verifierReplicas) });
  console.log(howTo(env));
  stopOnSignal(() => env.stop());
}

async function runControlPlane(): Promise<void> {
  const binaries = await ensureControlPlaneBinaries({ progress });
  progress(`Kubernetes v${KUBERNETES_VERSION}, etcd v${ETCD_VERSION} (${binaries.source})`);
  for (const binary of CONTROL_PLANE_BINARIES) console.log(binaries.path(binary));
}

const program = buildProgram();
program
  .command("dev")
  .description("run a local control plane with keygate's CRDs installed, until interrupted")
  .option("--state-dir <dir>", "where the control plane keeps its state", ".keygate/dev")
  .option("--verifier-replicas <count>", "verifier processes, sharing a local redis-server as their replay store when more than one", "1")
  .option("--node", "instead of in-process operator and verifier: a real node (kubelet, containerd) running keygate's image, ready for helm install of charts/keygate (Linux, root)")
  .action(runDev);
program
  .command("control-plane")
  .description("provide etcd, kube-apiserver, kube-controller-manager and kubectl (built on first use) and print their paths")
  .action(runControlPlane);
await runProgram(program);

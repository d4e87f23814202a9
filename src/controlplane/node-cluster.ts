import { join } from "node:path";
import { ensureControlPlaneBinaries } from "./binaries.js";
import { type ControlPlane, startControlPlane } from "./harness.js";
import { ensureNodeBinaries } from "./node-binaries.js";
import { type LocalNode, prepareNodeHost, startNode } from "./node.js";

/** A control plane and one real node, which Pods are scheduled on and run. */
export interface NodeCluster {
  readonly controlPlane: ControlPlane;
  readonly node: LocalNode;
  /** Stops every process and leaves the host as it was (the guardian does the same if this process dies first). */
  stop(): Promise<void>;
}

export interface StartNodeClusterOptions {
  readonly stateDir: string;
  readonly progress?: (message: string) => void;
}

export async function startNodeCluster(options: StartNodeClusterOptions): Promise<NodeCluster> {
  const progress = options.progress ?? (() => undefined);
  // Built before the host is touched: a failed build leaves nothing to clean.
  const binaries = await ensureControlPlaneBinaries({ progress });
  const nodeBinaries = await ensureNodeBinaries(process.env, progress);
  const host = await prepareNodeHost(join(options.stateDir, "logs"), progress);
  let controlPlane: ControlPlane | undefined;
  try {
    controlPlane = await startControlPlane({ stateDir: options.stateDir, binaries, progress, nodeAddress: host.address });
    const node = await startNode({ controlPlane, binaries: nodeBinaries, progress });
    const started = controlPlane;
    return {
      controlPlane: started,
      node,
      stop: async () => {
        await node.stop();
        await started.stop();
        await host.release();
      },
    };
  } catch (error) {
    await controlPlane?.stop();
    await host.release();
    throw error;
  }
}

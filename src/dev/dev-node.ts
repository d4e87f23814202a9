import { mkdir, rm, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { stringify } from "yaml";
import { ensureDockerEngine } from "../controlplane/docker.js";
import { run } from "../controlplane/exec.js";
import {
  buildKeygateImage,
  ensureBaseImage,
  ensureNginxImage,
  ensurePauseImage,
  ensureRedisImage,
  KEYGATE_IMAGE_REPOSITORY,
  type LocalImage,
  REDIS_IMAGE,
} from "../controlplane/images.js";
import { type NodeCluster, startNodeCluster } from "../controlplane/node-cluster.js";

/** The tag `keygate dev --node` gives the image it builds from the working tree. */
export const DEV_IMAGE_TAG = "dev";

export interface DevNodeInfo {
  readonly kubeconfig: string;
  readonly apiServer: string;
  readonly node: { readonly name: string; readonly address: string; readonly podCidr: string };
  /** Values for `helm install -f`: the chart's images replaced by the ones imported into the node. */
  readonly helmValues: string;
  /** Every image the node has, besides what Pods pull (nothing can be pulled). */
  readonly images: readonly string[];
  readonly pid: number;
}

export interface DevNodeEnvironment {
  readonly info: DevNodeInfo;
  readonly cluster: NodeCluster;
  stop(): Promise<void>;
}

const [REDIS_REPOSITORY, REDIS_TAG] = REDIS_IMAGE.split(":") as [string, string];

/** Only image values: everything else is the chart's defaults, as a user would install it. */
function chartValues(): string {
  return stringify({
    image: { repository: KEYGATE_IMAGE_REPOSITORY, tag: DEV_IMAGE_TAG, pullPolicy: "Never" },
    replayStore: { bundled: { image: { repository: REDIS_REPOSITORY, tag: REDIS_TAG, pullPolicy: "Never" } } },
  });
}

async function buildImages(progress: (message: string) => void): Promise<LocalImage[]> {
  await ensureDockerEngine(progress);
  const images = [await ensurePauseImage(progress), await ensureBaseImage(progress)];
  images.push(await buildKeygateImage(DEV_IMAGE_TAG, progress), await ensureRedisImage(progress), await ensureNginxImage(progress));
  return images;
}

/**
 * A control plane and a real node running the images built here, ready for `helm install` of
 * charts/keygate. dev.json is written last, so that its presence means ready.
 */
export async function startDevNode(options: { stateDir: string; progress: (message: string) => void }): Promise<DevNodeEnvironment> {
  const stateDir = resolve(options.stateDir);
  const devJson = join(stateDir, "dev.json");
  await mkdir(stateDir, { recursive: true });
  await rm(devJson, { force: true });
  // Built before the node starts: a failed build leaves nothing on the host to clean.
  const images = await buildImages(options.progress);
  const cluster = await startNodeCluster({ stateDir, progress: options.progress });
  const refs = images.map((image) => image.ref);
  try {
    const archive = join(stateDir, "images.tar");
    options.progress(`importing ${refs.join(", ")} into the node`);
    await run("docker", ["save", "-o", archive, ...refs], { timeoutMs: 600_000 });
    await cluster.node.importImages([archive]);
    await rm(archive, { force: true });
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  const helmValues = join(stateDir, "node-values.yaml");
  await writeFile(helmValues, chartValues());
  const { node, controlPlane } = cluster;
  const info: DevNodeInfo = {
    kubeconfig: controlPlane.kubeconfigPath,
    apiServer: controlPlane.apiServerUrl,
    node: { name: node.name, address: node.address, podCidr: node.podCidr },
    helmValues,
    images: refs,
    pid: process.pid,
  };
  await writeFile(devJson, `${JSON.stringify(info, null, 2)}\n`);
  return {
    info,
    cluster,
    stop: async () => {
      await rm(devJson, { force: true });
      await cluster.stop();
    },
  };
}

export function howToNode(env: DevNodeEnvironment): string {
  const kubeconfig = env.info.kubeconfig;
  return [
    `keygate dev --node is ready: node ${env.info.node.name} at ${env.info.node.address}, Pods in ${env.info.node.podCidr}.`,
    `  kubeconfig:  ${kubeconfig}`,
    `  images:      ${env.info.images.join(", ")}`,
    "Install the chart with the images built here:",
    `  helm --kubeconfig ${kubeconfig} install keygate charts/keygate -n keygate-system --create-namespace -f ${env.info.helmValues} --wait`,
    `  ${env.cluster.controlPlane.binaries.path("kubectl")} --kubeconfig ${kubeconfig} -n keygate-system get pods`,
    "Press Ctrl-C to stop; the node's containers, mounts, links and firewall rules go with it.",
  ].join("\n");
}

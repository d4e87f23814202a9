import { randomBytes } from "node:crypto";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, inject } from "vitest";
import { run, type RunResult } from "../../src/controlplane/exec.js";
import { PooledKubeConfig } from "../../src/runtime/kubeconfig.js";
import type { ControlPlaneInfo } from "./control-plane-info.js";

export function controlPlane(): ControlPlaneInfo {
  return inject("controlPlane");
}

export function kubeConfig(path = controlPlane().kubeconfigPath): k8s.KubeConfig {
  const kc = new PooledKubeConfig();
  kc.loadFromFile(path);
  return kc;
}

/** The real kubectl of the control plane, as the admin identity unless told otherwise; `input` is its stdin (`-f -`). */
export function kubectl(args: readonly string[], kubeconfig = controlPlane().kubeconfigPath, input?: string): Promise<RunResult> {
  return run(join(controlPlane().binDir, "kubectl"), [`--kubeconfig=${kubeconfig}`, ...args], { timeoutMs: 60_000, input });
}

export interface TestNamespace {
  readonly name: string;
  readonly kc: k8s.KubeConfig;
  readonly core: k8s.CoreV1Api;
  readonly custom: k8s.CustomObjectsApi;
}

/** A fresh namespace for the calling test file, deleted (and really terminated) after it. */
export function useNamespace(prefix: string): TestNamespace {
  const kc = kubeConfig();
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const name = `${prefix}-${randomBytes(3).toString("hex")}`;
  beforeAll(async () => {
    await core.createNamespace({ body: { metadata: { name } } });
  });
  afterAll(async () => {
    await core.deleteNamespace({ name });
  });
  return { name, kc, core, custom: kc.makeApiClient(k8s.CustomObjectsApi) };
}

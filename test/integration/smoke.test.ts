import * as k8s from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { KUBERNETES_VERSION } from "../../src/controlplane/versions.js";
import { controlPlane, kubeConfig, kubectl, useNamespace } from "../support/cluster.js";

const GROUP = "smoke.keygate.dev";
const VERSION = "v1";
const PLURAL = "widgets";
const CRD_FILE = "test/fixtures/widgets.crd.yaml";

async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

type WatchCallback = (type: string, obj: { metadata?: { name?: string } }) => void;

/**
 * Opens a watch, retrying while the API server answers 429: a freshly established CRD's watch
 * cache is still initialising, and real clients (informers) retry exactly so.
 */
async function openWatch(kc: k8s.KubeConfig, path: string, onEvent: WatchCallback): Promise<AbortController> {
  for (let attempt = 0; ; attempt++) {
    let failure: unknown;
    const controller = await new k8s.Watch(kc).watch(path, {}, onEvent, (error: unknown) => {
      failure ??= error;
    });
    if (failure === undefined || failure === null) return controller;
    if (attempt >= 50) throw new Error(`watch on ${path} never opened`, { cause: failure });
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

function apiStatus(error: unknown): number | undefined {
  return error instanceof k8s.ApiException ? error.code : undefined;
}

describe("the local control plane", () => {
  const ns = useNamespace("smoke");

  it("reports the pinned Kubernetes version through the real kubectl", async () => {
    const { stdout } = await kubectl(["version", "-o", "json"]);
    const version = JSON.parse(stdout) as { serverVersion: { gitVersion: string }; clientVersion: { gitVersion: string } };
    expect(version.serverVersion.gitVersion).toBe(`v${KUBERNETES_VERSION}`);
    expect(version.clientVersion.gitVersion).toBe(`v${KUBERNETES_VERSION}`);
  });

  it("applies a CRD with kubectl and reports it Established", async () => {
    await kubectl(["apply", "-f", CRD_FILE]);
    const { stdout } = await kubectl(["wait", "--for=condition=Established", "--timeout=60s", "-f", CRD_FILE]);
    expect(stdout).toContain("condition met");
  });

  it("creates, reads and watches a custom resource", async () => {
    const watched: string[] = [];
    const controller = await openWatch(ns.kc, `/apis/${GROUP}/${VERSION}/namespaces/${ns.name}/${PLURAL}`, (type, obj) =>
      watched.push(`${type} ${obj.metadata?.name ?? ""}`),
    );
    try {
      const body = { apiVersion: `${GROUP}/${VERSION}`, kind: "Widget", metadata: { name: "w1" }, spec: { size: 3 } };
      await ns.custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: PLURAL, body });
      const got = (await ns.custom.getNamespacedCustomObject({
        group: GROUP,
        version: VERSION,
        namespace: ns.name,
        plural: PLURAL,
        name: "w1",
      })) as { spec: { size: number } };
      expect(got.spec.size).toBe(3);
      await eventually(() => Promise.resolve(watched.includes("ADDED w1") ? true : undefined));
    } finally {
      controller.abort();
    }
  });

  it("rejects an invalid custom resource with a message naming the field", async () => {
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind: "Widget", metadata: { name: "bad" }, spec: { size: 99, color: "blue" } };
    const error = await ns.custom
      .createNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: PLURAL, body })
      .then(() => undefined, (e: unknown) => e);
    expect(apiStatus(error)).toBe(422);
    const message = error instanceof k8s.ApiException ? String(error.body) : "";
    expect(message).toContain("spec.size");
    expect(message).toContain("spec.color");
  });

  it("stores a Secret and garbage-collects it when its owner goes", async () => {
    const owner = (await ns.custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns.name,
      plural: PLURAL,
      body: { apiVersion: `${GROUP}/${VERSION}`, kind: "Widget", metadata: { name: "owner" }, spec: { size: 1 } },
    })) as { metadata: { uid: string } };
    const ownerReferences = [{ apiVersion: `${GROUP}/${VERSION}`, kind: "Widget", name: "owner", uid: owner.metadata.uid }];
    await ns.core.createNamespacedSecret({
      namespace: ns.name,
      body: { metadata: { name: "owned", ownerReferences }, stringData: { value: "x" } },
    });
    const secret = await ns.core.readNamespacedSecret({ namespace: ns.name, name: "owned" });
    expect(Buffer.from(secret.data?.value ?? "", "base64").toString()).toBe("x");
    await ns.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: PLURAL, name: "owner" });
    // The garbage collector notices a new CRD at its next discovery sync (every 30 s), so the
    // first collection of a just-created kind can take that long.
    const status = await eventually(
      () =>
        ns.core.readNamespacedSecret({ namespace: ns.name, name: "owned" }).then(
          () => undefined,
          (e: unknown) => apiStatus(e),
        ),
      90_000,
    );
    expect(status).toBe(404);
  });

  it("authorizes with RBAC: the unprivileged identity may not read Secrets", async () => {
    const core = kubeConfig(controlPlane().unprivilegedKubeconfigPath).makeApiClient(k8s.CoreV1Api);
    const error = await core.listNamespacedSecret({ namespace: ns.name }).then(() => undefined, (e: unknown) => e);
    expect(apiStatus(error)).toBe(403);
  });

  it("terminates a namespace for real", async () => {
    const name = `${ns.name}-gone`;
    await ns.core.createNamespace({ body: { metadata: { name } } });
    await ns.core.createNamespacedConfigMap({ namespace: name, body: { metadata: { name: "c" }, data: { a: "b" } } });
    await ns.core.deleteNamespace({ name });
    const status = await eventually(() =>
      ns.core.readNamespace({ name }).then(
        () => undefined,
        (e: unknown) => apiStatus(e),
      ),
      60_000,
    );
    expect(status).toBe(404);
  });
});

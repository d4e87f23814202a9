import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as k8s from "@kubernetes/client-node";
import { stringify } from "yaml";
import type { AccessKey } from "../../src/api/accesskey.js";
import { kubectl, type TestNamespace } from "./cluster.js";
import { waitFor } from "./wait.js";

export const GROUP = "iam.keygate.dev";
export const VERSION = "v1alpha1";
export const PLURAL = "accesskeys";

export function manifest(name: string, spec: Record<string, unknown>): Record<string, unknown> {
  return { apiVersion: `${GROUP}/${VERSION}`, kind: "AccessKey", metadata: { name }, spec };
}

/** kubectl apply from stdin, as a user or a GitOps tool would; resolves to kubectl's output. */
export async function apply(ns: TestNamespace, docs: Array<Record<string, unknown>>, extra: string[] = []): Promise<string> {
  const file = join(await mkdtemp(join(tmpdir(), "ak-")), "manifest.yaml");
  await writeFile(file, docs.map((doc) => stringify(doc)).join("---\n"));
  const { stdout } = await kubectl(["apply", "-n", ns.name, "-f", file, ...extra]);
  return stdout;
}

export async function getKey(ns: TestNamespace, name: string): Promise<AccessKey | undefined> {
  try {
    return (await ns.custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, namespace: ns.name, plural: PLURAL, name })) as AccessKey;
  } catch (error) {
    if (error instanceof k8s.ApiException && error.code === 404) return undefined;
    throw error;
  }
}

export function readyReason(key: AccessKey | undefined): string | undefined {
  return key?.status?.conditions?.find((condition) => condition.type === "Ready")?.reason;
}

export function waitForReason(ns: TestNamespace, name: string, reason: string, timeoutMs = 30_000): Promise<AccessKey> {
  return waitFor(
    `AccessKey ${name} to report ${reason}`,
    async () => {
      const key = await getKey(ns, name);
      return readyReason(key) === reason ? key : undefined;
    },
    timeoutMs,
  );
}

export async function readSecretData(ns: TestNamespace, name: string): Promise<Record<string, string> | undefined> {
  try {
    const secret = await ns.core.readNamespacedSecret({ namespace: ns.name, name });
    return Object.fromEntries(Object.entries(secret.data ?? {}).map(([k, v]) => [k, Buffer.from(v, "base64").toString("utf8")]));
  } catch (error) {
    if (error instanceof k8s.ApiException && error.code === 404) return undefined;
    throw error;
  }
}

export async function setState(ns: TestNamespace, name: string, state: "Active" | "Inactive"): Promise<void> {
  await kubectl(["patch", "accesskey", name, "-n", ns.name, "--type=merge", "-p", JSON.stringify({ spec: { state } })]);
}

export async function eventReasons(ns: TestNamespace, name: string): Promise<string[]> {
  const events = await ns.kc.makeApiClient(k8s.EventsV1Api).listNamespacedEvent({ namespace: ns.name });
  return events.items.filter((event) => event.regarding?.name === name).map((event) => event.reason ?? "");
}

import { type ChildProcess, spawn } from "node:child_process";
import * as k8s from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import { loadOrCreateKek } from "../../src/keystore/kek.js";
import { generateAccessKeyId, generateSecretAccessKey } from "../../src/credentials/generate.js";
import { ACCESS_KEY_RECORD, type KeyRecord, openSecret, RECORD_KIND_LABEL, RECORD_OWNER_LABEL, recordToSecret, sealSecret, secretToRecord } from "../../src/keystore/record.js";
import { FINALIZER } from "../../src/labels.js";
import { LEASE_NAME } from "../../src/operator/operator.js";
import { apply, getKey, manifest, readSecretData, waitForReason } from "../support/accesskeys.js";
import { controlPlane, kubeConfig, useNamespace } from "../support/cluster.js";
import { createOperatorNamespace, startTestOperator } from "../support/operator.js";
import { removeWebhookRegistrations } from "../support/webhooks.js";
import { waitFor } from "../support/wait.js";

function operatorProcess(namespace: string, env: NodeJS.ProcessEnv = {}): { child: ChildProcess; output: () => string } {
  const args = [
    "--import", "tsx", "src/cli/main.ts", "operator",
    "--kubeconfig", controlPlane().kubeconfigPath,
    "--namespace", namespace,
    "--webhook-host", "127.0.0.1", "--webhook-port", "0", "--webhook-public-host", "127.0.0.1",
    "--metrics-host", "127.0.0.1", "--metrics-port", "0",
    "--no-leader-election",
  ];
  const child = spawn(process.execPath, args, { env: { ...process.env, ...env }, stdio: "pipe" });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on("data", (chunk: Buffer) => (output += chunk.toString()));
  return { child, output: () => output };
}

function exited(child: ChildProcess): Promise<NodeJS.Signals | number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.signalCode ?? child.exitCode);
  return new Promise((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
}

async function recordsOf(core: k8s.CoreV1Api, operatorNamespace: string, uid: string): Promise<k8s.V1Secret[]> {
  const list = await core.listNamespacedSecret({
    namespace: operatorNamespace,
    labelSelector: `${RECORD_KIND_LABEL}=${ACCESS_KEY_RECORD},${RECORD_OWNER_LABEL}=${uid}`,
  });
  return list.items;
}

describe("AccessKey issuance under crashes and replicas", () => {
  const ns = useNamespace("akha");
  const core = kubeConfig().makeApiClient(k8s.CoreV1Api);

  afterAll(async () => {
    await removeWebhookRegistrations();
  });

  it("issues exactly one secret, equal to the keystore's, after a crash between record and Secret", async () => {
    const operatorNamespace = await createOperatorNamespace();
    const crashing = operatorProcess(operatorNamespace, { KEYGATE_FAULT: "after-record-write", KEYGATE_FAULT_NAMESPACE: ns.name });
    await waitFor(
      "the crashing operator to register its webhook",
      () => Promise.resolve(crashing.output().includes("leading") ? true : undefined),
      60_000,
    ).catch((error: unknown) => {
      throw new Error(`operator output:\n${crashing.output()}`, { cause: error });
    });
    // The API server picks up a re-registered webhook a moment later; until then it may still dial
    // the previous test's operator. A server-side dry run goes through the webhook without writing.
    const crash = manifest("crash", { user: "crash-user" });
    await waitFor("the API server to reach the new webhook", () =>
      apply(ns, [crash], ["--dry-run=server"]).then(
        () => true,
        () => undefined,
      ),
    );
    await apply(ns, [crash]);
    expect(await exited(crashing.child)).toBe("SIGKILL");
    const uid = (await getKey(ns, "crash"))?.metadata.uid ?? "";
    expect(await recordsOf(core, operatorNamespace, uid)).toHaveLength(1);
    expect(await readSecretData(ns, "crash-credentials")).toBeUndefined();

    const healthy = operatorProcess(operatorNamespace);
    try {
      await waitForReason(ns, "crash", "Issued", 60_000);
      const records = await recordsOf(core, operatorNamespace, uid);
      expect(records).toHaveLength(1);
      const record = secretToRecord(records[0] ?? {});
      const keks = await loadOrCreateKek(core, operatorNamespace);
      const issued = await readSecretData(ns, "crash-credentials");
      expect(record && issued?.secretAccessKey).toBe(record && openSecret(keks, record));
      expect(issued?.accessKeyId).toBe(record?.accessKeyId);
    } finally {
      healthy.child.kill("SIGTERM");
      expect(await exited(healthy.child)).toBe(0);
    }
  });

  it("adopts a record an operator without slot ledgers wrote before it stopped, issuing that secret and no other", async () => {
    const operatorNamespace = await createOperatorNamespace();
    const keks = await loadOrCreateKek(core, operatorNamespace);
    // What such an operator left: the AccessKey (created with no webhook to answer), its record
    // under an id of its own, no status, no ledger.
    await removeWebhookRegistrations();
    const created = (await ns.custom.createNamespacedCustomObject({
      group: "iam.keygate.dev",
      version: "v1alpha1",
      namespace: ns.name,
      plural: "accesskeys",
      body: { ...manifest("legacy", { user: "legacy-user" }), metadata: { name: "legacy", namespace: ns.name, finalizers: [FINALIZER] } },
    })) as k8s.KubernetesObject;
    const accessKeyId = generateAccessKeyId("long-term");
    const record: KeyRecord = {
      accessKeyId,
      namespace: ns.name,
      user: "legacy-user",
      ownerUid: created.metadata?.uid ?? "",
      state: "Active",
      createdAt: new Date().toISOString(),
      sealed: sealSecret(keks, ns.name, accessKeyId, generateSecretAccessKey()),
    };
    await core.createNamespacedSecret({ namespace: operatorNamespace, body: recordToSecret(record, operatorNamespace) });

    const op = await startTestOperator({ namespace: operatorNamespace });
    try {
      const key = await waitForReason(ns, "legacy", "Issued", 60_000);
      expect(key.status?.accessKeyId).toBe(accessKeyId);
      expect(await recordsOf(core, operatorNamespace, created.metadata?.uid ?? "")).toHaveLength(1);
      const issued = await readSecretData(ns, "legacy-credentials");
      expect([issued?.accessKeyId, issued?.secretAccessKey]).toEqual([accessKeyId, openSecret(keks, record)]);
    } finally {
      await op.operator.stop();
    }
  });

  it("runs two replicas with one leader and never issues twice", async () => {
    const operatorNamespace = await createOperatorNamespace();
    const first = await startTestOperator({ namespace: operatorNamespace, identity: "replica-a", leaderElection: true });
    const second = await startTestOperator({ namespace: operatorNamespace, identity: "replica-b", leaderElection: true });
    try {
      const lease = await waitFor("a leader", async () => {
        const found = await kubeConfig()
          .makeApiClient(k8s.CoordinationV1Api)
          .readNamespacedLease({ namespace: operatorNamespace, name: LEASE_NAME });
        return found.spec?.holderIdentity ? found : undefined;
      });
      expect(["replica-a", "replica-b"]).toContain(lease.spec?.holderIdentity);
      const names = ["ha-1", "ha-2", "ha-3", "ha-4"];
      await apply(ns, names.map((name) => manifest(name, { user: `u-${name}` })));
      for (const name of names) {
        const key = await waitForReason(ns, name, "Issued", 60_000);
        expect(await recordsOf(core, operatorNamespace, key.metadata.uid ?? "")).toHaveLength(1);
      }
      const leaderLogs = [first, second].filter((op) => op.logs.text().includes('"msg":"leading: reconciling"'));
      expect(leaderLogs).toHaveLength(1);
    } finally {
      await second.operator.stop();
      await first.operator.stop();
    }
  });
});

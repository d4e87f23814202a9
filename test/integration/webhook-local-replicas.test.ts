import * as k8s from "@kubernetes/client-node";
import { afterAll, describe, expect, it } from "vitest";
import { WEBHOOK_CONFIGURATION_NAME } from "../../src/webhook/registration.js";
import { apply, manifest, waitForReason } from "../support/accesskeys.js";
import { kubeConfig, useNamespace } from "../support/cluster.js";
import { createOperatorNamespace, startTestOperator, type TestOperator } from "../support/operator.js";
import { waitFor } from "../support/wait.js";

async function registeredPort(): Promise<number> {
  const configuration = await kubeConfig()
    .makeApiClient(k8s.AdmissionregistrationV1Api)
    .readValidatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME });
  return Number(new URL(configuration.webhooks?.[0]?.clientConfig.url ?? "").port);
}

describe("the admission webhook of local replicas", () => {
  const ns = useNamespace("whlr");
  const running: TestOperator[] = [];

  afterAll(async () => {
    for (const op of running) await op.operator.stop();
  });

  it("keeps admitting creates after the replica it was registered for dies", async () => {
    const namespace = await createOperatorNamespace();
    const first = await startTestOperator({ namespace, identity: "replica-a", leaderElection: true });
    running.push(first);
    const last = await startTestOperator({ namespace, identity: "replica-b", leaderElection: true });
    expect(await registeredPort()).toBe(last.operator.webhookPort);

    await last.operator.stop();
    // Until the survivor notices, the API server dials the dead endpoint and refuses the create.
    await waitFor(
      "a create to be admitted again",
      () => apply(ns, [manifest("after-loss", { user: "alice" })]).then(() => true, () => undefined),
      30_000,
    );
    expect(await registeredPort()).toBe(first.operator.webhookPort);
    await waitForReason(ns, "after-loss", "Issued", 60_000);
  });
});

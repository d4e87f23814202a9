import * as k8s from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { apply, getKey, manifest, readSecretData, waitForReason } from "../support/accesskeys.js";
import { kubectl, useNamespace } from "../support/cluster.js";
import { startTestOperator, type TestOperator } from "../support/operator.js";
import { waitFor } from "../support/wait.js";

const MANAGED_BY = "app.kubernetes.io/managed-by";

// A real refusal of the Secret write by the API server itself: a ValidatingAdmissionPolicy
// bound to this test's namespace. Its message quotes the secret it refuses, as a careless
// policy might, so that the test also shows the message keygate passes on is redacted.
function denyIssuedSecrets(policy: string, namespace: string): Array<Record<string, unknown>> {
  return [
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicy",
      metadata: { name: policy },
      spec: {
        failurePolicy: "Fail",
        matchConstraints: { resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], operations: ["CREATE"], resources: ["secrets"] }] },
        validations: [
          {
            expression: `!has(object.metadata.labels) || !('${MANAGED_BY}' in object.metadata.labels)`,
            message: "credential Secrets are frozen here",
            reason: "Forbidden",
            messageExpression: "'credential Secrets are frozen here; refused: ' + (has(object.data) && 'secretAccessKey' in object.data ? string(object.data['secretAccessKey']) : 'none')",
          },
        ],
      },
    },
    {
      apiVersion: "admissionregistration.k8s.io/v1",
      kind: "ValidatingAdmissionPolicyBinding",
      metadata: { name: policy },
      spec: {
        policyName: policy,
        validationActions: ["Deny"],
        matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } },
      },
    },
  ];
}

async function metricValue(op: TestOperator, name: string, labels: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${op.operator.metricsPort ?? 0}/metrics`)).text();
  const line = text.split("\n").find((candidate) => candidate.startsWith(`${name}{`) && labels.split(",").every((label) => candidate.includes(label)));
  return Number(line?.split(" ").pop() ?? Number.NaN);
}

describe("a reconcile that fails is visible to the user, and heals", () => {
  const ns = useNamespace("fail");
  const policy = `${ns.name}-freeze`;
  let op: TestOperator;

  beforeAll(async () => {
    op = await startTestOperator();
    await apply(ns, denyIssuedSecrets(policy, ns.name));
    // The API server compiles a new policy asynchronously: wait until it really refuses.
    await waitFor("the policy to refuse labelled Secrets", async () => {
      const body = { metadata: { name: "probe", labels: { [MANAGED_BY]: "keygate" } }, stringData: { secretAccessKey: "probe" } };
      try {
        await ns.core.createNamespacedSecret({ namespace: ns.name, body });
        await ns.core.deleteNamespacedSecret({ namespace: ns.name, name: "probe" });
        return undefined;
      } catch (error) {
        return error instanceof k8s.ApiException && String(error.body).includes("frozen") ? true : undefined;
      }
    });
  });

  afterAll(async () => {
    await kubectl(["delete", "--ignore-not-found", "validatingadmissionpolicybinding,validatingadmissionpolicy", policy]);
    await op.operator.stop();
  });

  let failedMessage = "";

  async function warnings(): Promise<k8s.EventsV1Event[]> {
    const events = await ns.kc.makeApiClient(k8s.EventsV1Api).listNamespacedEvent({ namespace: ns.name });
    return events.items.filter((event) => event.regarding?.name === "frozen" && event.reason === "ReconcileFailed");
  }

  it("sets Ready=False with the failed step and the API server's reason, the secret cut out", async () => {
    await apply(ns, [manifest("frozen", { user: "alice" })]);
    const failed = await waitForReason(ns, "frozen", "ReconcileFailed");
    const condition = failed.status?.conditions?.find((c) => c.type === "Ready");
    expect(condition?.status).toBe("False");
    failedMessage = condition?.message ?? "";
    expect(failedMessage).toMatch(/^writeSecret failed: Secret frozen-credentials could not be written: .*credential Secrets are frozen here; refused: \[redacted\]/);
  });

  it("retries with backoff, counting each failure, with one Warning for the user", async () => {
    const errors = (): Promise<number> => metricValue(op, "controller_runtime_reconcile_errors_total", 'controller="accesskey"');
    await waitFor("three failed reconciles", async () => ((await errors()) >= 3 ? true : undefined));
    const found = await warnings();
    expect(found.map((event) => [event.type, event.note])).toEqual([["Warning", failedMessage]]);
    expect(await metricValue(op, "controller_runtime_reconcile_total", 'controller="accesskey",result="error"')).toBeGreaterThanOrEqual(3);
  });

  it("restores Ready=True once the refusal is lifted, and the refused secret appears nowhere", async () => {
    await kubectl(["delete", "validatingadmissionpolicybinding", policy]);
    const healed = await waitForReason(ns, "frozen", "Issued", 120_000);
    expect(healed.status?.conditions?.find((c) => c.type === "Ready")?.status).toBe("True");
    expect(healed.status?.observedGeneration).toBe(healed.metadata?.generation);
    // The refused secret is the one finally issued (invariant 1).
    const secret = (await readSecretData(ns, "frozen-credentials"))?.secretAccessKey ?? "";
    expect(secret).toMatch(/^[A-Za-z0-9_-]{40}$/);
    const notes = (await warnings()).map((event) => event.note ?? "").join("\n");
    for (const text of [notes, failedMessage, JSON.stringify(await getKey(ns, "frozen")), op.logs.text()]) {
      expect(text).not.toContain(secret);
      expect(text).not.toContain(Buffer.from(secret).toString("base64"));
    }
  });
});

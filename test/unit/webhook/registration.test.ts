import { describe, expect, it } from "vitest";
import { DEACTIVATION } from "../../../src/kinds/accesskey/admission.js";
import { mutatingWebhookConfiguration, webhookConfiguration } from "../../../src/webhook/registration.js";

const endpoint = { url: "https://127.0.0.1:9443" };
const accessKeys = { plural: "accesskeys", operations: ["CREATE", "UPDATE", "DELETE"] as const, mutating: true, failOpen: DEACTIVATION };
const sessions = { plural: "temporarycredentials", operations: ["CREATE", "DELETE"] as const, mutating: false };

describe("webhook registration", () => {
  it("gives deactivations a twin that fails open, and keeps everything else failing closed", () => {
    const webhooks = webhookConfiguration(endpoint, "ca", [accessKeys]).webhooks ?? [];
    expect(webhooks.map((webhook) => [webhook.name, webhook.failurePolicy])).toEqual([
      ["accesskeys.iam.keygate.dev", "Fail"],
      ["deactivation.accesskeys.iam.keygate.dev", "Ignore"],
    ]);
    const [closed, open] = webhooks;
    expect(closed?.matchConditions?.map((condition) => condition.expression)).toEqual([
      expect.stringContaining("request.operation != 'DELETE'"),
      `!(${DEACTIVATION.expression})`,
    ]);
    expect(open?.matchConditions?.map((condition) => condition.expression)).toEqual([expect.stringContaining("'DELETE'"), DEACTIVATION.expression]);
    expect(new Set(webhooks.map((webhook) => webhook.clientConfig.url))).toEqual(new Set(["https://127.0.0.1:9443/validate/accesskeys"]));
  });

  it("registers the mutating webhook for kinds that mutate only, on CREATE and UPDATE", () => {
    const webhooks = mutatingWebhookConfiguration(endpoint, "ca", [accessKeys, sessions]).webhooks ?? [];
    expect(webhooks.map((webhook) => [webhook.name, webhook.failurePolicy, webhook.rules?.[0]?.operations])).toEqual([
      ["accesskeys.iam.keygate.dev", "Fail", ["CREATE", "UPDATE"]],
      ["deactivation.accesskeys.iam.keygate.dev", "Ignore", ["CREATE", "UPDATE"]],
    ]);
    expect(webhooks.every((webhook) => webhook.reinvocationPolicy === "Never" && webhook.sideEffects === "NoneOnDryRun")).toBe(true);
  });
});

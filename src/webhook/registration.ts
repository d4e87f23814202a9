import * as k8s from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/group.js";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../labels.js";
import { CLUSTER_DELETERS } from "../runtime/admission.js";
import { ACCESS_KEY_WEBHOOK_PATH, MFA_DEVICE_WEBHOOK_PATH } from "./server.js";

export const WEBHOOK_CONFIGURATION_NAME = "keygate-accesskeys";

/** Where the API server reaches the webhook: a URL (local runs) or an in-cluster Service. */
export type WebhookEndpoint = { url: string } | { service: { namespace: string; name: string; port: number } };

function clientConfig(endpoint: WebhookEndpoint, caPem: string, path: string): k8s.AdmissionregistrationV1WebhookClientConfig {
  const caBundle = Buffer.from(caPem).toString("base64");
  if ("url" in endpoint) return { url: `${endpoint.url}${path}`, caBundle };
  return { service: { ...endpoint.service, path }, caBundle };
}

function common(): Pick<k8s.V1ValidatingWebhook, "failurePolicy" | "sideEffects" | "admissionReviewVersions" | "timeoutSeconds"> {
  return { failurePolicy: "Fail", sideEffects: "None", admissionReviewVersions: ["v1"], timeoutSeconds: 5 };
}

function rule(resource: string, operations: string[]): k8s.V1RuleWithOperations {
  return { apiGroups: [GROUP], apiVersions: [VERSION], operations, resources: [resource], scope: "Namespaced" };
}

const deleters = CLUSTER_DELETERS.map((user) => `'${user}'`).join(", ");

/**
 * Only AccessKey CREATE and DELETE and MfaDevice CREATE reach us, with a short timeout. The namespace controller's and
 * garbage collector's deletes never reach us at all (matchConditions), so an outage of the
 * operator can never leave a namespace stuck in Terminating on this webhook.
 */
export function webhookConfiguration(endpoint: WebhookEndpoint, caPem: string): k8s.V1ValidatingWebhookConfiguration {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: WEBHOOK_CONFIGURATION_NAME, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    webhooks: [
      {
        name: `accesskeys.${GROUP}`,
        clientConfig: clientConfig(endpoint, caPem, ACCESS_KEY_WEBHOOK_PATH),
        rules: [rule("accesskeys", ["CREATE", "DELETE"])],
        matchConditions: [
          {
            name: "not-a-cluster-deleter",
            expression: `request.operation != 'DELETE' || !(request.userInfo.username in [${deleters}])`,
          },
        ],
        ...common(),
      },
      {
        name: `mfadevices.${GROUP}`,
        clientConfig: clientConfig(endpoint, caPem, MFA_DEVICE_WEBHOOK_PATH),
        rules: [rule("mfadevices", ["CREATE"])],
        ...common(),
      },
    ],
  };
}

/** Creates or updates the configuration, CA bundle included; an unchanged one is left alone. */
export async function registerWebhook(api: k8s.AdmissionregistrationV1Api, desired: k8s.V1ValidatingWebhookConfiguration): Promise<void> {
  const name = WEBHOOK_CONFIGURATION_NAME;
  try {
    const current = await api.readValidatingWebhookConfiguration({ name });
    const body = { ...desired, metadata: { ...desired.metadata, resourceVersion: current.metadata?.resourceVersion } };
    await api.replaceValidatingWebhookConfiguration({ name, body });
  } catch (error) {
    if (!(error instanceof k8s.ApiException && error.code === 404)) throw error;
    await api.createValidatingWebhookConfiguration({ body: desired });
  }
}

import type * as k8s from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/group.js";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../labels.js";
import { type AdmissionOperation, CLUSTER_DELETERS } from "../runtime/admission.js";
import { isApiStatus } from "../runtime/errors.js";
import { asJson } from "../json.js";

export const WEBHOOK_CONFIGURATION_NAME = "keygate-accesskeys";

/** Where the API server reaches the webhook: a URL (local runs) or an in-cluster Service. */
export type WebhookEndpoint = { url: string } | { service: { namespace: string; name: string; port: number } };

/** One kind's admission: which of its operations reach us. */
export interface AdmittedResource {
  plural: string;
  operations: readonly AdmissionOperation[];
}

/** The URL path that serves a kind's admission reviews. */
export function admissionPath(plural: string): string {
  return `/validate/${plural}`;
}

function clientConfig(endpoint: WebhookEndpoint, caPem: string, path: string): k8s.AdmissionregistrationV1WebhookClientConfig {
  const caBundle = Buffer.from(caPem).toString("base64");
  if ("url" in endpoint) return { url: `${endpoint.url}${path}`, caBundle };
  return { service: { ...endpoint.service, path }, caBundle };
}

const deleters = CLUSTER_DELETERS.map((user) => `'${user}'`).join(", ");

// The namespace controller's and garbage collector's deletes never reach us at all, so an
// outage of the operator can never leave a namespace stuck in Terminating on this webhook.
const NOT_A_CLUSTER_DELETER: k8s.V1MatchCondition = {
  name: "not-a-cluster-deleter",
  expression: `request.operation != 'DELETE' || !(request.userInfo.username in [${deleters}])`,
};

function webhookFor(resource: AdmittedResource, endpoint: WebhookEndpoint, caPem: string): k8s.V1ValidatingWebhook {
  return {
    name: `${resource.plural}.${GROUP}`,
    clientConfig: clientConfig(endpoint, caPem, admissionPath(resource.plural)),
    rules: [{ apiGroups: [GROUP], apiVersions: [VERSION], operations: [...resource.operations], resources: [resource.plural], scope: "Namespaced" }],
    matchConditions: resource.operations.includes("DELETE") ? [NOT_A_CLUSTER_DELETER] : undefined,
    failurePolicy: "Fail",
    sideEffects: "None",
    admissionReviewVersions: ["v1"],
    timeoutSeconds: 5,
  };
}

/**
 * One webhook per admitted kind, matching only the operations its rules read, with a short
 * timeout: nothing else in the cluster waits on keygate.
 */
export function webhookConfiguration(
  endpoint: WebhookEndpoint,
  caPem: string,
  resources: readonly AdmittedResource[],
): k8s.V1ValidatingWebhookConfiguration {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "ValidatingWebhookConfiguration",
    metadata: { name: WEBHOOK_CONFIGURATION_NAME, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    webhooks: resources.map((resource) => asJson(webhookFor(resource, endpoint, caPem))),
  };
}

/** Creates or updates the configuration, CA bundle included. */
export async function registerWebhook(api: k8s.AdmissionregistrationV1Api, desired: k8s.V1ValidatingWebhookConfiguration): Promise<void> {
  const name = WEBHOOK_CONFIGURATION_NAME;
  try {
    const current = await api.readValidatingWebhookConfiguration({ name });
    const body = { ...desired, metadata: { ...desired.metadata, resourceVersion: current.metadata?.resourceVersion } };
    await api.replaceValidatingWebhookConfiguration({ name, body });
  } catch (error) {
    if (!isApiStatus(error, 404)) throw error;
    await api.createValidatingWebhookConfiguration({ body: desired });
  }
}

import type * as k8s from "@kubernetes/client-node";
import { GROUP, VERSION } from "../api/group.js";
import { MANAGED_BY, MANAGED_BY_LABEL } from "../labels.js";
import { type AdmissionOperation, CLUSTER_DELETERS, type FailOpen } from "../runtime/admission.js";
import { isApiStatus } from "../runtime/errors.js";
import { asJson } from "../json.js";

export const WEBHOOK_CONFIGURATION_NAME = "keygate-accesskeys";
export const MUTATING_WEBHOOK_CONFIGURATION_NAME = "keygate-identity";

/** Where the API server reaches the webhook: a URL (local runs) or an in-cluster Service. */
export type WebhookEndpoint = { url: string } | { service: { namespace: string; name: string; port: number } };

/** One kind's admission: which of its operations reach us. */
export interface AdmittedResource {
  plural: string;
  operations: readonly AdmissionOperation[];
  /** Whether the kind also has a mutating webhook, for CREATE and UPDATE. */
  mutating: boolean;
  /**
   * A CEL condition on the request for changes that must go through even when no replica
   * answers (deactivating a key): they get a second webhook of their own that fails open.
   */
  failOpen?: FailOpen;
}



/** The operations the mutating webhook sees: those that store an object. */
export const MUTATED_OPERATIONS: readonly AdmissionOperation[] = ["CREATE", "UPDATE"];

/** The URL path that serves a kind's admission reviews. */
export function admissionPath(plural: string): string {
  return `/validate/${plural}`;
}

/** The URL path that serves a kind's mutating admission reviews. */
export function mutationPath(plural: string): string {
  return `/mutate/${plural}`;
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

interface WebhookShape {
  name: string;
  matchConditions?: k8s.V1MatchCondition[];
  failurePolicy: "Fail" | "Ignore";
}

/**
 * The webhooks of one kind: one that fails closed, and, when the kind has changes that must go
 * through during an outage, a twin for exactly those that fails open. Both call the same rules;
 * the twin only decides what happens when no replica answers.
 */
function shapes(resource: AdmittedResource, conditions: k8s.V1MatchCondition[]): WebhookShape[] {
  const name = `${resource.plural}.${GROUP}`;
  const open = resource.failOpen;
  const matchConditions = (extra: k8s.V1MatchCondition[]) => {
    const all = [...conditions, ...extra];
    return all.length > 0 ? all : undefined;
  };
  if (!open) return [{ name, matchConditions: matchConditions([]), failurePolicy: "Fail" }];
  return [
    { name, matchConditions: matchConditions([{ name: `not-${open.name}`, expression: `!(${open.expression})` }]), failurePolicy: "Fail" },
    { name: `${open.name}.${name}`, matchConditions: matchConditions([{ name: open.name, expression: open.expression }]), failurePolicy: "Ignore" },
  ];
}

function webhooksFor(resource: AdmittedResource, endpoint: WebhookEndpoint, caPem: string): k8s.V1ValidatingWebhook[] {
  return shapes(resource, resource.operations.includes("DELETE") ? [NOT_A_CLUSTER_DELETER] : []).map((shape) => ({
    ...shape,
    clientConfig: clientConfig(endpoint, caPem, admissionPath(resource.plural)),
    rules: [{ apiGroups: [GROUP], apiVersions: [VERSION], operations: [...resource.operations], resources: [resource.plural], scope: "Namespaced" }],
    // A delete records who asked, in the object's deleted-by annotation, unless it is a dry run.
    sideEffects: "NoneOnDryRun",
    admissionReviewVersions: ["v1"],
    timeoutSeconds: 5,
  }));
}

function mutatingWebhooksFor(resource: AdmittedResource, endpoint: WebhookEndpoint, caPem: string): k8s.V1MutatingWebhook[] {
  return shapes(resource, []).map((shape) => ({
    ...shape,
    clientConfig: clientConfig(endpoint, caPem, mutationPath(resource.plural)),
    rules: [{ apiGroups: [GROUP], apiVersions: [VERSION], operations: [...MUTATED_OPERATIONS], resources: [resource.plural], scope: "Namespaced" }],
    // Operation protection uses up the MFA code it checks, unless it is a dry run.
    sideEffects: "NoneOnDryRun",
    reinvocationPolicy: "Never",
    admissionReviewVersions: ["v1"],
    timeoutSeconds: 5,
  }));
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
    webhooks: resources.flatMap((resource) => webhooksFor(resource, endpoint, caPem).map((webhook) => asJson(webhook))),
  };
}

/**
 * The mutating twin: who created each object, recorded before any validation sees it, and the
 * operation-protection code checked and removed before the object is stored.
 */
export function mutatingWebhookConfiguration(
  endpoint: WebhookEndpoint,
  caPem: string,
  resources: readonly AdmittedResource[],
): k8s.V1MutatingWebhookConfiguration {
  return {
    apiVersion: "admissionregistration.k8s.io/v1",
    kind: "MutatingWebhookConfiguration",
    metadata: { name: MUTATING_WEBHOOK_CONFIGURATION_NAME, labels: { [MANAGED_BY_LABEL]: MANAGED_BY } },
    webhooks: resources
      .filter((resource) => resource.mutating)
      .flatMap((resource) => mutatingWebhooksFor(resource, endpoint, caPem).map((webhook) => asJson(webhook))),
  };
}

/** Creates or updates both configurations, CA bundle included. */
export async function registerWebhook(
  api: k8s.AdmissionregistrationV1Api,
  validating: k8s.V1ValidatingWebhookConfiguration,
  mutating: k8s.V1MutatingWebhookConfiguration,
): Promise<void> {
  // The mutating configuration first: a validating rule may rely on what it records.
  const mutatingName = MUTATING_WEBHOOK_CONFIGURATION_NAME;
  try {
    const current = await api.readMutatingWebhookConfiguration({ name: mutatingName });
    const body = { ...mutating, metadata: { ...mutating.metadata, resourceVersion: current.metadata?.resourceVersion } };
    await api.replaceMutatingWebhookConfiguration({ name: mutatingName, body });
  } catch (error) {
    if (!isApiStatus(error, 404)) throw error;
    await api.createMutatingWebhookConfiguration({ body: mutating });
  }
  const name = WEBHOOK_CONFIGURATION_NAME;
  try {
    const current = await api.readValidatingWebhookConfiguration({ name });
    const body = { ...validating, metadata: { ...validating.metadata, resourceVersion: current.metadata?.resourceVersion } };
    await api.replaceValidatingWebhookConfiguration({ name, body });
  } catch (error) {
    if (!isApiStatus(error, 404)) throw error;
    await api.createValidatingWebhookConfiguration({ body: validating });
  }
}

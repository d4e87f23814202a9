import * as k8s from "@kubernetes/client-node";
import { MUTATING_WEBHOOK_CONFIGURATION_NAME, WEBHOOK_CONFIGURATION_NAME } from "../../src/webhook/registration.js";
import { kubeConfig } from "./cluster.js";

/**
 * Removes keygate's webhook registrations, as an earlier test's stopped operator may have left
 * them: with no replica to answer, the API server would refuse every write of keygate's kinds.
 */
export async function removeWebhookRegistrations(): Promise<void> {
  const api = kubeConfig().makeApiClient(k8s.AdmissionregistrationV1Api);
  await api.deleteValidatingWebhookConfiguration({ name: WEBHOOK_CONFIGURATION_NAME }).catch(() => undefined);
  await api.deleteMutatingWebhookConfiguration({ name: MUTATING_WEBHOOK_CONFIGURATION_NAME }).catch(() => undefined);
}

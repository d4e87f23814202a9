import type * as k8s from "@kubernetes/client-node";
import { ACCESS_KEY_PLURAL } from "../../api/accesskey.js";
import { ACCOUNT_POLICY_NAME, ACCOUNT_POLICY_PLURAL, accountPolicyDefinition } from "../../api/accountpolicy.js";
import { MFA_DEVICE_PLURAL } from "../../api/mfadevice.js";
import { TEMPORARY_CREDENTIAL_PLURAL } from "../../api/temporarycredential.js";
import { KindClient } from "../../runtime/kube.js";
import { ReconcileSkeleton } from "../../runtime/reconcile.js";
import type { ControllerContext, KindCaches, KindModule, KindWatch, ObjectKey } from "../kind.js";
import { AccountPolicyLogic } from "./reconciler.js";

// Only a namespace that has a policy has counts to keep: no read is spent on the others.
function policyOf(_event: string, object: k8s.KubernetesObject, caches: KindCaches): readonly ObjectKey[] {
  const namespace = object.metadata?.namespace ?? "";
  return caches.of(ACCOUNT_POLICY_PLURAL).get(namespace, ACCOUNT_POLICY_NAME) ? [{ namespace, name: ACCOUNT_POLICY_NAME }] : [];
}

const counted: readonly KindWatch[] = [ACCESS_KEY_PLURAL, MFA_DEVICE_PLURAL, TEMPORARY_CREDENTIAL_PLURAL].map((plural) => ({ plural, keysFor: policyOf }));

/** AccountPolicy: the account's settings, read where they apply; its status counts the account's credentials. */
export const accountPolicy: KindModule = {
  definition: accountPolicyDefinition,
  watches: counted,
  controller(context: ControllerContext) {
    const { custom, caches, events, clock, log } = context;
    const client = new KindClient(custom, accountPolicyDefinition.plural);
    const skeleton = new ReconcileSkeleton(new AccountPolicyLogic(caches, clock), { client, events, log, now: clock });
    return { reconcile: (namespace, name) => skeleton.reconcile(namespace, name) };
  },
};

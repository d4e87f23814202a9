import { ACCOUNT_POLICY_PLURAL, type AccountPolicySpec, accountPolicyIn } from "../api/accountpolicy.js";

/** The settings a namespace has when it has no AccountPolicy: the clouds' defaults. */
export const DEFAULT_ACCOUNT_POLICY: AccountPolicySpec = { keyManagement: "SelfService", requireMfa: false, operationProtection: false };

/** Where cached objects of any kind are read. */
export interface KindObjects {
  objectsOf(this: void, plural: string, namespace: string): readonly unknown[];
}

/** The namespace's account settings, from the cache; the defaults when it has no AccountPolicy. */
export function accountSettingsIn(source: KindObjects, namespace: string): AccountPolicySpec {
  const policies = {
    get: (ns: string, name: string) =>
      source.objectsOf(ACCOUNT_POLICY_PLURAL, ns).find((object) => (object as { metadata?: { name?: string } }).metadata?.name === name),
  };
  return accountPolicyIn(policies, namespace)?.spec ?? DEFAULT_ACCOUNT_POLICY;
}

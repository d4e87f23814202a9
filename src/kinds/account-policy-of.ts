import { ACCOUNT_POLICY_NAME, ACCOUNT_POLICY_PLURAL, type AccountPolicySpec, parseAccountPolicy } from "../api/accountpolicy.js";

/** The settings a namespace has when it has no AccountPolicy: the clouds' defaults. */
export const DEFAULT_ACCOUNT_POLICY: AccountPolicySpec = { keyManagement: "SelfService", requireMfa: false, operationProtection: false };

/** Where cached objects of any kind are read. */
export interface KindObjects {
  objectsOf(this: void, plural: string, namespace: string): readonly unknown[];
}

/** The namespace's AccountPolicy spec from the cache; the defaults when it has none. */
export function accountPolicyIn(source: KindObjects, namespace: string): AccountPolicySpec {
  for (const object of source.objectsOf(ACCOUNT_POLICY_PLURAL, namespace)) {
    const parsed = parseAccountPolicy(object);
    if (parsed.ok && parsed.value.metadata.name === ACCOUNT_POLICY_NAME) return parsed.value.spec;
  }
  return DEFAULT_ACCOUNT_POLICY;
}

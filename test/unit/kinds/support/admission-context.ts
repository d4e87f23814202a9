import type { AdmissionContext, KeygateAccess, MfaCodeCheck } from "../../../../src/runtime/admission.js";
import { keygateUserOf } from "../../../../src/runtime/user-mapping.js";

export const OPERATOR = "system:serviceaccount:keygate-system:keygate-operator";

export interface FakeAdmission {
  /** Objects by plural. */
  objects?: Record<string, readonly { metadata: { namespace?: string } }[]>;
  terminating?: boolean;
  /** "username verb resource/name" strings RBAC grants. */
  grants?: readonly string[];
  /** The code that is valid for every user, when any. */
  validCode?: string;
  now?: Date;
}

/** An admission context over plain data, recording what the rules asked and wrote. */
export function fakeContext(fake: FakeAdmission = {}): AdmissionContext & { asked: KeygateAccess[]; deleters: string[]; consumed: string[] } {
  const asked: KeygateAccess[] = [];
  const deleters: string[] = [];
  const consumed: string[] = [];
  const inNamespace = (plural: string, namespace: string) => (fake.objects?.[plural] ?? []).filter((o) => o.metadata.namespace === namespace);
  return {
    asked,
    deleters,
    consumed,
    objectsIn: (namespace) => inNamespace("accesskeys", namespace).concat(inNamespace("mfadevices", namespace)),
    objectsOf: inNamespace,
    operatorUsername: OPERATOR,
    namespaceTerminating: () => Promise.resolve(fake.terminating ?? false),
    userOf: (username, namespace) => keygateUserOf(username, namespace, { stripPrefixes: ["oidc:"] }),
    allowed: (userInfo, access) => {
      asked.push(access);
      const grant = `${userInfo.username ?? ""} ${access.verb} ${access.resource}${access.name ? `/${access.name}` : ""}`;
      return Promise.resolve((fake.grants ?? []).includes(grant));
    },
    checkMfaCode: (_namespace, user, code): Promise<MfaCodeCheck> => {
      consumed.push(`${user} ${code}`);
      return Promise.resolve(code === fake.validCode ? { valid: true } : { valid: false, reason: "InvalidCode" });
    },
    recordDeleter: (_plural, _namespace, name, username) => {
      deleters.push(`${name} ${username}`);
      return Promise.resolve();
    },
    now: () => fake.now ?? new Date("2026-11-29T00:00:00Z"),
  };
}

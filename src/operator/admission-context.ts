import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { GROUP, VERSION } from "../api/group.js";
import type { KekSet } from "../keystore/kek.js";
import { MfaRecordStore } from "../keystore/mfa-store.js";
import type { KindCaches } from "../kinds/kind.js";
import { DELETED_BY_ANNOTATION } from "../labels.js";
import { MfaChecker } from "../otp/checker.js";
import type { AdmissionContext, AdmissionUserInfo, KeygateAccess, MfaCodeCheck } from "../runtime/admission.js";
import { type UserMapping, keygateUserOf } from "../runtime/user-mapping.js";
import type { ObjectCache } from "../runtime/informer.js";
import { namespaceTerminating } from "../runtime/kube.js";

const MERGE_PATCH = k8s.setHeaderOptions("Content-Type", k8s.PatchStrategy.MergePatch);

/** What every kind's admission context shares: the API clients, the caches and the operator's settings. */
export interface AdmissionDeps {
  kc: k8s.KubeConfig;
  caches: KindCaches;
  operatorNamespace: string;
  operatorUsername: string;
  userMapping: UserMapping;
  keks: KekSet;
  now: () => Date;
  log: Logger;
}

function subjectAccessReview(userInfo: AdmissionUserInfo, access: KeygateAccess): k8s.V1SubjectAccessReview {
  return {
    apiVersion: "authorization.k8s.io/v1",
    kind: "SubjectAccessReview",
    spec: {
      user: userInfo.username,
      uid: userInfo.uid,
      groups: userInfo.groups,
      extra: userInfo.extra,
      resourceAttributes: { group: GROUP, version: VERSION, ...access },
    },
  };
}

async function checkCode(checker: MfaChecker, namespace: string, user: string, code: string): Promise<MfaCodeCheck> {
  const answer = await checker.verify(namespace, user, code);
  return answer.valid ? answer : { valid: false, reason: answer.code };
}

/** The admission context of one kind: its own cache, and what every kind shares. */
export function admissionContext(deps: AdmissionDeps, cache: ObjectCache): AdmissionContext {
  const core = deps.kc.makeApiClient(k8s.CoreV1Api);
  const authorization = deps.kc.makeApiClient(k8s.AuthorizationV1Api);
  const custom = deps.kc.makeApiClient(k8s.CustomObjectsApi);
  const checker = new MfaChecker({ records: new MfaRecordStore(core, deps.operatorNamespace), keks: () => deps.keks, now: deps.now, log: deps.log });
  return {
    objectsIn: (namespace) => cache.list(namespace),
    objectsOf: (plural, namespace) => deps.caches.of(plural).list(namespace),
    operatorUsername: deps.operatorUsername,
    now: deps.now,
    namespaceTerminating: (namespace) => namespaceTerminating(core, namespace),
    userOf: (username, namespace) => keygateUserOf(username, namespace, deps.userMapping),
    allowed: async (userInfo, access) => {
      const review = await authorization.createSubjectAccessReview({ body: subjectAccessReview(userInfo, access) });
      return review.status?.allowed === true;
    },
    checkMfaCode: (namespace, user, code) => checkCode(checker, namespace, user, code),
    recordDeleter: async (plural, namespace, name, username) => {
      const body = { metadata: { annotations: { [DELETED_BY_ANNOTATION]: username } } };
      await custom.patchNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural, name, body }, MERGE_PATCH);
    },
  };
}

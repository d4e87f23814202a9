import { isDeepStrictEqual } from "node:util";
import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { API_VERSION, GROUP, VERSION } from "../../api/group.js";
import {
  parseTemporaryCredential,
  TEMPORARY_CREDENTIAL_KIND,
  type TemporaryCredential,
  type TemporaryCredentialStatus,
} from "../../api/temporarycredential.js";
import type { EventSink } from "../accesskey/reconciler.js";
import { generateAccessKeyId, generateSecretAccessKey } from "../../credentials/generate.js";
import type { KekSet } from "../../keystore/kek.js";
import type { MfaChecker } from "../../otp/checker.js";
import { controllerReference, createOwnedSecret, isApiStatus, KindClient, observeSecret } from "../../runtime/kube.js";
import { setCondition } from "../../runtime/conditions.js";
import type { ReconcileResult } from "../../runtime/queue.js";
import { decideTemporary, type IssuedFacts, sessionSecretName, type TemporaryObservation, type TemporaryOutcome } from "./decide.js";
import { buildSessionSecret } from "./issued-secret.js";
import { sealSessionToken } from "../../keystore/session-token.js";

export const TEMPORARY_CREDENTIAL_PLURAL = "temporarycredentials";
const ISSUED_AT = "iam.keygate.dev/issued-at";
const MFA_AUTHENTICATED = "iam.keygate.dev/mfa-authenticated";
const MAX_STEPS = 6;

export interface TemporaryReconcilerDeps {
  core: k8s.CoreV1Api;
  custom: k8s.CustomObjectsApi;
  keks: KekSet;
  mfa: Pick<MfaChecker, "verify">;
  events: EventSink;
  clock: () => Date;
  /** The operator's ceiling on durationSeconds (never above 129600). */
  maxSessionSeconds: number;
  retentionMs: number;
  log: Logger;
}

function factsOf(secret: k8s.V1Secret): IssuedFacts | undefined {
  const data = secret.data ?? {};
  const read = (key: string): string => Buffer.from(data[key] ?? "", "base64").toString("utf8");
  const annotations = secret.metadata?.annotations ?? {};
  const accessKeyId = read("accessKeyId");
  const expiration = read("expiration");
  if (!accessKeyId || !expiration) return undefined;
  return { accessKeyId, expiration, issuedAt: annotations[ISSUED_AT] ?? expiration, mfaAuthenticated: annotations[MFA_AUTHENTICATED] === "true" };
}

function conditionsOf(credential: TemporaryCredential, outcome: TemporaryOutcome, now: Date): TemporaryCredentialStatus["conditions"] {
  const observedGeneration = credential.metadata.generation ?? 0;
  const condition = (type: string, status: boolean, reason: string, message: string) =>
    ({ type, status: status ? "True" : "False", reason, message, observedGeneration }) as const;
  const ready = condition("Ready", outcome.ready, outcome.reason, outcome.message);
  const conditions = setCondition(credential.status?.conditions ?? [], ready, now);
  if (!outcome.facts) return conditions;
  const expired = outcome.expired
    ? condition("Expired", true, "Expired", "the session has expired")
    : condition("Expired", false, "Valid", "the session is valid");
  return setCondition(conditions, expired, now);
}

function factsStatus(credential: TemporaryCredential, outcome: TemporaryOutcome): Partial<TemporaryCredentialStatus> {
  const facts = outcome.facts;
  if (!facts) return {};
  return {
    accessKeyId: facts.accessKeyId,
    issuedAt: facts.issuedAt,
    expiration: facts.expiration,
    mfaAuthenticated: facts.mfaAuthenticated,
    secretRef: outcome.expired ? undefined : { name: sessionSecretName(credential) },
  };
}

function statusOf(credential: TemporaryCredential, outcome: TemporaryOutcome, now: Date): TemporaryCredentialStatus {
  const status: TemporaryCredentialStatus = {
    ...factsStatus(credential, outcome),
    conditions: conditionsOf(credential, outcome, now),
    observedGeneration: credential.metadata.generation ?? 0,
  };
  return JSON.parse(JSON.stringify(status)) as TemporaryCredentialStatus;
}

/** Issues STS-style sessions once and expires them on time, from a timer at the exact instant. */
export class TemporaryCredentialReconciler {
  private readonly kind: KindClient;

  constructor(private readonly deps: TemporaryReconcilerDeps) {
    this.kind = new KindClient(deps.custom, TEMPORARY_CREDENTIAL_PLURAL);
  }

  async reconcile(namespace: string, name: string): Promise<ReconcileResult | void> {
    for (let steps = 0; steps < MAX_STEPS; steps++) {
      const raw = await this.kind.read(namespace, name);
      const parsed = raw ? parseTemporaryCredential(raw) : undefined;
      if (!raw || !parsed?.ok || parsed.value.metadata.deletionTimestamp) return;
      const done = await this.step(raw, parsed.value);
      if (done) return done;
    }
  }

  /** Applies one step; returns the result when the reconcile is over. */
  private async step(raw: k8s.KubernetesObject, credential: TemporaryCredential): Promise<ReconcileResult | undefined> {
    const step = decideTemporary(await this.gather(credential));
    switch (step.kind) {
      case "none":
        return this.settle(raw, credential, step.outcome);
      case "deleteResource":
        await this.deleteResource(credential);
        return {};
      case "deleteSecret":
        await this.deleteSecret(raw, credential, step.outcome);
        return undefined;
      case "issue":
        return (await this.issue(raw, credential)) ? undefined : {};
    }
  }

  private async gather(credential: TemporaryCredential): Promise<TemporaryObservation> {
    const namespace = credential.metadata.namespace ?? "";
    const uid = credential.metadata.uid ?? "";
    const secretName = sessionSecretName(credential);
    const secret = await observeSecret(this.deps.core, namespace, secretName, uid);
    const secretFacts = secret === "owned" ? factsOf(await this.deps.core.readNamespacedSecret({ namespace, name: secretName })) : undefined;
    return { credential, secret, secretFacts, now: this.deps.clock(), retentionMs: this.deps.retentionMs };
  }

  /** Checks MFA (when asked for), then writes the session's Secret; false when nothing was issued. */
  private async issue(raw: k8s.KubernetesObject, credential: TemporaryCredential): Promise<boolean> {
    const namespace = credential.metadata.namespace ?? "";
    const mfa = credential.spec.mfa;
    if (mfa) {
      const answer = await this.deps.mfa.verify(namespace, credential.spec.user, mfa.code, mfa.deviceName);
      if (!answer.valid) {
        const message = `MFA code for device ${mfa.deviceName} refused (${answer.code}); nothing was issued`;
        await this.settle(raw, credential, { ready: false, reason: "MfaFailed", message, expired: false });
        await this.deps.events.emit(raw, "Warning", "MfaFailed", message);
        return false;
      }
    }
    const now = this.deps.clock();
    const seconds = Math.min(credential.spec.durationSeconds, this.deps.maxSessionSeconds);
    const expiresAt = now.getTime() + seconds * 1000;
    const accessKeyId = generateAccessKeyId("temporary");
    const secretAccessKey = generateSecretAccessKey();
    const claims = {
      accessKeyId,
      namespace,
      user: credential.spec.user,
      issuedAt: now.getTime(),
      expiresAt,
      mfaAuthenticated: mfa !== undefined,
      secretAccessKey,
    };
    const session = {
      accessKeyId,
      secretAccessKey,
      sessionToken: sealSessionToken(this.deps.keks, claims),
      expiration: new Date(expiresAt).toISOString(),
    };
    const secretName = sessionSecretName(credential);
    const owner = controllerReference(API_VERSION, TEMPORARY_CREDENTIAL_KIND, raw);
    const secret = buildSessionSecret({ namespace, secretName, owner }, session);
    const annotations = { [ISSUED_AT]: now.toISOString(), [MFA_AUTHENTICATED]: String(mfa !== undefined) };
    secret.metadata = { ...secret.metadata, annotations };
    if (await createOwnedSecret(this.deps.core, secret)) {
      const message = `session ${accessKeyId} issued into Secret ${secretName}, valid until ${session.expiration}`;
      await this.deps.events.emit(raw, "Normal", "Issued", message);
    }
    return true;
  }

  private async deleteSecret(raw: k8s.KubernetesObject, credential: TemporaryCredential, outcome: TemporaryOutcome): Promise<void> {
    const namespace = credential.metadata.namespace ?? "";
    try {
      await this.deps.core.deleteNamespacedSecret({ namespace, name: sessionSecretName(credential) });
    } catch (error) {
      if (!isApiStatus(error, 404)) throw error;
    }
    await this.deps.events.emit(raw, "Normal", "Expired", outcome.message);
  }

  private async deleteResource(credential: TemporaryCredential): Promise<void> {
    const { namespace = "", name = "" } = credential.metadata;
    try {
      await this.deps.custom.deleteNamespacedCustomObject({ group: GROUP, version: VERSION, namespace, plural: TEMPORARY_CREDENTIAL_PLURAL, name });
      this.deps.log.info({ kind: TEMPORARY_CREDENTIAL_KIND, namespace, name }, "expired session removed after its retention");
    } catch (error) {
      if (!isApiStatus(error, 404)) throw error;
    }
  }

  /** Writes status if it changed, and asks to be woken at the next deadline (not by polling). */
  private async settle(raw: k8s.KubernetesObject, credential: TemporaryCredential, outcome: TemporaryOutcome): Promise<ReconcileResult> {
    const now = this.deps.clock();
    const status = statusOf(credential, outcome, now);
    if (!isDeepStrictEqual(credential.status ?? {}, status)) await this.kind.writeStatus(raw, credential.status, status);
    return outcome.requeueAt === undefined ? {} : { requeueAfterMs: Math.max(0, outcome.requeueAt - now.getTime()) };
  }
}

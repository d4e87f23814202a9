import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { API_VERSION } from "../../api/group.js";
import { issuedSecretName } from "../../api/secret-name.js";
import {
  parseTemporaryCredential,
  TEMPORARY_CREDENTIAL_KIND,
  type TemporaryCredential,
  type TemporaryCredentialStatus,
} from "../../api/temporarycredential.js";
import { generateAccessKeyId, generateSecretAccessKey } from "../../credentials/generate.js";
import { parseJson } from "../../json.js";
import { accountPolicyIn, type ObjectLookup } from "../../api/accountpolicy.js";
import type { KekSet } from "../../keystore/kek.js";
import { openSeed, type MfaRecord } from "../../keystore/mfa-record.js";
import type { MfaRecordStore } from "../../keystore/mfa-store.js";
import { deviceForCode, recordCandidate } from "../../otp/code-device.js";
import { sealSessionToken } from "../../keystore/session-token.js";
import { isApiStatus } from "../../runtime/errors.js";
import type { EventSink } from "../../runtime/events.js";
import { controllerReference, createOwnedSecret, type KindClient, observationOf, readSecret } from "../../runtime/kube.js";
import type { KindLogic } from "../../runtime/reconcile.js";
import { type AssertionChecker, keyNamedBy } from "../../webauthn/checker.js";
import { decideTemporary, type Issuance, type IssuedFacts, type TemporaryObservation, type TemporaryOutcome, type TemporaryStep } from "./decide.js";
import { buildSessionSecret } from "./issued-secret.js";
import { ISSUANCE_ANNOTATION, Reason } from "./reasons.js";
import { desiredStatus, transitionEvents } from "./status.js";

const ISSUED_AT = "iam.keygate.dev/issued-at";
const MFA_AUTHENTICATED = "iam.keygate.dev/mfa-authenticated";

export interface TemporaryReconcilerDeps {
  core: k8s.CoreV1Api;
  client: KindClient;
  keks: KekSet;
  mfaRecords: MfaRecordStore;
  /** Judges a security key's assertion in spec.mfa, without writing. */
  assertions: Pick<AssertionChecker, "judge">;
  /** Shows on its MfaDevice that a key was flagged as cloned by a session's assertion. */
  flagCloned: (record: MfaRecord) => Promise<void>;
  /** The cache of AccountPolicies: requireMfa. */
  policies: ObjectLookup;
  events: EventSink;
  clock: () => Date;
  /** The operator's ceiling on durationSeconds (never above 129600). */
  maxSessionSeconds: number;
  retentionMs: number;
  log: Logger;
}

type Action = Exclude<TemporaryStep, { kind: "none" }>;

function factsOf(secret: k8s.V1Secret): IssuedFacts | undefined {
  const data = secret.data ?? {};
  const read = (key: string): string => Buffer.from(data[key] ?? "", "base64").toString("utf8");
  const annotations = secret.metadata?.annotations ?? {};
  const accessKeyId = read("accessKeyId");
  const expiration = read("expiration");
  if (!accessKeyId || !expiration) return undefined;
  return { accessKeyId, expiration, issuedAt: annotations[ISSUED_AT] ?? expiration, mfaAuthenticated: annotations[MFA_AUTHENTICATED] === "true" };
}

function issuedFrom(value: Partial<IssuedFacts>): Issuance | undefined {
  if (typeof value.accessKeyId !== "string" || typeof value.expiration !== "string") return undefined;
  const issuedAt = typeof value.issuedAt === "string" ? value.issuedAt : value.expiration;
  return { result: "Issued", accessKeyId: value.accessKeyId, expiration: value.expiration, issuedAt, mfaAuthenticated: value.mfaAuthenticated === true };
}

// Anything but a well-formed record is no record: the operator then decides from the Secret.
function issuanceOf(credential: TemporaryCredential): Issuance | undefined {
  const text = credential.metadata.annotations?.[ISSUANCE_ANNOTATION];
  const value = text === undefined ? undefined : (parseJson(text) as (Partial<IssuedFacts> & { result?: unknown; message?: unknown }) | undefined);
  if (value?.result === "MfaFailed" || value?.result === "MfaRequired") {
    return typeof value.message === "string" ? { result: value.result, message: value.message } : undefined;
  }
  return value?.result === "Issued" ? issuedFrom(value) : undefined;
}

/** TemporaryCredential's part of the reconcile skeleton: issue once, expire at the instant, remove after retention. */
export class TemporaryCredentialLogic implements KindLogic<TemporaryCredential, TemporaryObservation, Action, TemporaryOutcome> {
  readonly kind = TEMPORARY_CREDENTIAL_KIND;
  readonly parse = parseTemporaryCredential;
  readonly transitionEvents = transitionEvents;
  readonly decide = decideTemporary;

  constructor(private readonly deps: TemporaryReconcilerDeps) {}

  async gather(credential: TemporaryCredential): Promise<TemporaryObservation> {
    const namespace = credential.metadata.namespace ?? "";
    const uid = credential.metadata.uid ?? "";
    const secretName = issuedSecretName(credential);
    const issuance = issuanceOf(credential);
    const found = await readSecret(this.deps.core, namespace, secretName);
    const secret = observationOf(found, uid);
    const secretFacts = found && secret === "owned" ? factsOf(found) : undefined;
    const undecided = !issuance && !secretFacts;
    const mfa = undecided ? await this.mfaEvidence(credential) : {};
    const mfaRequired = undecided && !credential.spec.mfa ? await this.mfaRequired(credential) : undefined;
    return { credential, issuance, secret, secretFacts, ...mfa, mfaRequired, now: this.deps.clock(), retentionMs: this.deps.retentionMs };
  }

  // The device list is read only when the account asks for MFA at all.
  private async mfaRequired(credential: TemporaryCredential): Promise<boolean> {
    const namespace = credential.metadata.namespace ?? "";
    if (accountPolicyIn(this.deps.policies, namespace)?.spec.requireMfa !== true) return false;
    return (await this.deps.mfaRecords.bound(namespace, credential.spec.user)).length > 0;
  }

  // The device a code names, opened; or the assertion judged against the key that made it.
  private async mfaEvidence(credential: TemporaryCredential): Promise<Pick<TemporaryObservation, "mfaDevice" | "codeForSecurityKey" | "keyAssertion">> {
    const mfa = credential.spec.mfa;
    if (!mfa) return {};
    const namespace = credential.metadata.namespace ?? "";
    const user = credential.spec.user;
    const bound = await this.deps.mfaRecords.bound(namespace, user);
    if (mfa.assertion) {
      const record = keyNamedBy(bound, mfa.assertion);
      if (!record) return {};
      // A session spends only a challenge asked for one: a verify challenge is its requester's.
      const judgement = await this.deps.assertions.judge(record, { namespace, user, purpose: "session" }, mfa.assertion);
      return { keyAssertion: { deviceName: record.deviceName, judgement } };
    }
    const target = deviceForCode(bound, recordCandidate, mfa.deviceName ?? "");
    if (target.found) return { mfaDevice: { record: target.device, seed: openSeed(this.deps.keks, target.device) } };
    return target.securityKey ? { codeForSecurityKey: true } : {};
  }

  desiredStatus(observation: TemporaryObservation, outcome: TemporaryOutcome): TemporaryCredentialStatus {
    return desiredStatus(observation.credential, outcome, observation.now);
  }


  async act(credential: TemporaryCredential, raw: k8s.KubernetesObject, step: Action): Promise<void> {
    switch (step.kind) {
      case "issue":
        return this.issue(credential, raw, step.mfaRecord);
      case "refuseMfa":
        return this.refuseMfa(raw, step.message, step.mfaRecord);
      case "requireMfa":
        await this.recordIssuance(raw, { result: "MfaRequired", message: step.message });
        await this.deps.events.emit(raw, "Warning", Reason.MfaRequired, step.message);
        return;
      case "recordIssuance":
        return this.recordIssuance(raw, { result: "Issued", ...step.facts });
      case "deleteSecret":
        await this.deleteSecret(credential);
        await this.deps.events.emit(raw, "Normal", Reason.Expired, step.outcome.message);
        return;
      case "deleteResource":
        await this.deps.client.delete(credential.metadata.namespace ?? "", credential.metadata.name ?? "");
        this.deps.log.info({ kind: TEMPORARY_CREDENTIAL_KIND, namespace: credential.metadata.namespace, name: credential.metadata.name }, "expired session removed after its retention");
        return;
    }
  }

  // The code, or the assertion's challenge, is used up (with the record's resourceVersion, so a
  // race on any replica loses with a conflict) before the session exists; the issuance is
  // recorded by the next step.
  private async issue(credential: TemporaryCredential, raw: k8s.KubernetesObject, mfaRecord: MfaRecord | undefined): Promise<void> {
    if (mfaRecord) await this.deps.mfaRecords.update(mfaRecord);
    const namespace = credential.metadata.namespace ?? "";
    const now = this.deps.clock();
    const seconds = Math.min(credential.spec.durationSeconds, this.deps.maxSessionSeconds);
    const expiresAt = now.getTime() + seconds * 1000;
    const accessKeyId = generateAccessKeyId("temporary");
    const secretAccessKey = generateSecretAccessKey();
    const mfaAuthenticated = mfaRecord !== undefined;
    const claims = { accessKeyId, namespace, user: credential.spec.user, issuedAt: now.getTime(), expiresAt, mfaAuthenticated, secretAccessKey };
    const session = { accessKeyId, secretAccessKey, sessionToken: sealSessionToken(this.deps.keks, claims), expiration: new Date(expiresAt).toISOString() };
    const secretName = issuedSecretName(credential);
    const owner = controllerReference(API_VERSION, TEMPORARY_CREDENTIAL_KIND, raw);
    const secret = buildSessionSecret({ namespace, secretName, owner }, session);
    secret.metadata = { ...secret.metadata, annotations: { [ISSUED_AT]: now.toISOString(), [MFA_AUTHENTICATED]: String(mfaAuthenticated) } };
    if (await createOwnedSecret(this.deps.core, secret)) {
      const message = `session ${accessKeyId} issued into Secret ${secretName}, valid until ${session.expiration}`;
      await this.deps.events.emit(raw, "Normal", Reason.Issued, message);
    }
  }

  private async refuseMfa(raw: k8s.KubernetesObject, message: string, mfaRecord: MfaRecord | undefined): Promise<void> {
    if (mfaRecord) await this.deps.mfaRecords.update(mfaRecord);
    // Only the judgement that flags a key writes cloneSuspectedAt: a flagged key's are never written again.
    if (mfaRecord?.cloneSuspectedAt !== undefined) await this.deps.flagCloned(mfaRecord);
    await this.recordIssuance(raw, { result: "MfaFailed", message });
    await this.deps.events.emit(raw, "Warning", Reason.MfaFailed, message);
  }

  private async recordIssuance(raw: k8s.KubernetesObject, issuance: Issuance): Promise<void> {
    await this.deps.client.setAnnotation(raw, ISSUANCE_ANNOTATION, JSON.stringify(issuance));
  }

  private async deleteSecret(credential: TemporaryCredential): Promise<void> {
    try {
      await this.deps.core.deleteNamespacedSecret({ namespace: credential.metadata.namespace ?? "", name: issuedSecretName(credential) });
    } catch (error) {
      if (!isApiStatus(error, 404)) throw error;
    }
  }
}

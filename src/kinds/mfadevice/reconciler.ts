import { isDeepStrictEqual } from "node:util";
import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { API_VERSION } from "../../api/group.js";
import { MFA_DEVICE_KIND, type MfaDevice, type MfaDeviceStatus, parseMfaDevice } from "../../api/mfadevice.js";
import type { KekSet } from "../../keystore/kek.js";
import { type MfaRecord, openSeed, sealSeed } from "../../keystore/mfa-record.js";
import { FINALIZER } from "../../labels.js";
import type { EventSink, ObjectCache } from "../accesskey/reconciler.js";
import { controllerReference, createOwnedSecret, KindClient, observeSecret } from "../../runtime/kube.js";
import { setCondition } from "../../runtime/conditions.js";
import { decideMfa, type MfaObservation, type MfaOutcome, mfaSecretName, type MfaStep } from "./decide.js";
import { buildMfaSecret } from "./issued-secret.js";
import type { MfaRecordStore } from "../../keystore/mfa-store.js";
import { generateSeed } from "../../otp/totp.js";

export const MFA_DEVICE_PLURAL = "mfadevices";
const MAX_STEPS = 8;

export interface MfaReconcilerDeps {
  core: k8s.CoreV1Api;
  custom: k8s.CustomObjectsApi;
  records: MfaRecordStore;
  keks: KekSet;
  cache: ObjectCache;
  events: EventSink;
  clock: () => Date;
  log: Logger;
}

function peersOf(cache: ObjectCache, device: MfaDevice): MfaDevice[] {
  return cache
    .list()
    .map((object) => parseMfaDevice(object))
    .flatMap((result) => (result.ok ? [result.value] : []))
    .filter((peer) => peer.metadata.namespace === device.metadata.namespace && peer.spec.user === device.spec.user);
}

function recordFacts(record: MfaRecord | undefined, now: Date): Partial<MfaDeviceStatus> {
  if (!record) return { bound: false };
  const locked = record.lockedUntil !== undefined && Date.parse(record.lockedUntil) > now.getTime();
  return {
    bound: record.bound,
    boundAt: record.boundAt,
    failedAttempts: record.bound ? undefined : record.failedAttempts,
    lockedUntil: locked ? record.lockedUntil : undefined,
    secretRef: record.issuedSecret ? { name: record.issuedSecret } : undefined,
  };
}

function desiredStatus(device: MfaDevice, record: MfaRecord | undefined, outcome: MfaOutcome, now: Date): MfaDeviceStatus {
  const observedGeneration = device.metadata.generation ?? 0;
  const ready = {
    type: "Ready",
    status: outcome.ready ? "True" : "False",
    reason: outcome.reason,
    message: outcome.message,
    observedGeneration,
  } as const;
  const status: MfaDeviceStatus = {
    ...recordFacts(record, now),
    conditions: setCondition(device.status?.conditions ?? [], ready, now),
    observedGeneration,
  };
  return JSON.parse(JSON.stringify(status)) as MfaDeviceStatus;
}

/** Reconciles MfaDevices: seed issued once, bound with two consecutive codes, unbound on delete. */
export class MfaReconciler {
  private readonly kind: KindClient;

  constructor(private readonly deps: MfaReconcilerDeps) {
    this.kind = new KindClient(deps.custom, MFA_DEVICE_PLURAL);
  }

  async reconcile(namespace: string, name: string): Promise<void> {
    for (let steps = 0; steps < MAX_STEPS; steps++) {
      const raw = await this.kind.read(namespace, name);
      const parsed = raw ? parseMfaDevice(raw) : undefined;
      if (!raw || !parsed?.ok) return;
      const observation = await this.gather(parsed.value);
      const step = decideMfa(observation);
      if (step.kind === "none") {
        await this.writeStatus(raw, observation, step.outcome);
        return;
      }
      await this.act(parsed.value, raw, step);
    }
  }

  private async gather(device: MfaDevice): Promise<MfaObservation> {
    const uid = device.metadata.uid ?? "";
    const record = await this.deps.records.get(uid);
    return {
      device,
      peers: peersOf(this.deps.cache, device),
      record,
      seed: record ? openSeed(this.deps.keks, record) : undefined,
      secret: await observeSecret(this.deps.core, device.metadata.namespace ?? "", mfaSecretName(device), uid),
      now: this.deps.clock(),
    };
  }

  private async act(device: MfaDevice, raw: k8s.KubernetesObject, step: Exclude<MfaStep, { kind: "none" }>): Promise<void> {
    const finalizers = device.metadata.finalizers ?? [];
    switch (step.kind) {
      case "addFinalizer":
        return this.kind.setFinalizers(raw, [...finalizers, FINALIZER]);
      case "removeFinalizer":
        return this.kind.setFinalizers(raw, finalizers.filter((f) => f !== FINALIZER));
      case "deleteRecord":
        await this.deps.records.delete(step.record);
        await this.deps.events.emit(raw, "Normal", "Unbound", `device ${device.spec.deviceName} unbound; its seed is gone`);
        return;
      case "generateRecord":
        return this.generateRecord(device);
      case "writeSecret":
        return this.writeSecret(device, raw, step.record, step.secretName);
      case "updateRecord":
        await this.deps.records.update(step.record);
        if (step.event) await this.deps.events.emit(raw, step.event.type, step.event.reason, step.event.message);
        return;
    }
  }

  private async generateRecord(device: MfaDevice): Promise<void> {
    const identity = { namespace: device.metadata.namespace ?? "", ownerUid: device.metadata.uid ?? "" };
    await this.deps.records.create({
      ...identity,
      user: device.spec.user,
      deviceName: device.spec.deviceName,
      createdAt: this.deps.clock().toISOString(),
      sealed: sealSeed(this.deps.keks, identity, generateSeed()),
      bound: false,
      lastAcceptedStep: 0,
      failedAttempts: 0,
    });
  }

  private async writeSecret(device: MfaDevice, raw: k8s.KubernetesObject, record: MfaRecord, secretName: string): Promise<void> {
    const namespace = device.metadata.namespace ?? "";
    const owner = controllerReference(API_VERSION, MFA_DEVICE_KIND, raw);
    const secret = await buildMfaSecret({ namespace, user: device.spec.user, secretName, owner }, openSeed(this.deps.keks, record));
    if (!(await createOwnedSecret(this.deps.core, secret))) return;
    await this.deps.records.update({ ...record, issuedSecret: secretName });
    await this.deps.events.emit(raw, "Normal", "Issued", `seed of device ${device.spec.deviceName} written to Secret ${secretName}`);
  }

  private async writeStatus(raw: k8s.KubernetesObject, observation: MfaObservation, outcome: MfaOutcome): Promise<void> {
    if (observation.device.metadata.deletionTimestamp) return;
    const status = desiredStatus(observation.device, observation.record, outcome, observation.now);
    const previous = observation.device.status;
    if (isDeepStrictEqual(previous ?? {}, status)) return;
    await this.kind.writeStatus(raw, previous, status);
    const previousReason = previous?.conditions?.find((c) => c.type === "Ready")?.reason;
    if (outcome.reason !== previousReason && ["DeviceLimitExceeded", "SecretConflict", "BindingLocked"].includes(outcome.reason)) {
      await this.deps.events.emit(raw, "Warning", outcome.reason, outcome.message);
    }
  }
}

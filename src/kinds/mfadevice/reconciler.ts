import type * as k8s from "@kubernetes/client-node";
import { API_VERSION } from "../../api/group.js";
import { MFA_DEVICE_KIND, type MfaDevice, type MfaDeviceStatus, parseMfaDevice } from "../../api/mfadevice.js";
import { peersOf } from "../../api/peers.js";
import { issuedSecretName } from "../../api/secret-name.js";
import type { KekSet } from "../../keystore/kek.js";
import { type MfaRecord, openSeed, sealSeed } from "../../keystore/mfa-record.js";
import type { MfaRecordStore } from "../../keystore/mfa-store.js";
import { FINALIZER } from "../../labels.js";
import { generateSeed } from "../../otp/totp.js";
import type { EventSink } from "../../runtime/events.js";
import type { ObjectCache } from "../../runtime/informer.js";
import { controllerReference, createOwnedSecret, deleteOwnedSecret, type KindClient, observeSecret } from "../../runtime/kube.js";
import type { KindLogic } from "../../runtime/reconcile.js";
import { decideMfa, type MfaObservation, type MfaOutcome, type MfaStep } from "./decide.js";
import type { RelyingParty } from "../../webauthn/relying-party.js";
import { buildMfaSecret } from "./issued-secret.js";
import { Reason } from "./reasons.js";
import { SecurityKeyRegistrar } from "./registrar.js";
import { desiredStatus, transitionEvents } from "./status.js";

export interface MfaReconcilerDeps {
  core: k8s.CoreV1Api;
  client: KindClient;
  records: MfaRecordStore;
  keks: KekSet;
  cache: ObjectCache;
  events: EventSink;
  clock: () => Date;
  relyingParty: RelyingParty;
}

type Action = Exclude<MfaStep, { kind: "none" }>;
type SecurityKeyAction = Extract<Action, { kind: "startRegistration" | "renewRegistration" | "registerKey" }>;

/**
 * MfaDevice's part of the reconcile skeleton: a virtual device's seed issued once, bound with two
 * consecutive codes; a security key registered through a WebAuthn ceremony; unbound on delete.
 */
export class MfaDeviceLogic implements KindLogic<MfaDevice, MfaObservation, Action, MfaOutcome> {
  readonly kind = MFA_DEVICE_KIND;
  readonly parse = parseMfaDevice;
  readonly transitionEvents = transitionEvents;
  readonly decide = decideMfa;

  private readonly registrar: SecurityKeyRegistrar;

  constructor(private readonly deps: MfaReconcilerDeps) {
    this.registrar = new SecurityKeyRegistrar(deps);
  }

  async gather(device: MfaDevice): Promise<MfaObservation> {
    const namespace = device.metadata.namespace ?? "";
    const record = await this.deps.records.get(device.metadata.uid ?? "");
    const now = this.deps.clock();
    const peers = peersOf(this.deps.cache.list(namespace), parseMfaDevice, namespace, device.spec.user);
    // A security key has no Secret; what its decision needs besides the record, the registrar reads.
    if (device.spec.type === "SecurityKey") {
      return { device, peers, record, secret: "absent", now, ...(await this.registrar.gather(device, record, now)) };
    }
    return {
      device,
      peers,
      record,
      seed: record ? openSeed(this.deps.keks, record) : undefined,
      secret: await observeSecret(this.deps.core, namespace, issuedSecretName(device), device.metadata.uid ?? ""),
      now,
    };
  }

  desiredStatus(observation: MfaObservation, outcome: MfaOutcome): MfaDeviceStatus {
    return desiredStatus({ device: observation.device, record: observation.record, outcome, now: observation.now });
  }

  async act(device: MfaDevice, raw: k8s.KubernetesObject, step: Action): Promise<k8s.KubernetesObject | void> {
    switch (step.kind) {
      case "addFinalizer":
        return this.deps.client.addFinalizer(raw, FINALIZER);
      case "removeFinalizer":
        return this.deps.client.removeFinalizer(raw, FINALIZER);
      case "deleteRecord":
        await this.deps.records.delete(step.record);
        await this.deps.events.emit(raw, "Normal", Reason.Unbound, `device ${device.spec.deviceName} unbound; its ${device.spec.type === "SecurityKey" ? "credential" : "seed"} is gone`);
        return;
      case "generateRecord":
        return this.generateRecord(device);
      case "writeSecret":
        return this.writeSecret(device, raw, step.record, step.secretName);
      case "updateRecord":
        await this.deps.records.update(step.record);
        if (step.event) await this.deps.events.emit(raw, step.event.type, step.event.reason, step.event.message);
        return;
      case "removeSeedSecret":
        return this.removeSeedSecret(device, raw, step);
      default:
        return this.actForSecurityKey(device, raw, step);
    }
  }

  private async actForSecurityKey(device: MfaDevice, raw: k8s.KubernetesObject, step: SecurityKeyAction): Promise<void> {
    switch (step.kind) {
      case "startRegistration":
        return this.registrar.start(device, step.exclude);
      case "renewRegistration":
        return this.registrar.renew(device, step.record, step.exclude);
      case "registerKey":
        await this.registrar.register(step.record, step.publicKey);
        await this.deps.events.emit(raw, step.event.type, step.event.reason, step.event.message);
        return;
    }
  }

  private async removeSeedSecret(device: MfaDevice, raw: k8s.KubernetesObject, step: Extract<Action, { kind: "removeSeedSecret" }>): Promise<void> {
    const namespace = device.metadata.namespace ?? "";
    const removed = step.secret === "owned" && (await deleteOwnedSecret(this.deps.core, namespace, step.secretName, device.metadata.uid ?? ""));
    await this.deps.records.update({ ...step.record, seedSecretRemovedAt: this.deps.clock().toISOString() });
    if (removed) {
      const message = `device ${device.spec.deviceName} is bound: its seed Secret ${step.secretName} was removed, codes now come from the authenticator app only`;
      await this.deps.events.emit(raw, "Normal", Reason.SeedSecretRemoved, message);
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
    await this.deps.events.emit(raw, "Normal", Reason.Issued, `seed of device ${device.spec.deviceName} written to Secret ${secretName}`);
  }
}

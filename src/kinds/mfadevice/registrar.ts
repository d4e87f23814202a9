import { randomBytes } from "node:crypto";
import type { MfaDevice } from "../../api/mfadevice.js";
import type { KekSet } from "../../keystore/kek.js";
import { type MfaRecord, openSecurityKey, sealSecurityKey } from "../../keystore/mfa-record.js";
import type { MfaRecordStore } from "../../keystore/mfa-store.js";
import type { RelyingParty } from "../../webauthn/relying-party.js";
import { type KnownCredential, startRegistration, verifyRegistration } from "../../webauthn/registration.js";
import { answerToJudge } from "./decide-security-key.js";
import type { MfaObservation } from "./decide.js";

export interface RegistrarDeps {
  records: MfaRecordStore;
  keks: KekSet;
  clock: () => Date;
  relyingParty: RelyingParty;
}

// 16 random bytes: the WebAuthn user handle, unlinkable to the user's name.
const USER_HANDLE_BYTES = 16;

/** A security key's registration as the controller runs it: the ceremony's records, and the library's verdict on an answer. */
export class SecurityKeyRegistrar {
  constructor(private readonly deps: RegistrarDeps) {}

  /**
   * What a decision about this key needs beyond the record: an answer waiting to be judged is
   * verified here (the library is async; decide stays pure), with the user's keys registered
   * elsewhere, read from the keystore, not a cache, since a credential may be registered once.
   */
  async gather(device: MfaDevice, record: MfaRecord | undefined, now: Date): Promise<Pick<MfaObservation, "registrationCheck" | "registeredElsewhere">> {
    const answer = device.spec.registration;
    if (!record || record.bound || !answer || !answerToJudge(device, record)) return {};
    const registrationCheck = record.registration ? await verifyRegistration(this.deps.relyingParty, answer, record.registration, now) : undefined;
    const others = await this.deps.records.bound(record.namespace, record.user);
    const registeredElsewhere = others
      .filter((other) => other.ownerUid !== record.ownerUid && other.credentialId !== undefined)
      .map((other) => ({ credentialId: other.credentialId ?? "", deviceName: other.deviceName }));
    return { registrationCheck, registeredElsewhere };
  }

  async start(device: MfaDevice, exclude: readonly KnownCredential[]): Promise<void> {
    const identity = { namespace: device.metadata.namespace ?? "", ownerUid: device.metadata.uid ?? "" };
    const userId = randomBytes(USER_HANDLE_BYTES).toString("base64url");
    const now = this.deps.clock();
    await this.deps.records.create({
      ...identity,
      user: device.spec.user,
      deviceName: device.spec.deviceName,
      deviceType: "SecurityKey",
      objectName: device.metadata.name ?? "",
      createdAt: now.toISOString(),
      sealed: sealSecurityKey(this.deps.keks, identity, { userId }),
      registration: await startRegistration(this.deps.relyingParty, { ...identity, user: device.spec.user, deviceName: device.spec.deviceName, userId }, exclude, now),
      bound: false,
      lastAcceptedStep: 0,
      failedAttempts: 0,
    });
  }

  /** A fresh challenge for the same user handle, once the last one ran out. */
  async renew(device: MfaDevice, record: MfaRecord, exclude: readonly KnownCredential[]): Promise<void> {
    const { userId } = openSecurityKey(this.deps.keks, record);
    const registrant = { namespace: record.namespace, user: record.user, deviceName: device.spec.deviceName, userId };
    await this.deps.records.update({ ...record, registration: await startRegistration(this.deps.relyingParty, registrant, exclude, this.deps.clock()) });
  }

  /** The registered key: its public key sealed beside the user handle, in the same write that says it is bound. */
  async register(record: MfaRecord, publicKey: string): Promise<void> {
    const { userId } = openSecurityKey(this.deps.keks, record);
    await this.deps.records.update({ ...record, sealed: sealSecurityKey(this.deps.keks, record, { userId, publicKey }) });
  }
}

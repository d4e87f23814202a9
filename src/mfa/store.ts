import type * as k8s from "@kubernetes/client-node";
import { type MfaRecord, mfaRecordName, mfaRecordToSecret, secretToMfaRecord } from "../keystore/mfa-record.js";
import { isApiStatus } from "../operator/kube.js";

/** MFA device records in the operator namespace, read from the API server, written with resourceVersion. */
export class MfaRecordStore {
  constructor(
    private readonly core: k8s.CoreV1Api,
    private readonly namespace: string,
  ) {}

  async get(ownerUid: string): Promise<MfaRecord | undefined> {
    try {
      return secretToMfaRecord(await this.core.readNamespacedSecret({ namespace: this.namespace, name: mfaRecordName(ownerUid) }));
    } catch (error) {
      if (isApiStatus(error, 404)) return undefined;
      throw error;
    }
  }

  /** Creates the record; one created meanwhile (a retried reconcile) is returned instead. */
  async create(record: MfaRecord): Promise<MfaRecord> {
    try {
      const created = await this.core.createNamespacedSecret({ namespace: this.namespace, body: mfaRecordToSecret(record, this.namespace) });
      return { ...record, resourceVersion: created.metadata?.resourceVersion };
    } catch (error) {
      if (!isApiStatus(error, 409)) throw error;
      const existing = await this.get(record.ownerUid);
      if (!existing) throw error;
      return existing;
    }
  }

  /** Fails with 409 when someone else changed the record since it was read. */
  async update(record: MfaRecord): Promise<MfaRecord> {
    const updated = await this.core.replaceNamespacedSecret({
      namespace: this.namespace,
      name: mfaRecordName(record.ownerUid),
      body: mfaRecordToSecret(record, this.namespace),
    });
    return { ...record, resourceVersion: updated.metadata?.resourceVersion };
  }

  async delete(record: MfaRecord): Promise<void> {
    try {
      await this.core.deleteNamespacedSecret({ namespace: this.namespace, name: mfaRecordName(record.ownerUid) });
    } catch (error) {
      if (!isApiStatus(error, 404)) throw error;
    }
  }
}

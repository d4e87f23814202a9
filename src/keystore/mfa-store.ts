import type * as k8s from "@kubernetes/client-node";
import {
  MFA_RECORD_KINDS,
  type MfaRecord,
  mfaRecordName,
  mfaRecordToSecret,
  secretToMfaRecord,
} from "./mfa-record.js";
import { RECORD_KIND_LABEL } from "./record.js";
import { isApiStatus } from "../runtime/errors.js";

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

  /** The bound devices of a user, virtual and security keys, read consistently (MFA checks are rare; correctness first). */
  async bound(namespace: string, user: string): Promise<MfaRecord[]> {
    const list = await this.core.listNamespacedSecret({
      namespace: this.namespace,
      labelSelector: `${RECORD_KIND_LABEL} in (${MFA_RECORD_KINDS.join(",")})`,
    });
    return list.items
      .map(secretToMfaRecord)
      .filter((record): record is MfaRecord => record?.namespace === namespace && record.user === user && record.bound);
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

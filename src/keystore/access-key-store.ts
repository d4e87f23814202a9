import type * as k8s from "@kubernetes/client-node";
import { isApiStatus } from "../runtime/errors.js";
import { type KeyRecord, RECORD_KIND_LABEL, ACCESS_KEY_RECORD, recordName, recordToSecret, secretToRecord } from "./record.js";

/** Keystore records as Secrets of the operator namespace, always read from the API server, by id. */
export class RecordStore {
  constructor(
    private readonly core: k8s.CoreV1Api,
    private readonly namespace: string,
  ) {}

  async get(accessKeyId: string): Promise<KeyRecord | undefined> {
    try {
      return secretToRecord(await this.core.readNamespacedSecret({ namespace: this.namespace, name: recordName(accessKeyId) }));
    } catch (error) {
      if (isApiStatus(error, 404)) return undefined;
      throw error;
    }
  }

  async list(): Promise<KeyRecord[]> {
    const list = await this.core.listNamespacedSecret({
      namespace: this.namespace,
      labelSelector: `${RECORD_KIND_LABEL}=${ACCESS_KEY_RECORD}`,
    });
    return list.items.map(secretToRecord).filter((record) => record !== undefined);
  }

  async create(record: KeyRecord): Promise<KeyRecord> {
    const created = await this.core.createNamespacedSecret({ namespace: this.namespace, body: recordToSecret(record, this.namespace) });
    return { ...record, resourceVersion: created.metadata?.resourceVersion };
  }

  /** Replaces a record; the resourceVersion it was read at makes a concurrent change a 409. */
  async update(record: KeyRecord): Promise<KeyRecord> {
    const updated = await this.core.replaceNamespacedSecret({
      namespace: this.namespace,
      name: recordName(record.accessKeyId),
      body: recordToSecret(record, this.namespace),
    });
    return { ...record, resourceVersion: updated.metadata?.resourceVersion };
  }

  /**
   * Deletes a record as it was read: changed since (restored, say), it is a 409 and stays. One
   * already gone is not an error: the recycle bin's purge and the retention's may race.
   */
  async delete(record: KeyRecord): Promise<void> {
    try {
      await this.core.deleteNamespacedSecret({
        namespace: this.namespace,
        name: recordName(record.accessKeyId),
        body: { preconditions: { resourceVersion: record.resourceVersion } },
      });
    } catch (error) {
      if (!isApiStatus(error, 404)) throw error;
    }
  }
}

import type { Logger } from "pino";
import { recycledAccessKeyName, recycledAccessKeyObject } from "../../api/recycledaccesskey.js";
import { dueForPurge, missingFromBin, nextPurgeAt } from "./purge.js";
import type { RecordStore } from "../../keystore/access-key-store.js";
import type { KeyRecord } from "../../keystore/record.js";
import { PURGE_FINALIZER } from "../../labels.js";
import { errorReason, isApiStatus } from "../../runtime/errors.js";
import type { ObjectCache } from "../../runtime/informer.js";
import { keyOf } from "../../runtime/keys.js";
import type { KindClient } from "../../runtime/kube.js";
import { binEntry } from "./recycle-bin.js";

export interface PurgerOptions {
  records: RecordStore;
  /** RecycledAccessKeys: removed with their records, created for records that have none. */
  bin: KindClient;
  binObjects: ObjectCache;
  accessKeys: ObjectCache;
  retentionMs: number;
  now: () => Date;
  log: Logger;
}

// A sweep at least this often notices records recycled since the last one.
const MAX_WAIT_MS = 60 * 60 * 1000;
const RETRY_MS = 60 * 1000;

/**
 * Deletes recycle-bin records for good once their retention ends, timed to the next one due, and
 * their RecycledAccessKeys with them. Its list of the keystore, the first thing a new leader does,
 * also finds records recycled before the bin was visible, and gives each its object.
 */
export class RecyclePurger {
  private timer?: NodeJS.Timeout;
  private running = false;

  constructor(private readonly options: PurgerOptions) {}

  start(): void {
    this.running = true;
    this.schedule(0);
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  private schedule(delayMs: number): void {
    if (!this.running) return;
    this.timer = setTimeout(() => {
      this.sweep().then(
        (next) => this.schedule(next),
        (error: unknown) => {
          this.options.log.warn({ reason: errorReason(error) }, "recycle bin purge failed; retrying");
          this.schedule(RETRY_MS);
        },
      );
    }, delayMs);
    this.timer.unref();
  }

  /** One pass; resolves to the delay until the next. */
  async sweep(): Promise<number> {
    const { records, retentionMs, now } = this.options;
    const all = await records.list();
    const due = dueForPurge(all, now(), retentionMs);
    for (const record of due) await this.purge(record);
    const kept = all.filter((record) => !due.includes(record));
    for (const record of missingFromBin(kept, this.binned(), this.liveOwners())) await this.showInBin(record);
    const next = nextPurgeAt(kept, retentionMs);
    return Math.max(0, Math.min(MAX_WAIT_MS, (next ?? Infinity) - now().getTime()));
  }

  // The object first: its finalizer may purge the record as well; whichever comes second finds it gone.
  private async purge(record: KeyRecord): Promise<void> {
    await this.options.bin.delete(record.namespace, recycledAccessKeyName(record.accessKeyId));
    await this.options.records.delete(record);
    this.options.log.info({ accessKeyId: record.accessKeyId, namespace: record.namespace, reason: "Purged" }, "recycled key purged for good");
  }

  // One account that refuses the object must not hold up the others, nor the purge: it is logged,
  // and tried again at the next sweep. A namespace deleted with its keys is no news: it was closed,
  // and its records wait out their retention (shown again should the namespace be made anew).
  private async showInBin(record: KeyRecord): Promise<void> {
    const { bin, retentionMs, log } = this.options;
    const object = recycledAccessKeyObject(record.namespace, binEntry(record, retentionMs), PURGE_FINALIZER);
    try {
      await bin.create(record.namespace, object);
      log.info({ accessKeyId: record.accessKeyId, namespace: record.namespace }, "recycled key recorded in the recycle bin");
    } catch (error) {
      const level = isApiStatus(error, 404) ? "debug" : "warn";
      log[level]({ accessKeyId: record.accessKeyId, namespace: record.namespace, reason: errorReason(error) }, "could not show a recycled key in the recycle bin");
    }
  }

  private binned(): Set<string> {
    return new Set(this.options.binObjects.list().map((object) => keyOf({ namespace: object.metadata?.namespace, name: object.metadata?.name ?? "" })));
  }

  private liveOwners(): Set<string> {
    return new Set(this.options.accessKeys.list().flatMap((key) => (key.metadata?.uid ? [key.metadata.uid] : [])));
  }
}

import type { Logger } from "pino";
import { dueForPurge, nextPurgeAt } from "./purge.js";
import type { RecordStore } from "../../keystore/access-key-store.js";
import { errorReason } from "../../runtime/errors.js";

export interface PurgerOptions {
  records: RecordStore;
  retentionMs: number;
  now: () => Date;
  log: Logger;
}

// A sweep at least this often notices records recycled since the last one.
const MAX_WAIT_MS = 60 * 60 * 1000;
const RETRY_MS = 60 * 1000;

/** Deletes recycle-bin records for good once their retention ends, timed to the next one due. */
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
    const { records, retentionMs, now, log } = this.options;
    const all = await records.list();
    const due = dueForPurge(all, now(), retentionMs);
    for (const record of due) {
      await records.delete(record);
      log.info({ accessKeyId: record.accessKeyId, namespace: record.namespace, reason: "Purged" }, "recycled key purged for good");
    }
    const next = nextPurgeAt(
      all.filter((record) => !due.includes(record)),
      retentionMs,
    );
    return Math.max(0, Math.min(MAX_WAIT_MS, (next ?? Infinity) - now().getTime()));
  }
}

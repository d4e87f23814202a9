import type { Logger } from "pino";
import type { Clock } from "../runtime/clock.js";
import { errorReason } from "../runtime/errors.js";
import type { AccessKeyRef } from "./key-table.js";

/** `status.lastUsed` of an AccessKey. */
export interface LastUsed {
  readonly time: string;
  readonly service?: string;
  readonly region?: string;
  readonly sourceIP?: string;
}

/** "gone": the AccessKey no longer exists as the one used; nothing is kept for it. */
export type FlushResult = "written" | "gone";

export type Flush = (target: AccessKeyRef, usage: LastUsed) => Promise<FlushResult>;

export interface LastUsedOptions {
  readonly intervalMs: number;
  readonly clock: Clock;
  readonly flush: Flush;
  readonly log: Logger;
}

interface Slot {
  readonly target: AccessKeyRef;
  /** The latest use not yet written. */
  pending: LastUsed | undefined;
  cancelTick: (() => void) | undefined;
  inFlight: Promise<void> | undefined;
}

/**
 * Batches last-used updates so that each AccessKey's status is written at most once per
 * interval, whatever the request rate. The first use after a quiet interval is written at once;
 * later ones wait for the interval's end, where only the latest is written. Recording never
 * waits: writes happen off the request path.
 */
export class LastUsedBatcher {
  private readonly slots = new Map<string, Slot>();
  private stopped = false;

  constructor(private readonly options: LastUsedOptions) {}

  /** Keys with a use recorded or written in the current interval. */
  get size(): number {
    return this.slots.size;
  }

  record(target: AccessKeyRef, usage: LastUsed): void {
    if (this.stopped) return;
    const slot = this.slots.get(target.uid);
    if (slot) {
      slot.pending = usage;
      return;
    }
    const fresh: Slot = { target, pending: usage, cancelTick: undefined, inFlight: undefined };
    this.slots.set(target.uid, fresh);
    this.write(fresh);
  }

  /** Writes what is pending, once, and forgets every key. */
  async stop(): Promise<void> {
    this.stopped = true;
    const slots = [...this.slots.values()];
    this.slots.clear();
    for (const slot of slots) slot.cancelTick?.();
    await Promise.all(slots.flatMap((slot) => (slot.inFlight ? [slot.inFlight] : [])));
    await Promise.all(slots.flatMap((slot) => (slot.pending ? [this.send(slot, slot.pending)] : [])));
  }

  // The interval starts when a write starts, so a slow API server cannot make writes closer.
  private write(slot: Slot): void {
    const usage = slot.pending;
    slot.pending = undefined;
    slot.cancelTick = this.options.clock.after(this.options.intervalMs, () => this.tick(slot));
    if (usage) slot.inFlight = this.send(slot, usage);
  }

  private tick(slot: Slot): void {
    slot.cancelTick = undefined;
    if (slot.inFlight) {
      slot.cancelTick = this.options.clock.after(this.options.intervalMs, () => this.tick(slot));
    } else if (slot.pending) {
      this.write(slot);
    } else {
      this.slots.delete(slot.target.uid);
    }
  }

  private async send(slot: Slot, usage: LastUsed): Promise<void> {
    const { namespace, name } = slot.target;
    try {
      const result = await this.options.flush(slot.target, usage);
      if (result === "gone") this.forget(slot);
    } catch (error) {
      this.options.log.warn({ kind: "AccessKey", namespace, name, error: errorReason(error) }, "last-used update failed; retrying");
      // Retried at the next tick, unless a newer use replaced it meanwhile.
      slot.pending ??= usage;
    } finally {
      slot.inFlight = undefined;
    }
  }

  private forget(slot: Slot): void {
    slot.cancelTick?.();
    slot.pending = undefined;
    if (this.slots.get(slot.target.uid) === slot) this.slots.delete(slot.target.uid);
  }
}

import type * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { parseRecycledAccessKey, RECYCLED_ACCESS_KEY_KIND, type RecycledAccessKey, type RecycledAccessKeyStatus } from "../../api/recycledaccesskey.js";
import type { RecordStore } from "../../keystore/access-key-store.js";
import { PURGE_FINALIZER } from "../../labels.js";
import type { EventSink } from "../../runtime/events.js";
import type { KindClient } from "../../runtime/kube.js";
import type { KindLogic, TransitionEvent } from "../../runtime/reconcile.js";
import { type BinObservation, type BinOutcome, type BinStep, decide } from "./decide.js";
import { Reason } from "./reasons.js";
import { desiredStatus } from "./status.js";

export interface BinReconcilerDeps {
  client: KindClient;
  records: RecordStore;
  events: EventSink;
  clock: () => Date;
  log: Logger;
}

type Action = Exclude<BinStep, { kind: "none" }>;

/** The RecycledAccessKey's part of the reconcile skeleton: its record read by id, one step at a time. */
export class RecycledAccessKeyLogic implements KindLogic<RecycledAccessKey, BinObservation, Action, BinOutcome> {
  readonly kind = RECYCLED_ACCESS_KEY_KIND;
  readonly parse = parseRecycledAccessKey;
  readonly decide = decide;

  constructor(private readonly deps: BinReconcilerDeps) {}

  async gather(bin: RecycledAccessKey): Promise<BinObservation> {
    return { bin, record: await this.deps.records.get(bin.spec.accessKeyId), now: this.deps.clock() };
  }

  async act(bin: RecycledAccessKey, raw: k8s.KubernetesObject, step: Action): Promise<k8s.KubernetesObject | void> {
    const { namespace = "", name = "" } = bin.metadata;
    switch (step.kind) {
      case "purge":
        // Guarded by the record's resourceVersion: a restore that claimed it meanwhile wins.
        await this.deps.records.delete(step.record);
        this.deps.log.info({ kind: this.kind, namespace, name, accessKeyId: step.record.accessKeyId, reason: Reason.Purged }, "recycled key purged for good");
        await this.deps.events.emit(raw, "Normal", Reason.Purged, `access key ${step.record.accessKeyId} purged for good: it can never be restored`);
        return raw;
      case "removeFinalizer":
        return this.deps.client.removeFinalizer(raw, PURGE_FINALIZER);
      case "deleteBinObject":
        this.deps.log.info({ kind: this.kind, namespace, name }, "bin object no longer matches its record (restored or purged); deleting it");
        await this.deps.client.delete(namespace, name);
        return undefined;
    }
  }

  desiredStatus(observation: BinObservation, outcome: BinOutcome): RecycledAccessKeyStatus {
    return desiredStatus(observation.bin, outcome, observation.now);
  }

  // The AccessKey's Recycled and Restored Events tell the story; the purge has its own above.
  transitionEvents(): TransitionEvent[] {
    return [];
  }
}

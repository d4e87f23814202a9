import { recycledAccessKeyDefinition } from "../../api/recycledaccesskey.js";
import { RecordStore } from "../../keystore/access-key-store.js";
import { KindClient } from "../../runtime/kube.js";
import { ReconcileSkeleton } from "../../runtime/reconcile.js";
import type { ControllerContext, KindModule } from "../kind.js";
import { admitRecycledAccessKey } from "./admission.js";
import { RecycledAccessKeyLogic } from "./reconciler.js";

/**
 * RecycledAccessKey: the recycle bin made visible, one read-only object per deleted key. The
 * AccessKey controller creates it when a key is recycled and deletes it on restore; its own
 * controller purges the key when a user deletes it.
 */
export const recycledAccessKey: KindModule = {
  definition: recycledAccessKeyDefinition,
  admission: { operations: ["CREATE", "UPDATE"], admit: admitRecycledAccessKey },
  controller(context: ControllerContext) {
    const { core, custom, events, clock, log, settings } = context;
    const client = new KindClient(custom, recycledAccessKeyDefinition.plural);
    const logic = new RecycledAccessKeyLogic({ client, records: new RecordStore(core, settings.namespace), events, clock, log });
    const skeleton = new ReconcileSkeleton(logic, { client, events, log, now: clock });
    return { reconcile: (namespace, name) => skeleton.reconcile(namespace, name) };
  },
};

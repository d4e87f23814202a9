import { mfaDeviceDefinition, parseMfaDevice } from "../../api/mfadevice.js";
import { MfaRecordStore } from "../../keystore/mfa-store.js";
import { KindClient } from "../../runtime/kube.js";
import { ReconcileSkeleton } from "../../runtime/reconcile.js";
import type { ControllerContext, KindModule } from "../kind.js";
import { admitMfaDevice, mutateMfaDevice } from "./admission.js";
import { MFA_DEVICE_LABEL } from "./issued-secret.js";
import { MfaDeviceLogic } from "./reconciler.js";

/** MfaDevice: a virtual TOTP device, its seed shown once, bound with two consecutive codes. */
export const mfaDevice: KindModule = {
  definition: mfaDeviceDefinition,
  secretLabel: MFA_DEVICE_LABEL,
  admission: { operations: ["CREATE", "UPDATE", "DELETE"], admit: admitMfaDevice, mutate: mutateMfaDevice },
  controller(context: ControllerContext) {
    const { core, custom, keks, cache, events, clock, log, settings } = context;
    const client = new KindClient(custom, mfaDeviceDefinition.plural);
    const records = new MfaRecordStore(core, settings.namespace);
    const logic = new MfaDeviceLogic({ core, client, records, keks, cache, events, clock });
    const skeleton = new ReconcileSkeleton(logic, { client, events, log, now: clock });
    return { reconcile: (namespace, name) => skeleton.reconcile(namespace, name) };
  },
  inventory(objects) {
    return { mfaDevicesBound: objects.map(parseMfaDevice).filter((result) => result.ok && result.value.status?.bound === true).length };
  },
};

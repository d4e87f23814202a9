import { mfaDeviceDefinition, parseMfaDevice } from "../../api/mfadevice.js";
import { peersOf } from "../../api/peers.js";
import { MfaRecordStore } from "../../keystore/mfa-store.js";
import { KindClient } from "../../runtime/kube.js";
import { ReconcileSkeleton } from "../../runtime/reconcile.js";
import type { ControllerContext, KindModule } from "../kind.js";
import { admitMfaDevice, mutateMfaDevice } from "./admission.js";
import { MFA_DEVICE_LABEL } from "./issued-secret.js";
import { MfaDeviceLogic } from "./reconciler.js";

/** MfaDevice: a virtual TOTP device bound with two consecutive codes, or a security key registered through WebAuthn. */
export const mfaDevice: KindModule = {
  definition: mfaDeviceDefinition,
  secretLabel: MFA_DEVICE_LABEL,
  admission: { operations: ["CREATE", "UPDATE", "DELETE"], admit: admitMfaDevice, mutate: mutateMfaDevice },
  controller(context: ControllerContext) {
    const { core, custom, keks, cache, events, clock, log, settings } = context;
    const client = new KindClient(custom, mfaDeviceDefinition.plural);
    const records = new MfaRecordStore(core, settings.namespace);
    const logic = new MfaDeviceLogic({ core, client, records, keks, cache, events, clock, relyingParty: settings.relyingParty });
    const skeleton = new ReconcileSkeleton(logic, { client, events, log, now: clock });
    return { reconcile: (namespace, name) => skeleton.reconcile(namespace, name) };
  },
  // Which devices a user may have is read from the cache, oldest first; a device that settled
  // before an older one was in the cache, or one waiting for a slot, is looked at again whenever
  // a device of the same user and type changes or goes.
  wakePeers(_event, object, cache) {
    const parsed = parseMfaDevice(object);
    if (!parsed.ok) return [];
    const { namespace = "", uid } = parsed.value.metadata;
    return peersOf(cache.list(namespace), parseMfaDevice, namespace, parsed.value.spec.user)
      .filter((peer) => peer.spec.type === parsed.value.spec.type && peer.metadata.uid !== uid && peer.status?.bound !== true)
      .map((peer) => ({ namespace, name: peer.metadata.name ?? "" }));
  },
  inventory(objects) {
    return { mfaDevicesBound: objects.map(parseMfaDevice).filter((result) => result.ok && result.value.status?.bound === true).length };
  },
};

import { ACCESS_KEY_PLURAL, accessKeyDefinition, parseAccessKey } from "../../api/accesskey.js";
import { ACCOUNT_POLICY_PLURAL, accountPolicyIn, parseAccountPolicy } from "../../api/accountpolicy.js";
import { RECYCLED_ACCESS_KEY_PLURAL } from "../../api/recycledaccesskey.js";
import { peersOf } from "../../api/peers.js";
import { RecordStore } from "../../keystore/access-key-store.js";
import { UserSlotStore } from "../../keystore/user-slots.js";
import { ACCESS_KEY_LABEL } from "../../labels.js";
import { isOwnedSecret, KindClient } from "../../runtime/kube.js";
import { ReconcileSkeleton } from "../../runtime/reconcile.js";
import type { ControllerContext, KindModule } from "../kind.js";
import { admitAccessKey, DEACTIVATION, mutateAccessKey } from "./admission.js";
import { RecyclePurger } from "./purger.js";
import { blockedElsewhere } from "./decide.js";
import { settledSecretName } from "./status.js";
import { AccessKeyLogic } from "./reconciler.js";
import { isStale, StalenessLogic, stalenessSettled } from "./staleness.js";

/** AccessKey: long-term AK/SK, two per user, issued once, recycled on delete. */
export const accessKey: KindModule = {
  definition: accessKeyDefinition,
  secretLabel: ACCESS_KEY_LABEL,
  admission: { operations: ["CREATE", "UPDATE", "DELETE"], admit: admitAccessKey, mutate: mutateAccessKey, failOpen: DEACTIVATION },
  controller(context: ControllerContext) {
    const { core, custom, keks, cache, caches, events, clock, log, settings } = context;
    const client = new KindClient(custom, accessKeyDefinition.plural);
    const bin = new KindClient(custom, RECYCLED_ACCESS_KEY_PLURAL);
    const records = new RecordStore(core, settings.namespace);
    const logic = new AccessKeyLogic({
      core,
      client,
      bin,
      records,
      slots: new UserSlotStore(core, settings.namespace),
      keks,
      cache,
      events,
      clock,
      recycleRetentionMs: settings.recycleRetentionMs,
      log,
      afterRecordWrite: settings.afterRecordWrite,
    });
    const aged = new StalenessLogic(logic, caches.of(ACCOUNT_POLICY_PLURAL));
    const skeleton = new ReconcileSkeleton(aged, { client, events, log, now: clock });
    const purger = new RecyclePurger({
      records,
      bin,
      binObjects: caches.of(RECYCLED_ACCESS_KEY_PLURAL),
      accessKeys: cache,
      retentionMs: settings.recycleRetentionMs,
      now: clock,
      log,
    });
    return {
      reconcile: (namespace, name) => skeleton.reconcile(namespace, name),
      startLeading: () => {
        logic.startLeading();
        purger.start();
      },
      stopLeading: () => purger.stop(),
    };
  },
  // A slot comes free when its holder is deleted, or blocked (it gives its slot back then).
  wakePeers(event, object, cache) {
    const parsed = parseAccessKey(object);
    if (!parsed.ok || (event === "update" && !blockedElsewhere(parsed.value))) return [];
    const { namespace = "", uid } = parsed.value.metadata;
    return peersOf(cache.list(namespace), parseAccessKey, namespace, parsed.value.spec.user)
      .filter((peer) => peer.status?.accessKeyId === undefined && peer.metadata.uid !== uid)
      .map((peer) => ({ namespace, name: peer.metadata.name ?? "" }));
  },
  // A changed maxKeyAge looks again at every key of the account; a policy's status alone does not
  // (its spec is new exactly while its observedGeneration lags).
  watches: [
    {
      plural: ACCOUNT_POLICY_PLURAL,
      keysFor(event, object, caches) {
        const parsed = parseAccountPolicy(object);
        const specChanged = event !== "update" || !parsed.ok || parsed.value.status?.observedGeneration !== parsed.value.metadata.generation;
        const namespace = object.metadata?.namespace ?? "";
        if (!specChanged) return [];
        return caches.of(ACCESS_KEY_PLURAL).list(namespace).map((key) => ({ namespace, name: key.metadata?.name ?? "" }));
      },
    },
  ],
  upToDate(object, issuedSecrets, caches) {
    const parsed = parseAccessKey(object);
    const secretName = parsed.ok ? settledSecretName(parsed.value) : undefined;
    if (!parsed.ok || secretName === undefined) return false;
    const policy = accountPolicyIn(caches.of(ACCOUNT_POLICY_PLURAL), parsed.value.metadata.namespace ?? "");
    if (!stalenessSettled(parsed.value, policy)) return false;
    const secret = issuedSecrets.get(parsed.value.metadata.namespace ?? "", secretName);
    return secret !== undefined && isOwnedSecret(secret, parsed.value.metadata.uid ?? "");
  },
  inventory(objects, now) {
    const keys = objects.map(parseAccessKey).flatMap((result) => (result.ok ? [result.value.status ?? {}] : []));
    const active = keys.filter((status) => status.state === "Active");
    return {
      accessKeys: { Active: active.length, Inactive: keys.filter((status) => status.state === "Inactive").length },
      activeAccessKeyAgesSeconds: active.flatMap((status) => (status.createdAt ? [(now.getTime() - Date.parse(status.createdAt)) / 1000] : [])),
      staleAccessKeys: keys.filter((status) => isStale(status)).length,
    };
  },
};

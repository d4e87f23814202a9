import { ACCOUNT_POLICY_PLURAL } from "../../api/accountpolicy.js";
import { parseTemporaryCredential, temporaryCredentialDefinition } from "../../api/temporarycredential.js";
import { MfaRecordStore } from "../../keystore/mfa-store.js";
import { KindClient } from "../../runtime/kube.js";
import { AssertionChecker } from "../../webauthn/checker.js";
import { flagClonedDevice } from "../../webauthn/clone-flag.js";
import { ReconcileSkeleton } from "../../runtime/reconcile.js";
import type { ControllerContext, KindModule } from "../kind.js";
import { stampIdentity } from "../identity-stamps.js";
import { admitTemporaryCredential } from "./admission.js";
import { TEMPORARY_CREDENTIAL_LABEL } from "./issued-secret.js";
import { TemporaryCredentialLogic } from "./reconciler.js";

/** TemporaryCredential: an STS-style session, MFA-gated if asked, expiring at the instant. */
export const temporaryCredential: KindModule = {
  definition: temporaryCredentialDefinition,
  secretLabel: TEMPORARY_CREDENTIAL_LABEL,
  admission: { operations: ["CREATE", "UPDATE", "DELETE"], admit: admitTemporaryCredential, mutate: stampIdentity },
  controller(context: ControllerContext) {
    const { core, custom, keks, caches, events, clock, log, settings } = context;
    const client = new KindClient(custom, temporaryCredentialDefinition.plural);
    const mfaRecords = new MfaRecordStore(core, settings.namespace);
    const logic = new TemporaryCredentialLogic({
      core,
      client,
      keks,
      mfaRecords,
      assertions: new AssertionChecker({ records: mfaRecords, keks: () => keks, rp: settings.relyingParty, now: clock, log }),
      flagCloned: flagClonedDevice(custom, log),
      policies: caches.of(ACCOUNT_POLICY_PLURAL),
      events,
      clock,
      maxSessionSeconds: settings.maxSessionSeconds,
      retentionMs: settings.sessionRetentionMs,
      log,
    });
    const skeleton = new ReconcileSkeleton(logic, { client, events, log, now: clock });
    return { reconcile: (namespace, name) => skeleton.reconcile(namespace, name) };
  },
  inventory(objects, now) {
    const live = objects
      .map(parseTemporaryCredential)
      .filter((result) => result.ok && result.value.status?.expiration !== undefined && Date.parse(result.value.status.expiration) > now.getTime());
    return { temporaryCredentialsLive: live.length };
  },
};

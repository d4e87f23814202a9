import * as k8s from "@kubernetes/client-node";
import type { Logger } from "pino";
import { ACCESS_KEY_KIND, ACCESS_KEY_PLURAL } from "../api/accesskey.js";
import { ACCOUNT_POLICY_KIND, ACCOUNT_POLICY_PLURAL } from "../api/accountpolicy.js";
import { GROUP, VERSION } from "../api/group.js";
import { TEMPORARY_CREDENTIAL_KIND, TEMPORARY_CREDENTIAL_PLURAL } from "../api/temporarycredential.js";
import { accessKeyKind } from "../credentials/format.js";
import { type KekSet, loadOrCreateKek } from "../keystore/kek.js";
import { ACCESS_KEY_RECORD, type KeyRecord, openSecret, RECORD_KIND_LABEL, type RecordState } from "../keystore/record.js";
import { SealError } from "../keystore/seal.js";
import { backoffDelay } from "../runtime/backoff.js";
import { type Clock, sleep } from "../runtime/clock.js";
import { errorReason } from "../runtime/errors.js";
import { Informer, objectIdentity } from "../runtime/informer.js";
import { builtinSource, customResourceSource } from "../runtime/sources.js";
import type { Networks } from "./ip.js";
import { type IndexedKey, type KeyOwner, KeyTable } from "./key-table.js";
import { AccountNetworks } from "./network-policy.js";
import { SessionOwners } from "./session-owners.js";

export interface KeyIndexOptions {
  readonly kc: k8s.KubeConfig;
  readonly operatorNamespace: string;
  readonly log: Logger;
  readonly clock: Clock;
}

const KEK_RETRY = { baseMs: 500, capMs: 30_000 };
// A record sealed under a KEK version we do not have means the KEK was rotated after we read it.
const KEK_RELOAD_MIN_INTERVAL_MS = 10_000;

/**
 * Every access key the verifier may be asked about, kept current by watches on the keystore
 * records, on AccessKeys, on AccountPolicies (each account's network policy) and (for owner
 * lookups of session ids) on TemporaryCredentials, so that
 * answering a request never calls the API server. Secrets are decrypted once per record change
 * and held in memory only.
 */
export class KeyIndex {
  private readonly table: KeyTable;
  private readonly records: Informer<k8s.V1Secret>;
  private readonly accessKeys: Informer<k8s.KubernetesObject>;
  private readonly sessionOwners = new SessionOwners();
  private readonly sessions: Informer<k8s.KubernetesObject>;
  private readonly accounts = new AccountNetworks();
  private readonly policies: Informer<k8s.KubernetesObject>;
  private readonly stopping = new AbortController();
  private readonly started: Promise<void>;
  private keks: KekSet | undefined;
  private synced = false;
  private lastKekLoadMs = Number.NEGATIVE_INFINITY;
  private cancelReload: (() => void) | undefined;

  constructor(private readonly options: KeyIndexOptions) {
    const { kc, operatorNamespace, log } = options;
    this.table = new KeyTable(
      (record) => openSecret(this.currentKeks(), record),
      (record, error) => this.openFailed(record, error),
    );
    this.records = new Informer<k8s.V1Secret>({
      kubeConfig: kc,
      source: builtinSource<k8s.V1Secret>(kc, { apiVersion: "v1", plural: "secrets", kind: "Secret", namespace: operatorNamespace }),
      labelSelector: `${RECORD_KIND_LABEL}=${ACCESS_KEY_RECORD}`,
      logger: log,
      // The table keeps what it needs of each object; the caches keep only names (see Informer).
      // A record's delete is handled by its name, an AccessKey's by its uid.
      retain: objectIdentity({ uid: false }),
    });
    this.records.on("add", (secret) => this.table.putRecord(secret));
    this.records.on("update", (secret) => this.table.putRecord(secret));
    this.records.on("delete", (secret) => this.table.removeRecord(secret));
    this.accessKeys = new Informer<k8s.KubernetesObject>({
      kubeConfig: kc,
      source: customResourceSource(kc, { group: GROUP, version: VERSION, plural: ACCESS_KEY_PLURAL, kind: ACCESS_KEY_KIND }),
      logger: log,
      retain: objectIdentity(),
    });
    this.accessKeys.on("add", (object) => this.table.putAccessKey(object));
    this.accessKeys.on("update", (object) => this.table.putAccessKey(object));
    this.accessKeys.on("delete", (object) => this.table.removeAccessKey(object));
    this.sessions = new Informer<k8s.KubernetesObject>({
      kubeConfig: kc,
      source: customResourceSource(kc, { group: GROUP, version: VERSION, plural: TEMPORARY_CREDENTIAL_PLURAL, kind: TEMPORARY_CREDENTIAL_KIND }),
      logger: log,
      // SessionOwners keeps the id, namespace and user; a delete is handled by namespace/name.
      retain: objectIdentity({ uid: false }),
    });
    this.sessions.on("add", (object) => this.sessionOwners.put(object));
    this.sessions.on("update", (object) => this.sessionOwners.put(object));
    this.sessions.on("delete", (object) => this.sessionOwners.remove(object));
    this.policies = new Informer<k8s.KubernetesObject>({
      kubeConfig: kc,
      source: customResourceSource(kc, { group: GROUP, version: VERSION, plural: ACCOUNT_POLICY_PLURAL, kind: ACCOUNT_POLICY_KIND }),
      logger: log,
      // The account's networks are kept by namespace; a delete needs only the name and namespace.
      retain: objectIdentity({ uid: false }),
    });
    this.policies.on("add", (object) => this.accounts.put(object));
    this.policies.on("update", (object) => this.accounts.put(object));
    this.policies.on("delete", (object) => this.accounts.remove(object));
    this.started = this.start();
    // stop() before the first sync rejects it; that is only an error for someone waiting.
    this.started.catch(() => undefined);
  }

  /** Resolves once the KEK is loaded and every cache has synced. */
  ready(): Promise<void> {
    return this.started;
  }

  get isReady(): boolean {
    return this.synced;
  }

  /** The KEK ring once loaded; MFA seeds are opened with it. */
  kekSet(): KekSet | undefined {
    return this.keks;
  }

  lookup(accessKeyId: string): IndexedKey | undefined {
    return this.table.lookup(accessKeyId);
  }

  /** A long-term key's owner while the keystore holds it; a session's while its TemporaryCredential exists. */
  owner(accessKeyId: string): KeyOwner | undefined {
    return accessKeyKind(accessKeyId) === "temporary" ? this.sessionOwners.owner(accessKeyId) : this.table.owner(accessKeyId);
  }

  accountNetworks(namespace: string): Networks | undefined {
    return this.accounts.of(namespace);
  }

  lastUsedMs(uid: string): number | undefined {
    return this.table.lastUsedMs(uid);
  }

  counts(): Record<RecordState, number> {
    return this.table.counts();
  }

  async stop(): Promise<void> {
    this.stopping.abort();
    this.cancelReload?.();
    await Promise.all([this.records.stop(), this.accessKeys.stop(), this.policies.stop(), this.sessions.stop()]);
  }

  private async start(): Promise<void> {
    this.keks = await this.loadKek();
    // Stopped while the KEK was loading: starting the watches now would outlive stop().
    if (this.stopping.signal.aborted) throw new Error("the verifier stopped before its key index synced");
    this.records.start();
    this.accessKeys.start();
    this.policies.start();
    this.sessions.start();
    await Promise.all([this.records.synced(), this.accessKeys.synced(), this.policies.synced(), this.sessions.synced()]);
    this.synced = true;
    this.options.log.info({ keys: this.table.counts() }, "verifier key index synced");
  }

  // The operator creates the KEK on its first start; a verifier started before it waits.
  private async loadKek(): Promise<KekSet> {
    const core = this.options.kc.makeApiClient(k8s.CoreV1Api);
    for (let attempt = 1; ; attempt++) {
      if (this.stopping.signal.aborted) throw new Error("the verifier stopped before the KEK was loaded");
      try {
        const keks = await loadOrCreateKek(core, this.options.operatorNamespace);
        this.lastKekLoadMs = this.options.clock.now();
        return keks;
      } catch (error) {
        const retryInMs = backoffDelay(KEK_RETRY, attempt);
        this.options.log.warn({ error: errorReason(error), retryInMs }, "cannot load the key-encryption key; retrying");
        await sleep(this.options.clock, retryInMs, this.stopping.signal);
      }
    }
  }

  private currentKeks(): KekSet {
    if (!this.keks) throw new Error("the key-encryption key is not loaded");
    return this.keks;
  }

  private openFailed(record: KeyRecord, error: unknown): void {
    const code = error instanceof SealError ? error.code : undefined;
    this.options.log.warn(
      { accessKeyId: record.accessKeyId, namespace: record.namespace, code, error: errorReason(error) },
      "keystore record cannot be opened; its key will not verify",
    );
    if (code === "KG_ERR_SEAL_UNKNOWN_KEK_VERSION") this.scheduleKekReload();
  }

  private scheduleKekReload(): void {
    if (this.cancelReload !== undefined || this.stopping.signal.aborted) return;
    const delay = Math.max(0, this.lastKekLoadMs + KEK_RELOAD_MIN_INTERVAL_MS - this.options.clock.now());
    this.cancelReload = this.options.clock.after(delay, () => {
      this.loadKek().then(
        (keks) => {
          this.cancelReload = undefined;
          this.keks = keks;
          this.table.reopen();
        },
        () => {
          this.cancelReload = undefined;
        },
      );
    });
  }
}

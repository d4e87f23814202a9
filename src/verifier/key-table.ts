import type { KubernetesObject, V1Secret } from "@kubernetes/client-node";
import { parseAccessKey } from "../api/accesskey.js";
import { parseCidr } from "../api/ip.js";
import { type KeyRecord, type RecordState, secretToRecord } from "../keystore/record.js";
import type { Networks } from "./ip.js";

/** The AccessKey a key belongs to, by name and uid (a recreated AccessKey of the same name is another one). */
export interface AccessKeyRef {
  readonly namespace: string;
  readonly name: string;
  readonly uid: string;
}

/** What verification knows about a key that may be used: its secret is in memory only. */
export interface IndexedKey {
  readonly secret: string;
  readonly accessKeyId: string;
  readonly namespace: string;
  readonly user: string;
  /** False when the AccessKey says Inactive or is being deleted. */
  readonly active: boolean;
  /** undefined: no network policy; an empty list allows no address. */
  readonly allowedSourceCIDRs: Networks | undefined;
  readonly accessKey: AccessKeyRef;
}

export interface KeyOwner {
  readonly accessKeyId: string;
  readonly namespace: string;
  readonly user: string;
}

interface RecordEntry {
  readonly record: KeyRecord;
  readonly secret: string | undefined;
}

interface AccessKeyFacts {
  readonly ref: AccessKeyRef;
  readonly active: boolean;
  readonly networks: Networks | undefined;
  readonly lastUsedMs: number | undefined;
}

/** Decrypts a record's secret; throws when it cannot (wrong or unknown KEK, tampered record). */
export type Opener = (record: KeyRecord) => string;

// A policy entry that does not parse (the API server validates them, so only a bypassed or
// future schema could produce one) allows nothing, rather than being dropped from the list.
function networksOf(cidrs: readonly string[] | undefined): Networks | undefined {
  if (cidrs === undefined) return undefined;
  const parsed = cidrs.map((text) => parseCidr(text));
  return parsed.every((cidr) => cidr !== undefined) ? parsed : [];
}

function factsOf(object: KubernetesObject): AccessKeyFacts | undefined {
  const parsed = parseAccessKey(object);
  if (!parsed.ok) return undefined;
  const { metadata, spec, status } = parsed.value;
  const lastUsedMs = status?.lastUsed?.time === undefined ? undefined : Date.parse(status.lastUsed.time);
  return {
    ref: { namespace: metadata.namespace ?? "", name: metadata.name ?? "", uid: metadata.uid ?? "" },
    active: spec.state === "Active" && metadata.deletionTimestamp === undefined,
    networks: networksOf(spec.allowedSourceCIDRs),
    lastUsedMs,
  };
}

/**
 * Keystore records joined with their AccessKeys, by the record's owner uid. The record says whether
 * the key exists (not recycled) and whom it belongs to; the AccessKey's spec says whether it is
 * active, in both directions: a deactivation and a reactivation are honoured from the moment they
 * are written, before the operator has reconciled them or while no operator runs. The record's
 * copy of the state adds no check: the operator copies it from the same spec.
 */
export class KeyTable {
  private readonly records = new Map<string, RecordEntry>();
  private readonly idBySecretName = new Map<string, string>();
  private readonly accessKeys = new Map<string, AccessKeyFacts>();

  constructor(
    private readonly open: Opener,
    private readonly onOpenFailure: (record: KeyRecord, error: unknown) => void,
  ) {}

  putRecord(secret: V1Secret): void {
    const name = secret.metadata?.name ?? "";
    const record = secretToRecord(secret);
    if (!record) {
      this.removeRecord(secret);
      return;
    }
    const previousId = this.idBySecretName.get(name);
    if (previousId !== undefined && previousId !== record.accessKeyId) this.records.delete(previousId);
    this.idBySecretName.set(name, record.accessKeyId);
    this.records.set(record.accessKeyId, { record, secret: this.secretFor(record) });
  }

  removeRecord(secret: V1Secret): void {
    const name = secret.metadata?.name ?? "";
    const id = this.idBySecretName.get(name);
    this.idBySecretName.delete(name);
    if (id !== undefined) this.records.delete(id);
  }

  putAccessKey(object: KubernetesObject): void {
    const facts = factsOf(object);
    if (facts) this.accessKeys.set(facts.ref.uid, facts);
    else this.removeAccessKey(object);
  }

  removeAccessKey(object: KubernetesObject): void {
    this.accessKeys.delete(object.metadata?.uid ?? "");
  }

  /** A key that may verify requests; undefined for unknown, recycled, orphaned or unreadable ones. */
  lookup(accessKeyId: string): IndexedKey | undefined {
    const entry = this.records.get(accessKeyId);
    if (!entry || entry.secret === undefined || entry.record.state === "Recycled") return undefined;
    const { record } = entry;
    const facts = this.accessKeys.get(record.ownerUid);
    if (!facts || facts.ref.namespace !== record.namespace) return undefined;
    return {
      secret: entry.secret,
      accessKeyId,
      namespace: record.namespace,
      user: record.user,
      active: facts.active,
      allowedSourceCIDRs: facts.networks,
      accessKey: facts.ref,
    };
  }

  /** Who owns a key, whatever its state, as long as the keystore still holds it. */
  owner(accessKeyId: string): KeyOwner | undefined {
    const record = this.records.get(accessKeyId)?.record;
    return record && { accessKeyId, namespace: record.namespace, user: record.user };
  }

  /** The last use the AccessKey's status shows, to never move it backwards. */
  lastUsedMs(uid: string): number | undefined {
    return this.accessKeys.get(uid)?.lastUsedMs;
  }

  counts(): Record<RecordState, number> {
    const counts: Record<RecordState, number> = { Active: 0, Inactive: 0, Recycled: 0 };
    for (const { record } of this.records.values()) counts[record.state] += 1;
    return counts;
  }

  /** Tries again the records whose secret could not be opened (after the KEK was reloaded). */
  reopen(): void {
    for (const [id, entry] of this.records) {
      if (entry.secret === undefined) this.records.set(id, { record: entry.record, secret: this.secretFor(entry.record) });
    }
  }

  // Opened once per sealed value; a recycled key's secret is not kept in memory at all.
  private secretFor(record: KeyRecord): string | undefined {
    if (record.state === "Recycled") return undefined;
    const previous = this.records.get(record.accessKeyId);
    // The namespace is part of what the seal authenticates, so a changed one means opening again.
    const same = previous?.record.sealed === record.sealed && previous.record.namespace === record.namespace;
    if (same && previous.secret !== undefined) return previous.secret;
    try {
      return this.open(record);
    } catch (error) {
      this.onOpenFailure(record, error);
      return undefined;
    }
  }
}

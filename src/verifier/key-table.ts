import { hash } from "node:crypto";
import type { KubernetesObject, V1Secret } from "@kubernetes/client-node";
import { parseAccessKey } from "../api/accesskey.js";
import { type KeyRecord, type RecordState, secretToRecord } from "../keystore/record.js";
import { type Networks, networksOf } from "./ip.js";

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

/**
 * What the table keeps of a keystore record: no more than lookups need, since there is one per
 * key. The sealed value itself is kept only while it
 * cannot be opened, to try again after a KEK reload; once opened, a digest of it tells a changed
 * one from the same.
 */
interface RecordEntry {
  readonly namespace: string;
  readonly user: string;
  readonly ownerUid: string;
  readonly state: RecordState;
  /** The opened secret; undefined when recycled or not openable. */
  readonly secret: string | undefined;
  readonly sealedDigest: string;
  /** The record as read, only while its secret could not be opened. */
  readonly unopened: KeyRecord | undefined;
}

interface AccessKeyFacts {
  readonly ref: AccessKeyRef;
  readonly active: boolean;
  readonly networks: Networks | undefined;
  readonly lastUsedMs: number | undefined;
}

/** Decrypts a record's secret; throws when it cannot (wrong or unknown KEK, tampered record). */
export type Opener = (record: KeyRecord) => string;

// 16 bytes of SHA-256: telling one sealed value from another needs no more.
function digestOf(sealed: string): string {
  return hash("sha256", sealed, "buffer").toString("base64url", 0, 16);
}

/**
 * One string per namespace, rather than one per object that names it (each object read from the
 * API server brings its own copy). A namespace whose last key went stays known; there are few of
 * them next to the keys.
 */
class Strings {
  private readonly known = new Map<string, string>();

  shared(value: string): string {
    const known = this.known.get(value);
    if (known !== undefined) return known;
    this.known.set(value, value);
    return value;
  }
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
  private readonly strings = new Strings();

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
    this.records.set(record.accessKeyId, this.entryFor(record));
  }

  removeRecord(secret: V1Secret): void {
    const name = secret.metadata?.name ?? "";
    const id = this.idBySecretName.get(name);
    this.idBySecretName.delete(name);
    if (id !== undefined) this.records.delete(id);
  }

  putAccessKey(object: KubernetesObject): void {
    const facts = this.factsOf(object);
    if (facts) this.accessKeys.set(facts.ref.uid, facts);
    else this.removeAccessKey(object);
  }

  removeAccessKey(object: KubernetesObject): void {
    this.accessKeys.delete(object.metadata?.uid ?? "");
  }

  /** A key that may verify requests; undefined for unknown, recycled, orphaned or unreadable ones. */
  lookup(accessKeyId: string): IndexedKey | undefined {
    const entry = this.records.get(accessKeyId);
    if (!entry || entry.secret === undefined || entry.state === "Recycled") return undefined;
    const facts = this.accessKeys.get(entry.ownerUid);
    if (!facts || facts.ref.namespace !== entry.namespace) return undefined;
    return {
      secret: entry.secret,
      accessKeyId,
      namespace: entry.namespace,
      user: entry.user,
      active: facts.active,
      allowedSourceCIDRs: facts.networks,
      accessKey: facts.ref,
    };
  }

  /** Who owns a key, whatever its state, as long as the keystore still holds it. */
  owner(accessKeyId: string): KeyOwner | undefined {
    const entry = this.records.get(accessKeyId);
    return entry && { accessKeyId, namespace: entry.namespace, user: entry.user };
  }

  /** The last use the AccessKey's status shows, to never move it backwards. */
  lastUsedMs(uid: string): number | undefined {
    return this.accessKeys.get(uid)?.lastUsedMs;
  }

  counts(): Record<RecordState, number> {
    const counts: Record<RecordState, number> = { Active: 0, Inactive: 0, Recycled: 0 };
    for (const { state } of this.records.values()) counts[state] += 1;
    return counts;
  }

  /** Tries again the records whose secret could not be opened (after the KEK was reloaded). */
  reopen(): void {
    for (const [id, entry] of this.records) {
      if (entry.unopened !== undefined) this.records.set(id, this.entryFor(entry.unopened));
    }
  }

  private entryFor(record: KeyRecord): RecordEntry {
    const digest = digestOf(record.sealed);
    const namespace = this.strings.shared(record.namespace);
    // Every entry is built here, all with the same fields in the same order (one object shape).
    const entry = (secret: string | undefined, unopened?: KeyRecord): RecordEntry => ({
      namespace,
      user: record.user,
      ownerUid: record.ownerUid,
      state: record.state,
      secret,
      sealedDigest: digest,
      unopened,
    });
    // A recycled key's secret is not kept in memory at all, and needs no opening again later.
    if (record.state === "Recycled") return entry(undefined);
    const previous = this.records.get(record.accessKeyId);
    // Opened once per sealed value. The namespace is part of what the seal authenticates, so a
    // changed one means opening again.
    const same = previous?.sealedDigest === digest && previous.namespace === namespace;
    if (same && previous.secret !== undefined) return entry(previous.secret);
    try {
      return entry(this.open(record));
    } catch (error) {
      this.onOpenFailure(record, error);
      return entry(undefined, record);
    }
  }

  private factsOf(object: KubernetesObject): AccessKeyFacts | undefined {
    const parsed = parseAccessKey(object);
    if (!parsed.ok) return undefined;
    const { metadata, spec, status } = parsed.value;
    const lastUsedMs = status?.lastUsed?.time === undefined ? undefined : Date.parse(status.lastUsed.time);
    return {
      ref: { namespace: this.strings.shared(metadata.namespace ?? ""), name: metadata.name ?? "", uid: metadata.uid ?? "" },
      active: spec.state === "Active" && metadata.deletionTimestamp === undefined,
      networks: networksOf(spec.allowedSourceCIDRs),
      lastUsedMs,
    };
  }
}
